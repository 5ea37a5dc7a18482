// Hostile and broken inputs: every loader must answer with a clear CmhashError — no crash, no
// hang, no allocation beyond what the file can hold.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { zipSync } from 'fflate';
import { CmhashError } from '../../src/util/errors.js';
import { encodeNpy, parseNpy, readNpz } from '../../src/data/npy.js';
import { encodeMatV5 } from '../../src/data/mat-v5-writer.js';
import { parseMatV5 } from '../../src/data/mat-v5.js';
import { readMat } from '../../src/data/mat.js';
import { readH5 } from '../../src/data/hdf5.js';
import { Dataset } from '../../src/data/dataset.js';
import { Rng } from '../../src/util/rng.js';
import { tempDir } from './helpers.js';

const isClear = (e: unknown) => e instanceof CmhashError && e.message.length > 10;

function matBytes(compress: boolean): Uint8Array {
  const data = new Float64Array(60).map((_, i) => i * 0.5);
  return encodeMatV5([{ name: 'IAll', array: { shape: [10, 6], dtype: 'float64', data } }, { name: 'LAll', array: { shape: [10, 2], dtype: 'uint8', data: new Uint8Array(20).fill(1) } }], { compress });
}

test('truncated files: every prefix of .npy and .mat fails cleanly', () => {
  const npy = encodeNpy({ shape: [4, 5], dtype: 'float32', data: new Float32Array(20) });
  for (let k = 0; k < npy.length; k += 3) assert.throws(() => parseNpy(npy.subarray(0, k), 'x.npy'), isClear);
  for (const compress of [false, true]) {
    const m = matBytes(compress);
    for (let k = 0; k < m.length - 1; k += 5) {
      try { parseMatV5(m.subarray(0, k), 'x.mat'); } catch (e) { assert.ok(isClear(e), `prefix ${k}: ${(e as Error).stack}`); continue; }
      // A cut exactly between variables is a valid file with fewer variables.
    }
  }
});

test('wrong magic is named', () => {
  assert.throws(() => parseNpy(new TextEncoder().encode('hello world, not numpy'), 'x.npy'), /x\.npy: not a \.npy file \(wrong magic/);
  assert.throws(() => parseMatV5(new Uint8Array(200), 'x.mat'), /x\.mat: not a MATLAB v5 \.mat file \(wrong magic/);
});

test('absurd dimensions are refused before allocating', () => {
  const h = "{'descr': '<f4', 'fortran_order': False, 'shape': (1099511627776,), }"; // 2^40
  const head = new TextEncoder().encode(h.padEnd(117, ' ') + '\n');
  const b = new Uint8Array(10 + head.length + 16);
  b.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]); new DataView(b.buffer).setUint16(8, head.length, true); b.set(head, 10);
  assert.throws(() => parseNpy(b, 'big.npy'), /big\.npy: shape \[1099511627776\] claims 1099511627776 elements/);
  const h2 = new TextEncoder().encode("{'descr': '<f4', 'fortran_order': False, 'shape': (10000, 10000), }".padEnd(117, ' ') + '\n');
  const b2 = new Uint8Array(10 + h2.length + 16);
  b2.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]); new DataView(b2.buffer).setUint16(8, h2.length, true); b2.set(h2, 10);
  assert.throws(() => parseNpy(b2, 'b2.npy'), /needs 400000000 bytes, file has 16/);
  // .mat: patch the dims of an uncompressed matrix to 2^20 × 2^20.
  const m = matBytes(false);
  const dv = new DataView(m.buffer, m.byteOffset);
  // header 128 + matrix tag 8 + flags (8 tag + 8) → dims tag at 152, values at 160
  dv.setInt32(160, 1 << 20, true); dv.setInt32(164, 1 << 20, true);
  assert.throws(() => parseMatV5(m, 'dims.mat'), /dims\.mat: variable 'IAll': shape \[1048576, 1048576\] claims/);
  dv.setInt32(160, 1000, true); dv.setInt32(164, 1000, true);
  assert.throws(() => parseMatV5(m, 'dims.mat'), /dims imply 1000000 values, data element holds 60/);
  // Compressed element whose tag claims more bytes than the file holds.
  const c = matBytes(true); new DataView(c.buffer, c.byteOffset).setUint32(132, 0x7fffffff, true);
  assert.throws(() => parseMatV5(c, 'c.mat'), /truncated variable #1: element claims 2147483647 bytes/);
});

test('decompression bombs are bounded', () => {
  // A compressed element that inflates to 8 MiB of zeros; with a 1 MiB cap it must refuse.
  const inner = new Uint8Array(8 << 20);
  const z = deflateSync(inner);
  const head = encodeMatV5([]);
  const tag = new DataView(new ArrayBuffer(8)); tag.setUint32(0, 15, true); tag.setUint32(4, z.length, true);
  const bytes = new Uint8Array(head.length + 8 + z.length); bytes.set(head); bytes.set(new Uint8Array(tag.buffer), head.length); bytes.set(z, head.length + 8);
  assert.throws(() => parseMatV5(bytes, 'bomb.mat', { maxBytes: 1 << 20 }), /decompresses to more than 1048576 bytes|corrupt/);
  const t = tempDir();
  try {
    const p = join(t.dir, 'bomb.npz');
    // A small archive whose headers claim a 4 GiB member (local header +22, central directory +24).
    const z = zipSync({ 'x.npy': [new Uint8Array(1000), { level: 9 }] });
    const dv = new DataView(z.buffer, z.byteOffset);
    dv.setUint32(22, 0xfffffff0, true);
    for (let i = 0; i + 4 <= z.length; i++) if (dv.getUint32(i, true) === 0x02014b50) dv.setUint32(i + 24, 0xfffffff0, true);
    writeFileSync(p, z);
    assert.throws(() => readNpz(p), /member x\.npy claims 4294967280 bytes uncompressed, over the/);
  } finally { t.done(); }
});

test('random byte corruption never crashes or hangs the v5 reader', () => {
  const rng = new Rng(5);
  for (const compress of [false, true]) {
    const base = matBytes(compress);
    for (let trial = 0; trial < 300; trial++) {
      const b = base.slice();
      const flips = 1 + rng.int(4);
      for (let f = 0; f < flips; f++) b[128 + rng.int(b.length - 128)] = rng.int(256);
      try { parseMatV5(b, 'fuzz.mat'); } catch (e) { assert.ok(isClear(e), `trial ${trial}: ${(e as Error).stack}`); }
    }
  }
});

test('non-HDF5 and truncated HDF5 files give clear errors', async () => {
  const t = tempDir();
  try {
    const p = join(t.dir, 'x.h5'); writeFileSync(p, 'definitely not hdf5');
    await assert.rejects(readH5(p, ['a']), /not an HDF5 file/);
    const m = join(t.dir, 'x.mat'); writeFileSync(m, new Uint8Array(600));
    await assert.rejects(readMat(m), /not a MATLAB \.mat file \(wrong magic/);
    await assert.rejects(readMat(join(t.dir, 'missing.mat')), /no such file/);
  } finally { t.done(); }
});

test('NaN/Inf features are rejected with row and column, or reported', () => {
  const image = new Float32Array(6).fill(1); image[4] = Number.NaN;
  const init = { name: 'nan', image, imageDim: 2, text: new Float32Array(3).fill(0), textDim: 1, labels: new Uint8Array([1, 0, 1]), labelNames: ['a'], ids: ['p', 'q', 'r'] };
  assert.throws(() => new Dataset(init), /image features contain 1 non-finite value\(s\); first NaN at row 2 \(id r\), column 0/);
  const ds = new Dataset({ ...init, nonFinite: 'report' });
  assert.deepEqual(ds.nonFinite[0], { modality: 'image', row: 2, col: 0, value: Number.NaN, count: 1 });
  const t2 = new Float32Array(3); t2[1] = Infinity;
  assert.throws(() => new Dataset({ ...init, image: new Float32Array(6), text: t2 }), /text features contain 1 non-finite value\(s\); first Infinity at row 1 \(id q\), column 0/);
  assert.throws(() => new Dataset({ ...init, labels: new Uint8Array([1, 2, 0]) }), /labels must be 0\/1, found 2 at row 1/);
  assert.throws(() => new Dataset({ ...init, imageDim: 3 }), /image features have 6 values, expected 3 items × 3 = 9/);
});
