import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { encodeNpy, parseNpy, readNpz, writeNpy, readNpy } from '../../src/data/npy.js';
import { encodeMatV5, writeMatV5 } from '../../src/data/mat-v5-writer.js';
import { parseMatV5, readMatV5, listMatV5 } from '../../src/data/mat-v5.js';
import { readMat, listMat } from '../../src/data/mat.js';
import { readH5, writeH5 } from '../../src/data/hdf5.js';
import { fortranToC } from '../../src/data/ndarray.js';
import { tempDir } from './helpers.js';

/** Hand-built .npy bytes with the given header dict and raw payload. */
function npyBytes(header: string, payload: Uint8Array): Uint8Array {
  let h = header; const total = 10 + h.length + 1; h += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + h.length + payload.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]); new DataView(out.buffer).setUint16(8, h.length, true);
  out.set(new TextEncoder().encode(h), 10); out.set(payload, 10 + h.length);
  return out;
}

test('npy: big-endian, Fortran order and every supported dtype', () => {
  // 2×3 float64 big-endian, values 1..6 in C order.
  const be = new DataView(new ArrayBuffer(48)); [1, 2, 3, 4, 5, 6].forEach((v, i) => be.setFloat64(8 * i, v, false));
  const a = parseNpy(npyBytes("{'descr': '>f8', 'fortran_order': False, 'shape': (2, 3), }", new Uint8Array(be.buffer)), 'be');
  assert.deepEqual([...a.data], [1, 2, 3, 4, 5, 6]); assert.deepEqual(a.shape, [2, 3]);
  // Fortran order: memory holds columns [1,4],[2,5],[3,6].
  const f = new Int16Array([1, 4, 2, 5, 3, 6]);
  const b = parseNpy(npyBytes("{'descr': '<i2', 'fortran_order': True, 'shape': (2, 3), }", new Uint8Array(f.buffer)), 'f');
  assert.deepEqual([...b.data], [1, 2, 3, 4, 5, 6]);
  const bools = parseNpy(npyBytes("{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }", new Uint8Array([0, 1, 1])), 'b');
  assert.equal(bools.dtype, 'bool'); assert.deepEqual([...bools.data], [0, 1, 1]);
  for (const [dtype, Ctor] of [['float32', Float32Array], ['uint8', Uint8Array], ['int8', Int8Array], ['uint16', Uint16Array], ['int32', Int32Array], ['uint32', Uint32Array], ['float64', Float64Array]] as const) {
    const data = new (Ctor as any)([1, 2, 3, 4, 5, 6]);
    const r = parseNpy(encodeNpy({ shape: [3, 2], dtype, data }), dtype);
    assert.equal(r.dtype, dtype); assert.deepEqual(r.shape, [3, 2]); assert.deepEqual([...r.data], [1, 2, 3, 4, 5, 6]);
  }
});

test('npz: members by name, stored and deflated', () => {
  const t = tempDir();
  try {
    const x = encodeNpy({ shape: [2, 2], dtype: 'float32', data: new Float32Array([1, 2, 3, 4]) });
    const y = encodeNpy({ shape: [2], dtype: 'uint8', data: new Uint8Array([0, 1]) });
    const p = join(t.dir, 'a.npz');
    writeFileSync(p, zipSync({ 'x.npy': [x, { level: 6 }], 'y.npy': [y, { level: 0 }] }));
    const m = readNpz(p);
    assert.deepEqual([...m.get('x')!.data], [1, 2, 3, 4]); assert.deepEqual([...m.get('y')!.data], [0, 1]);
    assert.throws(() => readNpz(p, ['z']), /no array 'z'.*found: x, y/);
    writeNpy(join(t.dir, 'w.npy'), { shape: [1, 3], dtype: 'int32', data: new Int32Array([7, 8, 9]) });
    assert.deepEqual([...readNpy(join(t.dir, 'w.npy')).data], [7, 8, 9]);
  } finally { t.done(); }
});

test('mat v5: our writer ↔ reader, compressed or not, both endiannesses, logical, sparse, char, shrunk storage', () => {
  const A = { shape: [3, 2], dtype: 'float64' as const, data: new Float64Array([1.5, -2, 3, 4, 5, 6.25]) };
  const S = { shape: [2, 3], dtype: 'float64' as const, data: new Float64Array([0, 2, 0, 1, 0, 3]) };
  const Lg = { shape: [2, 2], dtype: 'uint8' as const, data: new Uint8Array([1, 0, 0, 1]) };
  const I = { shape: [2, 2], dtype: 'float64' as const, data: new Float64Array([0, 7, 255, 1]) };
  const F = { shape: [1, 4], dtype: 'float32' as const, data: new Float32Array([0.5, 1, 2, 3]) };
  for (const compress of [false, true]) for (const bigEndian of [false, true]) {
    const bytes = encodeMatV5([{ name: 'A', array: A }, { name: 'S', array: S, sparse: true }, { name: 'L', array: Lg, logical: true }, { name: 'I', array: I }, { name: 'F', array: F }, { name: 'names', text: 'hello' }],
      { compress, bigEndian, storeAs: { I: 'uint8' } });
    const { vars, infos } = parseMatV5(bytes, 'mem');
    assert.deepEqual(infos.map((i) => i.name), ['A', 'S', 'L', 'I', 'F', 'names']);
    assert.deepEqual(vars.get('A')!.array!.shape, [3, 2]); assert.deepEqual([...vars.get('A')!.array!.data], [...A.data]);
    assert.equal(vars.get('S')!.class, 'sparse'); assert.deepEqual([...vars.get('S')!.array!.data], [0, 2, 0, 1, 0, 3]);
    assert.equal(vars.get('L')!.class, 'logical'); assert.deepEqual([...vars.get('L')!.array!.data], [1, 0, 0, 1]);
    assert.equal(vars.get('I')!.array!.dtype, 'float64'); assert.deepEqual([...vars.get('I')!.array!.data], [0, 7, 255, 1]);
    assert.equal(vars.get('F')!.array!.dtype, 'float32'); assert.deepEqual([...vars.get('F')!.array!.data], [0.5, 1, 2, 3]);
    assert.deepEqual(vars.get('names')!.strings, ['hello']);
    // names filter decodes only what is asked
    const only = parseMatV5(bytes, 'mem', { names: ['F'] });
    assert.deepEqual([...only.vars.keys()], ['F']); assert.equal(only.infos.length, 6);
  }
});

test('fortranToC handles rank 3', () => {
  // MATLAB 2×2×2 with column-major values 1..8 → C order index [i][j][k] = 1 + i + 2j + 4k
  const c = fortranToC(new Int32Array([1, 2, 3, 4, 5, 6, 7, 8]), [2, 2, 2]);
  assert.deepEqual([...c], [1, 5, 3, 7, 2, 6, 4, 8]);
});

test('v7.3 (HDF5) written transposed as MATLAB does reads back like the v5 copy; generic .h5 reads as stored', async () => {
  const t = tempDir();
  try {
    const A = new Float64Array([1, 2, 3, 4, 5, 6]); // C order 2×3
    writeMatV5(join(t.dir, 'a5.mat'), [{ name: 'X', array: { shape: [2, 3], dtype: 'float64', data: A } }], { compress: true });
    // MATLAB stores column-major m×n as HDF5 [n, m]: the column-major bytes of X.
    const colMajor = new Float64Array([1, 4, 2, 5, 3, 6]);
    await writeH5(join(t.dir, 'a73.mat'), [{ name: 'X', array: { shape: [3, 2], dtype: 'float64', data: colMajor }, attrs: { MATLAB_class: 'double' } },
      { name: 'L', array: { shape: [2, 2], dtype: 'uint8', data: new Uint8Array([1, 0, 1, 1]) }, attrs: { MATLAB_class: 'logical' } }]);
    const v5 = await readMat(join(t.dir, 'a5.mat')); const v73 = await readMat(join(t.dir, 'a73.mat'));
    assert.deepEqual(v73.get('X')!.dims, [2, 3]);
    assert.deepEqual([...v73.get('X')!.array!.data], [...v5.get('X')!.array!.data]);
    assert.equal(v73.get('L')!.array!.dtype, 'bool'); assert.deepEqual([...v73.get('L')!.array!.data], [1, 1, 0, 1]);
    assert.deepEqual((await listMat(join(t.dir, 'a73.mat'))).map((v) => v.name).sort(), ['L', 'X']);
    const h = await readH5(join(t.dir, 'a73.mat'), ['X']);
    assert.deepEqual(h.get('X')!.shape, [3, 2]);
    assert.deepEqual(listMatV5(join(t.dir, 'a5.mat')).map((v) => [v.name, v.dims]), [['X', [2, 3]]]);
    assert.throws(() => readMatV5(join(t.dir, 'a5.mat'), { names: ['Y'] }), /no variable 'Y'.*found: X/);
  } finally { t.done(); }
});
