// Loaders meeting files as other repositories ship them: arrays inside a MATLAB struct (v5 and
// v7.3) with samples as columns, wiki*-named files judged by content, .npy folders in the common
// layouts with split files, and items with one modality missing. Every refusal's message is checked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { zipSync } from 'fflate';
import { writeMatV5 } from '../../src/data/mat-v5-writer.js';
import { listMatV5, readMatV5 } from '../../src/data/mat-v5.js';
import { listMat, readMat } from '../../src/data/mat.js';
import { h5wasm } from '../../src/data/hdf5.js';
import { encodeNpy, writeNpy } from '../../src/data/npy.js';
import { listArrays } from '../../src/data/containers.js';
import { transpose2d, type NdArray } from '../../src/data/ndarray.js';
import { loadDataset } from '../../src/data/load.js';
import { repoRoot } from '../../src/data/presets/common.js';
import { validateDataset } from '../../src/data/validate.js';
import { unpairedMessage } from '../../src/cli/commands/dataset-for-methods.js';
import { Rng } from '../../src/util/rng.js';
import { tempDir } from './helpers.js';

const BIN = resolve(repoRoot(), 'bin', 'cmhash.js');
function cli(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

/** n items: image n×dI in [0,1), binary text n×dT, one class of C per item (every class used). */
function pairs(n: number, dI: number, dT: number, C: number, seed: number) {
  const rng = new Rng(seed);
  const I = new Float64Array(n * dI).map(() => rng.uniform());
  const T = new Float64Array(n * dT).map(() => (rng.uniform() < 0.4 ? 1 : 0));
  const cls = Array.from({ length: n }, (_, i) => i % C);
  const L = new Float64Array(n * C); cls.forEach((c, i) => { L[i * C + c] = 1; });
  return { I, T, L, cls };
}
const f64 = (shape: number[], data: Float64Array): NdArray => ({ shape, dtype: 'float64', data });
const f32 = (shape: number[], data: ArrayLike<number>): NdArray => ({ shape, dtype: 'float32', data: Float32Array.from(data) });

/** A v5 .mat holding struct `data` with X1 (d×n image), X2 (d×n text), Y (C×n labels) and a char field. */
function writeStructMat(path: string, n: number, compress: boolean) {
  const { I, T, L } = pairs(n, 16, 6, 4, 7);
  writeMatV5(path, [{
    name: 'data', fields: [
      { name: 'X1', array: f64([16, n], transpose2d(I, n, 16)) },
      { name: 'X2', array: f64([6, n], transpose2d(T, n, 6)) },
      { name: 'Y', array: f64([4, n], transpose2d(L, n, 4)) },
      { name: 'names', text: 'wiki' },
    ],
  }], { compress });
  return { I, T, L };
}

test('v5 struct: fields listed and read by path (data.X1), samples as columns detected from the labels', async () => {
  const t = tempDir();
  try {
    for (const compress of [false, true]) {
      const p = join(t.dir, `wiki_struct${compress ? '_z' : ''}.mat`); const n = 40;
      const { I, T, L } = writeStructMat(p, n, compress);
      assert.deepEqual(listMatV5(p).map((v) => `${v.name} ${v.dims.join('×')} ${v.class}`), ['data.X1 16×40 double', 'data.X2 6×40 double', 'data.Y 4×40 double', 'data.names 1×4 char']);
      assert.deepEqual((await listArrays(p)).map((a) => a.name), ['data.X1', 'data.X2', 'data.Y', 'data.names']);
      const only = readMatV5(p, { names: ['data.X2'] });
      assert.deepEqual([...only.keys()], ['data.X2']); assert.deepEqual(only.get('data.X2')!.array!.shape, [6, n]);
      assert.throws(() => readMatV5(p, { names: ['X2'] }), /no variable 'X2' \(found: data\.X1, data\.X2, data\.Y, data\.names\)/);
      const ds = await loadDataset(p, { keys: { image: 'data.X1', text: 'data.X2', labels: 'data.Y' } });
      assert.equal(ds.n, n); assert.equal(ds.imageDim, 16); assert.equal(ds.textDim, 6); assert.equal(ds.numLabels, 4);
      assert.deepEqual([...ds.image], [...Float32Array.from(I)]); assert.deepEqual([...ds.text], [...Float32Array.from(T)]);
      assert.deepEqual([...ds.labels], [...L]);
      assert.notEqual(ds.name, 'wikipedia'); // explicit keys win over the file name
      // the same with --transpose forced, and HDF5-style separators
      const forced = await loadDataset(p, { keys: { image: '/data/X1', text: 'data/X2', labels: 'data.Y' }, transpose: true });
      assert.deepEqual(forced.image, ds.image); assert.deepEqual(forced.labels, ds.labels);
    }
  } finally { t.done(); }
});

test('cmhash data info: a struct .mat with --image-key data.X1 --text-key data.X2 --label-key data.Y, and its refusals', () => {
  const t = tempDir();
  try {
    const p = join(t.dir, 'wiki.mat'); writeStructMat(p, 40, true);
    const ok = cli('data', 'info', p, '--image-key', 'data.X1', '--text-key', 'data.X2', '--label-key', 'data.Y');
    assert.equal(ok.code, 0, ok.err);
    assert.match(ok.out, /items 40 {3}image_dim 16 {3}text_dim 6 {3}labels 4/);
    assert.match(ok.out, /splits query=4 {2}retrieval=36 {2}train=36/);
    const j = cli('data', 'info', p, '--image-key', 'data.X1', '--text-key', 'data.X2', '--label-key', 'data.Y', '--transpose', '--json');
    assert.equal(j.code, 0, j.err); assert.equal(JSON.parse(j.out).items, 40);
    const found = 'found data.X1 [16×40 double], data.X2 [6×40 double], data.Y [4×40 double], data.names [1×4 char]';
    const missing = cli('data', 'info', p, '--image-key', 'X2', '--text-key', 'data.X2', '--label-key', 'data.Y');
    assert.notEqual(missing.code, 0);
    assert.ok(missing.err.includes(`--image-key X2: no such variable in wiki.mat; ${found}`), missing.err);
    const struct = cli('data', 'info', p, '--image-key', 'data', '--label-key', 'data.Y');
    assert.ok(struct.err.includes('--image-key data: a struct, not an array (wiki.mat); name one of its fields: data.X1 [16×40 double], data.X2 [6×40 double], data.Y [4×40 double], data.names [1×4 char]'), struct.err);
    const chars = cli('data', 'info', p, '--text-key', 'data.names', '--image-key', 'data.X1', '--label-key', 'data.Y');
    assert.ok(chars.err.includes(`--text-key data.names: 'data.names' is a char [1×4], not a numeric array (wiki.mat); ${found}`), chars.err);
    const none = cli('data', 'info', p);
    assert.ok(none.err.includes('cannot find image/text/label arrays for wiki.mat;') && none.err.includes('found wiki.mat: data.X1, data.X2, data.Y, data.names. Name them with keys'), none.err);
    const wrongLabels = cli('data', 'info', p, '--image-key', 'data.X1', '--label-key', 'data.names');
    assert.ok(wrongLabels.err.includes("--label-key data.names: 'data.names' is a char [1×4]"), wrongLabels.err);
  } finally { t.done(); }
});

test('orientation refusals name the shapes: --transpose against the labels, and labels sharing no side with the features', async () => {
  const t = tempDir();
  try {
    const n = 30; const { I, T, L } = pairs(n, 8, 5, 3, 2);
    const p = join(t.dir, 'rows.mat');
    writeMatV5(p, [{ name: 'IAll', array: f64([n, 8], I) }, { name: 'YAll', array: f64([n, 5], T) }, { name: 'LAll', array: f64([n, 3], L) }]);
    await assert.rejects(loadDataset(p, { transpose: true }), (e: Error) => e.message === `--transpose (items as columns): ${p}: 'IAll' has shape [30, 8], so 8 items, but the labels ${p}: 'LAll' are [30, 3]`);
    const q = join(t.dir, 'mismatch.mat');
    writeMatV5(q, [{ name: 'IAll', array: f64([n - 1, 8], I.subarray(0, (n - 1) * 8)) }, { name: 'LAll', array: f64([n, 3], L) }]);
    await assert.rejects(loadDataset(q), (e: Error) => e.message === `labels ${q}: 'LAll' [30, 3] share no side with ${q}: 'IAll' [29, 8]: cannot tell which axis holds the items; check --image-key/--text-key/--label-key`);
    const r = join(t.dir, 'wrongcols.mat');
    writeMatV5(r, [{ name: 'IAll', array: f64([8, n], transpose2d(I, n, 8)) }, { name: 'YAll', array: f64([n, 5], T) }, { name: 'LAll', array: f64([3, n], transpose2d(L, n, 3)) }]);
    await assert.rejects(loadDataset(r, { transpose: true }), (e: Error) => e.message === `${r}: 'YAll': --transpose (items as columns): expected 30 columns, one per item, found shape [30, 5]`);
    const auto = await loadDataset(r); // mixed orientations are detected per array
    assert.deepEqual([...auto.image], [...Float32Array.from(I)]); assert.deepEqual([...auto.labels], [...L]);
  } finally { t.done(); }
});

test('v7.3 struct (HDF5 group) and a generic .h5 group: data.X1 ↔ /data/X1', async () => {
  const t = tempDir();
  try {
    const n = 24; const { I, T, L } = pairs(n, 10, 4, 3, 5);
    const h5 = await h5wasm();
    const p = join(t.dir, 'struct73.mat');
    const f = new h5.File(p, 'w');
    const g = f.create_group('data'); g.create_attribute('MATLAB_class', 'struct');
    // MATLAB writes a column-major m×n array as HDF5 [n, m]: X1 (10×n in MATLAB) is stored [n, 10].
    for (const [k, a, d] of [['X1', I, 10], ['X2', T, 4], ['Y', L, 3]] as const) {
      const ds = g.create_dataset({ name: k, data: Float64Array.from(a), shape: [n, d], dtype: '<d' }); ds.create_attribute('MATLAB_class', 'double');
    }
    f.close();
    assert.deepEqual((await listMat(p)).map((v) => `${v.name} ${v.dims.join('×')}`), ['data.X1 10×24', 'data.X2 4×24', 'data.Y 3×24']);
    const vars = await readMat(p, ['data.X2']);
    assert.deepEqual(vars.get('data.X2')!.dims, [4, n]);
    await assert.rejects(readMat(p, ['X2']), /no variable 'X2' \(found: data\.X1, data\.X2, data\.Y\)/);
    const ds = await loadDataset(p, { keys: { image: 'data.X1', text: 'data.X2', labels: 'data.Y' } });
    assert.deepEqual([...ds.image], [...Float32Array.from(I)]); assert.deepEqual([...ds.labels], [...L]);
    // a generic .h5 (C order, samples as rows): group paths by either separator
    const q = join(t.dir, 'feats.h5');
    const h = new h5.File(q, 'w'); const grp = h.create_group('data');
    grp.create_dataset({ name: 'img', data: Float32Array.from(I), shape: [n, 10], dtype: '<f' });
    grp.create_dataset({ name: 'lab', data: Uint8Array.from(L), shape: [n, 3], dtype: '<B' });
    h.close();
    assert.deepEqual((await listArrays(q)).map((a) => a.name), ['data/img', 'data/lab']);
    const d2 = await loadDataset(q, { keys: { image: 'data.img', labels: '/data/lab' } });
    assert.equal(d2.n, n); assert.equal(d2.textDim, 0); assert.deepEqual([...d2.image], [...Float32Array.from(I)]);
    await assert.rejects(loadDataset(q, { keys: { image: 'data.nope', labels: 'data/lab' } }), (e: Error) => e.message === '--image-key data.nope: no such variable in feats.h5; found data/img [24×10 float32], data/lab [24×3 uint8]');
  } finally { t.done(); }
});

test('a wiki*-named file goes to the Wikipedia preset only by content and without keys; .npz is never read as .mat', async () => {
  const t = tempDir();
  try {
    const n = 30; const { I, T, L } = pairs(n, 8, 5, 3, 9);
    const npz = join(t.dir, 'wiki_roph.npz');
    writeFileSync(npz, zipSync({ 'image.npy': encodeNpy(f32([n, 8], I)), 'text.npy': encodeNpy(f32([n, 5], T)), 'labels.npy': encodeNpy({ shape: [n, 3], dtype: 'uint8', data: Uint8Array.from(L) }) }));
    const a = await loadDataset(npz);
    assert.equal(a.name, 'wiki_roph.npz'); assert.equal(a.n, n); assert.deepEqual([...a.labels], [...L]);
    const r = cli('data', 'info', npz);
    assert.equal(r.code, 0, r.err); assert.match(r.out, /^wiki_roph\.npz {2}\(/); assert.match(r.out, /items 30 {3}image_dim 8 {3}text_dim 5 {3}labels 3/);
    // keys named: the keyed loader even when the content is the Wikipedia layout
    const split = join(t.dir, 'wiki_split.npz'); const nTr = 20;
    const part = (a2: Float64Array, d: number, lo: number, hi: number) => encodeNpy(f32([hi - lo, d], a2.subarray(lo * d, hi * d)));
    writeFileSync(split, zipSync({ 'I_tr.npy': part(I, 8, 0, nTr), 'I_te.npy': part(I, 8, nTr, n), 'T_tr.npy': part(T, 5, 0, nTr), 'T_te.npy': part(T, 5, nTr, n),
      'L_tr.npy': part(L, 3, 0, nTr), 'L_te.npy': part(L, 3, nTr, n), 'allI.npy': encodeNpy(f32([n, 8], I)), 'allL.npy': encodeNpy(f32([n, 3], L)) }));
    const w = await loadDataset(split); // content matches: Wikipedia's fixed split (train = retrieval)
    assert.equal(w.name, 'wikipedia'); assert.equal(w.split('train').length, nTr); assert.equal(w.split('query').length, n - nTr);
    assert.deepEqual([...w.image], [...Float32Array.from(I)]);
    const k = await loadDataset(split, { keys: { image: 'allI', labels: 'allL' } });
    assert.equal(k.name, 'wiki_split.npz'); assert.equal(k.n, n); assert.equal(k.textDim, 0);
    // a wiki-named .mat without the Wikipedia variables goes to the keyed loader
    const m = join(t.dir, 'wiki_other.mat');
    writeMatV5(m, [{ name: 'IAll', array: f64([n, 8], I) }, { name: 'YAll', array: f64([n, 5], T) }, { name: 'LAll', array: f64([n, 3], L) }]);
    const b = await loadDataset(m); assert.equal(b.name, 'wiki_other.mat'); assert.equal(b.n, n);
    // a damaged .npz names the zip, not MATLAB
    const bad = join(t.dir, 'wiki_bad.npz'); writeFileSync(bad, 'not a zip');
    await assert.rejects(loadDataset(bad), (e: Error) => e.message === `${bad}: not an .npz file (wrong magic; expected a zip archive 'PK')`);
  } finally { t.done(); }
});

test('.npy folders: image/text/labels, IAll/YAll/LAll (any case), X/Y/L, I_tr…/I_te…/I_db, split files', async () => {
  const t = tempDir();
  try {
    const n = 50; const { I, T, L, cls } = pairs(n, 6, 4, 5, 11);
    const folder = (name: string, files: Record<string, NdArray>) => {
      const d = join(t.dir, name); mkdirSync(d);
      for (const [f, a] of Object.entries(files)) writeNpy(join(d, f), a);
      return d;
    };
    const img = f32([n, 6], I); const txt = f32([n, 4], T); const lab = { shape: [n, 5], dtype: 'uint8' as const, data: Uint8Array.from(L) };
    const d1 = folder('plain', { 'image.npy': img, 'text.npy': txt, 'labels.npy': lab });
    const a = await loadDataset(d1);
    assert.equal(a.name, 'plain'); assert.equal(a.n, n); assert.deepEqual([...a.image], [...img.data]); assert.deepEqual([...a.labels], [...L]);
    assert.equal(a.split('query').length, 5); assert.equal(a.split('retrieval').length, 45);
    const r = cli('data', 'info', d1);
    assert.equal(r.code, 0, r.err); assert.match(r.out, /items 50 {3}image_dim 6 {3}text_dim 4 {3}labels 5/);
    const d2 = folder('dcmh', { 'IALL.NPY': f32([6, n], transpose2d(Float32Array.from(I), n, 6)), 'YAll.npy': txt, 'lall.npy': { shape: [n], dtype: 'int32', data: Int32Array.from(cls, (c) => c + 1) } });
    const b = await loadDataset(d2);
    assert.deepEqual(b.image, a.image); assert.deepEqual([...b.labels], [...L]); // 1-based class indices
    const d3 = folder('xyl', { 'X.npy': img, 'Y.npy': txt, 'L.npy': lab });
    assert.deepEqual((await loadDataset(d3)).text, a.text);
    // already split: tr, te, db rows in that order
    const rows = (arr: NdArray, lo: number, hi: number): NdArray => { const d = arr.shape[1]!; return { shape: [hi - lo, d], dtype: arr.dtype, data: (arr.data as Float32Array).slice(lo * d, hi * d) }; };
    const d4 = folder('presplit', { 'I_tr.npy': rows(img, 0, 30), 'T_tr.npy': rows(txt, 0, 30), 'L_tr.npy': rows(lab, 0, 30), 'I_te.npy': rows(img, 30, 40), 'T_te.npy': rows(txt, 30, 40),
      'L_te.npy': rows(lab, 30, 40), 'I_db.npy': rows(img, 40, 50), 'T_db.npy': rows(txt, 40, 50), 'L_db.npy': rows(lab, 40, 50) });
    const c = await loadDataset(d4);
    assert.equal(c.split('train').length, 30); assert.equal(c.split('query').length, 10); assert.equal(c.split('retrieval').length, 10);
    assert.deepEqual(c.image, a.image);
    // split files: JSON rows, or codes 0 = train + retrieval, 1 = query, 2 = retrieval only
    writeFileSync(join(d1, 'splits.json'), JSON.stringify({ train: [0, 1, 2], query: [3, 4], retrieval: [0, 1, 2, 5, 6] }));
    const s = await loadDataset(d1);
    assert.deepEqual([...s.split('train')], [0, 1, 2]); assert.deepEqual([...s.split('query')], [3, 4]); assert.deepEqual([...s.split('retrieval')], [0, 1, 2, 5, 6]);
    const codes = new Int32Array(n).map((_, i) => (i < 10 ? 1 : i < 40 ? 0 : 2));
    writeNpy(join(d3, 'split.npy'), { shape: [n], dtype: 'int32', data: codes });
    const x = await loadDataset(d3);
    assert.equal(x.split('query').length, 10); assert.equal(x.split('train').length, 30); assert.equal(x.split('retrieval').length, 40);
    assert.equal(x.imageDim, 6); // split.npy is not taken for an array
  } finally { t.done(); }
});

test('.npy folder refusals: bad split codes, rows out of range, two splits, unknown layout', async () => {
  const t = tempDir();
  try {
    const n = 20; const { I, L } = pairs(n, 3, 2, 2, 3);
    const d = join(t.dir, 'f'); mkdirSync(d);
    writeNpy(join(d, 'image.npy'), f32([n, 3], I)); writeNpy(join(d, 'labels.npy'), f32([n, 2], L));
    writeNpy(join(d, 'split.npy'), { shape: [n], dtype: 'int32', data: new Int32Array(n).fill(3) });
    await assert.rejects(loadDataset(d), (e: Error) => e.message === `${join(d, 'split.npy')}: split code 3 at row 0; codes are 0 = train and retrieval, 1 = query, 2 = retrieval only`);
    writeNpy(join(d, 'split.npy'), { shape: [n - 1], dtype: 'int32', data: new Int32Array(n - 1) });
    await assert.rejects(loadDataset(d), (e: Error) => e.message === `${join(d, 'split.npy')}: expected 20 split codes (one per row), found shape [19]`);
    const e2 = join(t.dir, 'g'); mkdirSync(e2);
    writeNpy(join(e2, 'X.npy'), f32([n, 3], I)); writeNpy(join(e2, 'L.npy'), f32([n, 2], L));
    writeFileSync(join(e2, 'splits.json'), JSON.stringify({ train: [0, 25], query: [1] }));
    await assert.rejects(loadDataset(e2), (e: Error) => e.message === `${join(e2, 'splits.json')}: split 'train' has 25 at position 1; rows are integers in [0, 20)`);
    writeFileSync(join(e2, 'splits.json'), '[1, 2]');
    await assert.rejects(loadDataset(e2), (e: Error) => e.message === `${join(e2, 'splits.json')}: expected an object {"train": [rows], "query": [rows], "retrieval": [rows]}`);
    const p = join(t.dir, 'p'); mkdirSync(p);
    for (const k of ['I_tr', 'L_tr', 'I_te', 'L_te']) writeNpy(join(p, `${k}.npy`), f32([4, 2], [1, 0, 0, 1, 1, 0, 0, 1]));
    writeFileSync(join(p, 'splits.json'), '{"train": [0]}');
    await assert.rejects(loadDataset(p), (e: Error) => e.message === `${p}: splits.json and I_tr/I_te-style arrays both give a split; keep one`);
    const u = join(t.dir, 'u'); mkdirSync(u); writeNpy(join(u, 'features.npy'), f32([n, 3], I));
    const r = cli('data', 'info', u);
    assert.notEqual(r.code, 0);
    assert.ok(r.err.includes(`${u}: no known dataset layout (looked for the Wikipedia/MIRFlickr .npy folders, a .npy folder with image/text/labels, IAll/YAll/LAll, X/Y/L or I_tr/T_tr/L_tr + I_te/T_te/L_te arrays, *-iall/yall/lall.mat files, a single IAll/YAll/LAll .mat/.h5, or a .jsonl/.csv manifest; found features.npy)`), r.err);
    // naming the arrays makes any folder of .npy files loadable
    writeNpy(join(u, 'classes.npy'), f32([n, 2], L));
    assert.equal((await loadDataset(u, { keys: { image: 'features', labels: 'classes' } })).n, n);
  } finally { t.done(); }
});

test('items with one modality missing: NaN rows and has_image/has_text masks are kept, reported, and refused for training', async () => {
  const t = tempDir();
  try {
    const n = 40; const { I, T, L } = pairs(n, 6, 4, 4, 13);
    const Tn = Float32Array.from(T); for (const r of [3, 7, 8]) Tn.fill(NaN, r * 4, r * 4 + 4);
    const d = join(t.dir, 'half'); mkdirSync(d);
    writeNpy(join(d, 'image.npy'), f32([n, 6], I)); writeNpy(join(d, 'text.npy'), { shape: [n, 4], dtype: 'float32', data: Tn }); writeNpy(join(d, 'labels.npy'), f32([n, 4], L));
    writeNpy(join(d, 'has_image.npy'), { shape: [n], dtype: 'uint8', data: Uint8Array.from({ length: n }, (_, i) => (i === 5 || i === 7 ? 0 : 1)) });
    const ds = await loadDataset(d);
    assert.deepEqual([...ds.rowsWithText()].length, n - 3); assert.deepEqual([...ds.rowsWithImage()].length, n - 2);
    assert.equal(ds.rowsPaired().length, n - 4); // row 7 lacks both
    assert.deepEqual([...ds.textRow(3)], [0, 0, 0, 0]); assert.deepEqual([...ds.imageRow(5)], [0, 0, 0, 0, 0, 0]);
    assert.deepEqual([...ds.textRow(4)], [...Float32Array.from(T.subarray(16, 20))]);
    const rep = validateDataset(ds);
    assert.equal(rep.rowsWithoutText, 3); assert.equal(rep.rowsWithoutImage, 2);
    assert.ok(rep.warnings.includes('3 of 40 item(s) have no text features (use rowsWithText() / rowsPaired() for image↔text work)'));
    const r = cli('data', 'info', d);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /items 40 {3}image_dim 6 {3}text_dim 4 {3}labels 4 {3}with image 38 {3}with text 37/);
    assert.match(r.out, /warning: 2 of 40 item\(s\) have no image features/);
    assert.equal(unpairedMessage(ds), '4 of the 40 rows in the query/retrieval/train splits lack a modality (2 have no image features, 3 have no text features); cross-modal hashing methods train on and index image–text pairs, so every row they use needs both — 36 of 40 rows have both; exclude those rows (drop them from the file or mark them in a split file that leaves them out)');
    const train = cli('train', '--method', 'linear', '--data', d, '--bits', '16');
    assert.notEqual(train.code, 0);
    assert.ok(train.err.includes(`${d}: 4 of the 40 rows in the query/retrieval/train splits lack a modality (2 have no image features, 3 have no text features)`), train.err);
    // a split file that leaves them out makes the same folder trainable
    const paired = [...ds.rowsPaired()];
    writeFileSync(join(d, 'splits.json'), JSON.stringify({ query: paired.slice(0, 6), retrieval: paired.slice(6), train: paired.slice(6) }));
    const kept = await loadDataset(d);
    assert.equal(unpairedMessage(kept), null);
    // a row partly NaN is still bad data, not a missing modality
    const Tp = Float32Array.from(T); Tp[9 * 4 + 1] = NaN;
    writeNpy(join(d, 'text.npy'), { shape: [n, 4], dtype: 'float32', data: Tp });
    await assert.rejects(loadDataset(d), /text features contain 1 non-finite value\(s\); first NaN at row 9 \(id 9\), column 1/);
    writeNpy(join(d, 'has_image.npy'), { shape: [n - 1], dtype: 'uint8', data: new Uint8Array(n - 1) });
    writeNpy(join(d, 'text.npy'), f32([n, 4], T));
    await assert.rejects(loadDataset(d), (e: Error) => e.message === `${join(d, 'has_image.npy')}: 'has_image': presence mask has 39 values for 40 items`);
  } finally { t.done(); }
});

test('cmhash train takes the same keys: a struct .mat with samples as columns trains', () => {
  const t = tempDir();
  try {
    const p = join(t.dir, 'wiki.mat'); writeStructMat(p, 60, false);
    const keys = ['--image-key', 'data.X1', '--text-key', 'data.X2', '--label-key', 'data.Y'];
    const r = cli('train', '--data', p, ...keys, '--method', 'linear', '--bits', '16', '--baseline', 'none', '--json');
    assert.equal(r.code, 0, r.err);
    const rec = JSON.parse(r.out.trim().split('\n')[0]!);
    assert.equal(rec.method, 'linear');
    assert.ok(rec.map_all.i2t > 0 && rec.map_all.t2i > 0, r.out);
    const bad = cli('train', '--data', p, '--image-key', 'X1', '--text-key', 'data.X2', '--label-key', 'data.Y', '--method', 'linear', '--bits', '16');
    assert.equal(bad.code, 2, bad.err);
    assert.match(bad.err, /--image-key X1: no such variable/);
  } finally { t.done(); }
});
