// Presets and loadDataset on small files written here in the layouts other repositories ship.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { writeMatV5 } from '../../src/data/mat-v5-writer.js';
import { writeH5 } from '../../src/data/hdf5.js';
import { transpose2d } from '../../src/data/ndarray.js';
import { loadDataset } from '../../src/data/load.js';
import { findPreset } from '../../src/data/presets/index.js';
import { Rng } from '../../src/util/rng.js';
import { tempDir } from './helpers.js';

function arrays(n: number, dI: number, dT: number, C: number, seed: number) {
  const rng = new Rng(seed);
  const I = new Float64Array(n * dI).map(() => rng.uniform());
  const T = new Float64Array(n * dT).map(() => (rng.uniform() < 0.3 ? 1 : 0));
  const L = new Uint8Array(n * C); for (let i = 0; i < n; i++) { L[i * C + rng.int(C)] = 1; if (rng.uniform() < 0.5) L[i * C + rng.int(C)] = 1; }
  return { I, T, L };
}

test('DCMH-style per-modality files (mirflickr25k-iall/yall/lall.mat) and FLICKR-25K.mat', async () => {
  const t = tempDir();
  try {
    const n = 50; const { I, T, L } = arrays(n, 8, 12, 24, 1);
    const d1 = join(t.dir, 'mir'); mkdirSync(d1);
    writeMatV5(join(d1, 'mirflickr25k-iall.mat'), [{ name: 'IAll', array: { shape: [n, 8], dtype: 'float64', data: I } }], { compress: true });
    writeMatV5(join(d1, 'mirflickr25k-yall.mat'), [{ name: 'YAll', array: { shape: [n, 12], dtype: 'float64', data: T }, sparse: true }]);
    writeMatV5(join(d1, 'mirflickr25k-lall.mat'), [{ name: 'LAll', array: { shape: [n, 24], dtype: 'uint8', data: L } }], { compress: true });
    const a = await loadDataset(`mirflickr25k:${d1}`, { seed: 2 });
    assert.equal(a.n, n); assert.equal(a.imageDim, 8); assert.equal(a.textDim, 12); assert.equal(a.numLabels, 24);
    assert.equal(a.labelNames[0], 'animals');
    assert.deepEqual([...a.image], [...Float32Array.from(I)]); assert.deepEqual([...a.labels], [...L]);
    assert.equal(a.split('query').length, 5); assert.equal(a.split('retrieval').length, 45);
    // The same folder found without the preset prefix.
    assert.deepEqual((await loadDataset(d1, { seed: 2 })).labels, a.labels);
    // FLICKR-25K.mat with features stored transposed (d × n) as some repositories do.
    const f = join(t.dir, 'FLICKR-25K.mat');
    writeMatV5(f, [{ name: 'IAll', array: { shape: [8, n], dtype: 'float64', data: transpose2d(I, n, 8) } },
      { name: 'YAll', array: { shape: [n, 12], dtype: 'float64', data: T } }, { name: 'LAll', array: { shape: [n, 24], dtype: 'uint8', data: L } }]);
    const b = await loadDataset(f);
    assert.deepEqual([...b.image], [...a.image]); assert.deepEqual(b.text, a.text);
  } finally { t.done(); }
});

test('nus-wide-tc10, ms-coco, iapr-tc12 by their usual key names (v5 and v7.3/HDF5 layouts)', async () => {
  const t = tempDir();
  try {
    const cases: [string, string, number][] = [['nus-wide-tc10', 'nus-wide-tc10.mat', 10], ['ms-coco', 'MS-COCO.mat', 80], ['iapr-tc12', 'IAPR-TC12.mat', 255]];
    for (const [preset, file, C] of cases) {
      const n = 40; const { I, T, L } = arrays(n, 6, 9, C, C);
      const dir = join(t.dir, preset); mkdirSync(dir);
      if (preset === 'ms-coco') {
        // v7.3: HDF5 datasets hold MATLAB's column-major bytes, i.e. shape [d, n].
        await writeH5(join(dir, file), [
          { name: 'IAll', array: { shape: [6, n], dtype: 'float64', data: transpose2d(I, n, 6) }, attrs: { MATLAB_class: 'double' } },
          { name: 'YAll', array: { shape: [9, n], dtype: 'float64', data: transpose2d(T, n, 9) }, attrs: { MATLAB_class: 'double' } },
          { name: 'LAll', array: { shape: [C, n], dtype: 'uint8', data: transpose2d(L, n, C) }, attrs: { MATLAB_class: 'logical' } }]);
      } else {
        writeMatV5(join(dir, file), [{ name: 'IAll', array: { shape: [n, 6], dtype: 'float64', data: I } }, { name: 'YAll', array: { shape: [n, 9], dtype: 'float64', data: T } },
          { name: 'LAll', array: { shape: [n, C], dtype: 'uint8', data: L }, logical: true }], { compress: true });
      }
      const ds = await findPreset(preset)!.load(dir, { seed: 1 });
      assert.equal(ds.n, n, preset); assert.equal(ds.numLabels, C, preset); assert.equal(ds.imageDim, 6); assert.equal(ds.textDim, 9);
      assert.deepEqual([...ds.labels], [...L], preset); assert.deepEqual([...ds.image], [...Float32Array.from(I)], preset);
      assert.equal(ds.split('query').length, 4); assert.equal(ds.split('train').length, 36);
    }
  } finally { t.done(); }
});

test('pre-split files (I_tr/T_tr/L_tr, I_te/…, I_db/…) keep their split', async () => {
  const t = tempDir();
  try {
    const mk = (n: number, s: number) => arrays(n, 4, 5, 3, s);
    const tr = mk(20, 1); const te = mk(5, 2); const db = mk(30, 3);
    const v = (name: string, shape: number[], data: Float64Array | Uint8Array) => ({ name, array: { shape, dtype: (data instanceof Uint8Array ? 'uint8' : 'float64') as 'uint8' | 'float64', data } });
    const f = join(t.dir, 'raw_mir.mat');
    writeMatV5(f, [v('I_tr', [20, 4], tr.I), v('T_tr', [20, 5], tr.T), v('L_tr', [20, 3], tr.L), v('I_te', [5, 4], te.I), v('T_te', [5, 5], te.T), v('L_te', [5, 3], te.L),
      v('I_db', [30, 4], db.I), v('T_db', [30, 5], db.T), v('L_db', [30, 3], db.L)]);
    const ds = await loadDataset(f);
    assert.equal(ds.n, 55); assert.deepEqual([...ds.split('query')], [20, 21, 22, 23, 24]);
    assert.equal(ds.split('train').length, 20); assert.equal(ds.split('retrieval').length, 30);
    await assert.rejects(loadDataset(join(t.dir, 'nothing.mat')), /neither a file\/folder nor a preset/);
    const bad = join(t.dir, 'odd.mat');
    writeMatV5(bad, [v('foo', [3, 3], new Float64Array(9))]);
    await assert.rejects(loadDataset(bad), /cannot find image\/text\/label arrays.*found odd\.mat: foo/);
  } finally { t.done(); }
});

test('JSONL and CSV manifests of raw items → features, vocabulary, labels', async () => {
  const t = tempDir(); const cache = tempDir(); // the feature cache may not sit in the manifest's folder
  try {
    const colours: [number, number, number][] = [[255, 0, 0], [0, 255, 0], [0, 0, 255], [250, 250, 0]];
    for (let i = 0; i < 4; i++) await sharp({ create: { width: 40, height: 30, channels: 3, background: { r: colours[i]![0], g: colours[i]![1], b: colours[i]![2] } } }).png().toFile(join(t.dir, `p${i}.png`));
    const lines = [0, 1, 2, 3].map((i) => JSON.stringify({ id: `x${i}`, image: `p${i}.png`, text: i % 2 ? ['sea', 'sky'] : 'a red car on the road', labels: i % 2 ? ['outdoor'] : ['car', 'outdoor'] }));
    writeFileSync(join(t.dir, 'items.jsonl'), lines.join('\n') + '\n');
    const ds = await loadDataset(join(t.dir, 'items.jsonl'), { vocabularyOut: join(t.dir, 'vocab.json'), weighting: 'binary', cacheDir: cache.dir });
    assert.equal(ds.n, 4); assert.deepEqual(ds.labelNames, ['car', 'outdoor']); assert.equal(ds.imageDim, 544);
    assert.deepEqual(ds.summary().labels, [{ name: 'car', count: 2 }, { name: 'outdoor', count: 4 }]);
    assert.ok(ds.textDim > 0);
    writeFileSync(join(t.dir, 'items.csv'), 'id,image,text,labels\nx0,p0.png,"red, car",car|outdoor\nx1,,"sea",outdoor\n');
    const c = await loadDataset(join(t.dir, 'items.csv'), { cacheDir: cache.dir });
    assert.equal(c.n, 2); assert.equal(c.hasImage![1], 0); assert.equal(c.hasImage![0], 1);
    writeFileSync(join(t.dir, 'bad.jsonl'), '{"id": 1, "labels": "car"}\n');
    await assert.rejects(loadDataset(join(t.dir, 'bad.jsonl')), /bad\.jsonl: line 1: "labels" must be an array/);
  } finally { t.done(); cache.done(); }
});
