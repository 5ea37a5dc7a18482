// Tensor construction, forward values, broadcasting rules and errors, and graph mechanics.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/util/rng.js';
import { InputError } from '../../src/util/errors.js';
import { Tensor, noGrad, isGradEnabled } from '../../src/tensor/tensor.js';
import * as O from '../../src/tensor/ops.js';

const T = (r: number, c: number, d: number[], g = false): Tensor => Tensor.fromArray(r, c, d, { requiresGrad: g });
const arr = (t: Tensor): number[] => Array.from(t.data);

test('constructors: zeros, fromArray copies, wrap aliases, randn is seeded', () => {
  const z = Tensor.zeros(2, 3);
  assert.deepEqual(z.shape, [2, 3]);
  assert.ok(z.data instanceof Float32Array);
  assert.ok(Tensor.zeros(1, 1, { dtype: 'f64' }).data instanceof Float64Array);
  const src = [1, 2, 3, 4];
  const f = Tensor.fromArray(2, 2, src);
  src[0] = 9;
  assert.equal(f.data[0], 1);
  const buf = new Float32Array([1, 2]);
  const w = Tensor.wrap(1, 2, buf);
  buf[1] = 5;
  assert.equal(w.data[1], 5);
  assert.deepEqual(arr(Tensor.randn(3, 3, new Rng(1))), arr(Tensor.randn(3, 3, new Rng(1))));
  assert.throws(() => Tensor.fromArray(2, 2, [1, 2, 3]), InputError);
  assert.equal(T(1, 1, [4]).item(), 4);
  assert.throws(() => z.item(), /1×1/);
});

test('forward values and broadcasting', () => {
  const a = T(2, 3, [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(arr(O.add(a, T(1, 3, [10, 20, 30]))), [11, 22, 33, 14, 25, 36]);
  assert.deepEqual(arr(O.sub(a, T(2, 1, [1, 2]))), [0, 1, 2, 2, 3, 4]);
  assert.deepEqual(arr(O.mul(a, T(1, 1, [2]))), [2, 4, 6, 8, 10, 12]);
  assert.deepEqual(arr(O.div(T(1, 1, [12]), a)), [12, 6, 4, 3, 12 / 5, 2].map(Math.fround));
  assert.deepEqual(arr(O.matmul(a, T(3, 1, [1, 0, -1]))), [-2, -2]);
  assert.deepEqual(arr(O.matmul(a, a, true, false)), [17, 22, 27, 22, 29, 36, 27, 36, 45]);
  assert.deepEqual(arr(O.matmul(a, a, false, true)), [14, 32, 32, 77]);
  assert.deepEqual(arr(O.sum(a)), [21]);
  assert.deepEqual(arr(O.sum(a, 0)), [5, 7, 9]);
  assert.deepEqual(arr(O.sum(a, 1)), [6, 15]);
  assert.deepEqual(arr(O.mean(a, 1)), [2, 5]);
  assert.deepEqual(O.sum(a, 0).shape, [1, 3]);
  assert.deepEqual(O.sum(a, 1).shape, [2, 1]);
  assert.deepEqual(arr(O.transpose(a)), [1, 4, 2, 5, 3, 6]);
  assert.deepEqual(arr(O.gatherRows(a, [1, 1, 0])), [4, 5, 6, 4, 5, 6, 1, 2, 3]);
  assert.deepEqual(arr(O.concatCols([a, T(2, 1, [7, 8])])), [1, 2, 3, 7, 4, 5, 6, 8]);
  assert.deepEqual(arr(O.concatRows([a, T(1, 3, [7, 8, 9])])), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual(arr(O.sliceCols(a, 1, 3)), [2, 3, 5, 6]);
  const n = O.l2NormalizeRows(T(2, 2, [3, 4, 0, 0]));
  assert.deepEqual(arr(n), [0.6, 0.8, 0, 0].map(Math.fround));
  const c = O.cosineSimilarity(T(2, 2, [1, 0, 1, 1]), T(1, 2, [0, 2]));
  assert.ok(Math.abs(c.data[0]!) < 1e-7 && Math.abs(c.data[1]! - Math.SQRT1_2) < 1e-6);
});

test('softplus and logSigmoid are stable at extreme inputs', () => {
  const x = Tensor.fromArray(1, 4, [-1000, -30, 30, 1000], { dtype: 'f64' });
  const sp = arr(O.softplus(x));
  assert.equal(sp[0], 0);
  assert.ok(Math.abs(sp[1]! - Math.exp(-30)) < 1e-25);
  assert.ok(Math.abs(sp[2]! - 30) < 1e-12);
  assert.equal(sp[3], 1000);
  const ls = arr(O.logSigmoid(x));
  assert.equal(ls[0], -1000);
  assert.ok(Math.abs(ls[1]! + 30) < 1e-12);
  assert.ok(Math.abs(ls[2]! + Math.exp(-30)) < 1e-25);
  assert.ok(ls[3] === 0); // ±0
  const s = arr(O.sigmoid(x));
  assert.equal(s[0], 0); assert.equal(s[3], 1);
  for (const v of [...sp, ...ls, ...s]) assert.ok(Number.isFinite(v));
  // gradients are finite too
  const xg = Tensor.fromArray(1, 4, [-1000, -30, 30, 1000], { requiresGrad: true });
  O.sum(O.add(O.softplus(xg), O.logSigmoid(xg))).backward();
  assert.deepEqual(arr(xg).length, 4);
  for (const v of xg.grad!) assert.ok(Number.isFinite(v));
});

test('tanh agrees with Math.tanh to ~1e-15 over a wide range, including tiny and huge inputs', () => {
  const xs: number[] = [];
  for (let i = -4000; i <= 4000; i++) xs.push(i / 200);
  xs.push(1e-300, -1e-12, 710, -1e308);
  const y = O.tanh(Tensor.fromArray(1, xs.length, xs, { dtype: 'f64' }));
  xs.forEach((v, i) => assert.ok(Math.abs(y.data[i]! - Math.tanh(v)) < 1e-15, `tanh(${v})`));
});

test('shape mismatches throw InputError naming the op and both shapes', () => {
  const a = Tensor.zeros(2, 3), b = Tensor.zeros(4, 5);
  for (const [name, f] of [
    ['add', () => O.add(a, b)], ['sub', () => O.sub(a, b)], ['mul', () => O.mul(a, b)], ['div', () => O.div(a, b)],
  ] as const) {
    assert.throws(f, (e: unknown) => e instanceof InputError && e.message.includes(name) && e.message.includes('2×3') && e.message.includes('4×5'));
  }
  assert.throws(() => O.matmul(a, b), (e: unknown) => e instanceof InputError && /matmul.*2×3.*4×5/.test((e as Error).message));
  assert.throws(() => O.matmul(a, a), /matmul/);
  assert.doesNotThrow(() => O.matmul(a, a, false, true));
  assert.throws(() => O.concatCols([a, b]), /concatCols.*2×3.*4×5/);
  assert.throws(() => O.concatRows([a, b]), /concatRows.*2×3.*4×5/);
  assert.throws(() => O.cosineSimilarity(a, b), /cosineSimilarity.*2×3.*4×5/);
  assert.throws(() => O.affine(a, b, null), /affine/);
  assert.throws(() => O.gatherRows(a, [2]), /gatherRows.*out of range/);
  assert.throws(() => O.add(a, Tensor.zeros(2, 3, { dtype: 'f64' })), /dtype/);
  assert.throws(() => O.sum(a, 2 as 0), /axis/);
});

test('gradients accumulate across backward calls and zeroGrad resets them', () => {
  const x = T(1, 2, [1, 2], true);
  O.sum(O.square(x)).backward();
  assert.deepEqual(arr({ data: x.grad! } as Tensor), [2, 4]);
  O.sum(O.square(x)).backward();
  assert.deepEqual(Array.from(x.grad!), [4, 8]);
  x.zeroGrad();
  assert.deepEqual(Array.from(x.grad!), [0, 0]);
});

test('diamond graph: a shared intermediate gets both contributions (topological order)', () => {
  const x = T(1, 1, [3], true);
  const y = O.square(x);            // 9
  const z = O.add(O.mul(y, y), y);  // y² + y, dz/dx = (2y + 1)·2x = 19·6
  z.backward();
  assert.equal(x.grad![0], 114);
});

test('a deep chain does not overflow the stack', () => {
  const x = T(1, 1, [0.5], true);
  let h = x;
  for (let i = 0; i < 20000; i++) h = O.addScalar(h, 0);
  h.backward();
  assert.equal(x.grad![0], 1);
});

test('noGrad records nothing; detach cuts the graph; non-scalar backward needs a seed', () => {
  const x = T(2, 2, [1, 2, 3, 4], true);
  const y = noGrad(() => { assert.equal(isGradEnabled(), false); return O.tanh(x); });
  assert.equal(isGradEnabled(), true);
  assert.equal(y.requiresGrad, false);
  assert.equal(y.node, null);
  assert.equal(O.tanh(x.detach()).requiresGrad, false);
  assert.throws(() => O.tanh(x).backward(), /1×1/);
  const t = O.mulScalar(x, 2);
  t.backward(new Float32Array([1, 0, 0, 1]));
  assert.deepEqual(Array.from(x.grad!), [2, 0, 0, 2]);
  assert.throws(() => noGrad(() => { throw new Error('boom'); }), /boom/);
  assert.equal(isGradEnabled(), true);
});

test('only tensors that require grad receive gradients; intermediates are freed', () => {
  const w = T(2, 2, [1, 2, 3, 4], true);
  const x = T(1, 2, [1, 1]);
  const h = O.matmul(x, w);
  O.sum(h).backward();
  assert.equal(x.grad, null);
  assert.equal(h.grad, null);
  assert.deepEqual(Array.from(w.grad!), [1, 1, 1, 1]);
});

test('dropout: identity when not training, inverted scaling when training, seeded', () => {
  const a = Tensor.fromArray(10, 100, new Array(1000).fill(1));
  assert.equal(O.dropout(a, 0.5, new Rng(1), false), a);
  const d1 = O.dropout(a, 0.5, new Rng(1), true), d2 = O.dropout(a, 0.5, new Rng(1), true);
  assert.deepEqual(arr(d1), arr(d2));
  const zeros = arr(d1).filter((v) => v === 0).length;
  assert.ok(zeros > 400 && zeros < 600, `zeros ${zeros}`);
  for (const v of d1.data) assert.ok(v === 0 || v === 2);
  assert.throws(() => O.dropout(a, 1, new Rng(1), true), /dropout/);
});
