// Linear, activations, ATanh (both modes), Dropout, Sequential and the mlp builder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/util/rng.js';
import { InputError } from '../../src/util/errors.js';
import { Tensor, noGrad } from '../../src/tensor/tensor.js';
import { gradCheck } from '../../src/tensor/gradcheck.js';
import * as O from '../../src/tensor/ops.js';
import { Linear, ReLU, Tanh, Sigmoid, ATanh, Dropout, Sequential, mlp, ATANH_EPS } from '../../src/nn/index.js';

const f64 = (rng: Rng, r: number, c: number, std = 1): Tensor => Tensor.randn(r, c, rng, std, { dtype: 'f64', requiresGrad: true });

test('Linear: gradient check of x·W + b w.r.t. input, weight and bias', () => {
  const rng = new Rng(1);
  const lin = new Linear(4, 3, { rng, dtype: 'f64' });
  lin.bias!.data.set([0.1, -0.2, 0.3]);
  const x = f64(rng, 5, 4);
  const res = gradCheck(([xx]) => lin.forward(xx!), [x, lin.weight, lin.bias!]);
  assert.ok(res.ok, JSON.stringify(res));
});

test('Linear: shapes, init statistics, bias off, bad input', () => {
  const lin = new Linear(400, 300, { rng: new Rng(2), init: 'xavier' });
  assert.deepEqual(lin.weight.shape, [400, 300]);
  assert.deepEqual(lin.bias!.shape, [1, 300]);
  const l = Math.sqrt(6 / 700);
  let maxAbs = 0, sq = 0;
  for (const v of lin.weight.data) { maxAbs = Math.max(maxAbs, Math.abs(v)); sq += v * v; }
  assert.ok(maxAbs <= l && maxAbs > 0.99 * l);
  assert.ok(Math.abs(sq / lin.weight.size - l * l / 3) < 0.02 * l * l);
  const he = new Linear(500, 200, { rng: new Rng(3), init: 'he' });
  let s2 = 0; for (const v of he.weight.data) s2 += v * v;
  assert.ok(Math.abs(s2 / he.weight.size / (2 / 500) - 1) < 0.03);
  const nrm = new Linear(100, 100, { rng: new Rng(4), init: 'normal', std: 0.5, bias: false });
  let s3 = 0; for (const v of nrm.weight.data) s3 += v * v;
  assert.ok(Math.abs(Math.sqrt(s3 / nrm.weight.size) - 0.5) < 0.02);
  assert.equal(nrm.bias, null);
  assert.deepEqual(nrm.parameters().length, 1);
  assert.throws(() => lin.forward(Tensor.zeros(2, 5)), (e: unknown) => e instanceof InputError && /400/.test((e as Error).message));
});

test('activation modules', () => {
  const x = Tensor.fromArray(1, 3, [-1, 0, 2]);
  assert.deepEqual(Array.from(new ReLU().forward(x).data), [0, 0, 2]);
  Array.from(new Tanh().forward(x).data).forEach((v, i) => assert.ok(Math.abs(v - Math.tanh([-1, 0, 2][i]!)) < 1e-7));
  assert.deepEqual(Array.from(new Sigmoid().forward(x).data), [-1, 0, 2].map((v) => Math.fround(1 / (1 + Math.exp(-v)))));
  assert.deepEqual(new ReLU().parameters(), []);
});

for (const mode of ['linear', 'nonlinear'] as const) {
  test(`ATanh ${mode}: gradient check of forward (input and scaling parameters) and regularizer`, () => {
    const rng = new Rng(mode === 'linear' ? 5 : 6);
    const at = new ATanh(4, { mode, dtype: 'f64', alphaInit: 1.3, pInit: 0.8 });
    // move parameters off their uniform init so per-unit gradients differ
    for (const p of at.parameters()) for (let i = 0; i < p.size; i++) p.data[i]! += 0.2 * rng.normal();
    const a = f64(rng, 5, 4);
    const fwd = gradCheck(([x]) => at.forward(x!), [a, ...at.parameters()]);
    assert.ok(fwd.ok, JSON.stringify(fwd));
    const reg = gradCheck(() => at.regularizer(), at.parameters());
    assert.ok(reg.ok, JSON.stringify(reg));
  });
}

test('ATanh linear: h = tanh(α⊙a), α starts at 1, regularizer Σ1/α², larger α saturates', () => {
  const at = new ATanh(3, { mode: 'linear' });
  assert.deepEqual(Array.from(at.alpha.data), [1, 1, 1]);
  assert.equal(at.alpha, at.alphaParam);
  assert.equal(at.regularizer().item(), 3);
  const a = Tensor.fromArray(2, 3, [0.5, -0.2, 1, 0.1, 0.3, -2]);
  Array.from(at.forward(a).data).forEach((v, i) => assert.ok(Math.abs(v - Math.tanh(a.data[i]!)) < 1e-7));
  at.alphaParam.data.set([10, 10, 10]);
  for (const v of at.forward(a).data) assert.ok(Math.abs(v) > 0.76);
  // the regulariser's gradient pushes α up
  const reg = at.regularizer();
  reg.backward();
  for (const g of at.alphaParam.grad!) assert.ok(g < 0);
});

test('ATanh nonlinear: starts as tanh(α·a), s is odd and monotone, α and p stay positive', () => {
  const at = new ATanh(2, { mode: 'nonlinear', alphaInit: 2, dtype: 'f64' });
  assert.ok(Math.abs(at.alpha.data[0]! - 2) < 1e-12);
  assert.ok(Math.abs(at.exponent!.data[0]! - 1) < 1e-12);
  const a = Tensor.fromArray(1, 2, [0.3, -0.7], { dtype: 'f64' });
  const h = at.forward(a);
  assert.ok(Math.abs(h.data[0]! - Math.tanh(0.6)) < 1e-9 && Math.abs(h.data[1]! - Math.tanh(-1.4)) < 1e-9);
  // p < 1: steeper near zero, still odd and strictly increasing
  at.pParam!.data.fill(-2); // p = softplus(−2) ≈ 0.127
  at.alphaParam.data.fill(-50); // α = softplus(−50) > 0 even for very negative ρ
  assert.ok(at.alpha.data[0]! > 0 && at.exponent!.data[0]! > 0);
  at.alphaParam.data.fill(0.5);
  const xs = Array.from({ length: 41 }, (_, i) => (i - 20) / 10);
  const col = Tensor.fromArray(41, 1, xs, { dtype: 'f64' });
  const s = noGrad(() => at.scale(O.concatCols([col, col])));
  for (let i = 0; i < 41; i++) {
    const v = s.data[i * 2]!;
    assert.ok(Math.abs(v + s.data[(40 - i) * 2]!) < 1e-12, 'odd');
    if (i > 0) assert.ok(v > s.data[(i - 1) * 2]!, 'strictly increasing');
  }
  assert.equal(s.data[20 * 2], 0);
  // finite slope at 0 thanks to ε
  const z = Tensor.fromArray(1, 2, [0, 0], { dtype: 'f64', requiresGrad: true });
  O.sum(at.forward(z)).backward();
  for (const g of z.grad!) assert.ok(Number.isFinite(g) && g > 0);
  assert.ok(ATANH_EPS > 0);
  assert.deepEqual(at.namedParameters().map(([n]) => n), ['alpha', 'p']);
  assert.throws(() => at.forward(Tensor.zeros(1, 3, { dtype: 'f64' })), /ATanh/);
  assert.throws(() => new ATanh(2, { mode: 'cubic' as 'linear' }), /mode/);
});

test('Dropout module: identity in eval mode, seeded masks in train mode', () => {
  const x = Tensor.fromArray(4, 50, new Array(200).fill(1));
  const d = new Dropout(0.3, new Rng(7));
  const y = d.forward(x);
  assert.ok(Array.from(y.data).some((v) => v === 0));
  d.train(false);
  assert.equal(d.forward(x), x);
  const y2 = new Dropout(0.3, new Rng(7)).forward(x);
  assert.deepEqual(Array.from(y.data), Array.from(y2.data));
});

test('Sequential and mlp: structure, names, train switch, gradient check through the net', () => {
  const net = mlp([6, 5, 4, 3], { rng: new Rng(8), activation: 'tanh', dropout: 0.2, final: new ATanh(3, { mode: 'linear' }) });
  assert.ok(net instanceof Sequential);
  const kinds = net.layers.map((l) => l.constructor.name);
  assert.deepEqual(kinds, ['Linear', 'Tanh', 'Dropout', 'Linear', 'Tanh', 'Dropout', 'Linear', 'ATanh']);
  assert.deepEqual(net.namedParameters().map(([n]) => n), ['0.weight', '0.bias', '3.weight', '3.bias', '6.weight', '6.bias', '7.alpha']);
  assert.equal(net.parameters().length, 7);
  net.train(false);
  assert.equal((net.layers[2] as Dropout).training, false);
  assert.deepEqual(net.forward(Tensor.zeros(2, 6)).shape, [2, 3]);
  assert.throws(() => mlp([4], { rng: new Rng(1) }), /mlp/);

  const rng = new Rng(9);
  const net64 = mlp([4, 5, 2], { rng, activation: 'sigmoid', dtype: 'f64' });
  for (const p of net64.parameters()) for (let i = 0; i < p.size; i++) p.data[i]! += 0.1 * rng.normal();
  const x = f64(rng, 3, 4);
  const res = gradCheck(([xx]) => net64.forward(xx!), [x, ...net64.parameters()]);
  assert.ok(res.ok, JSON.stringify(res));
});

test('Sequential runs a Linear followed by a ReLU as one op, with the same values and gradients', () => {
  const rng = new Rng(12);
  // dropout after each ReLU stays in the layer list (Linear, ReLU, Dropout, …); in eval mode it is
  // the identity, so both passes see the same values
  const net = mlp([7, 9, 8, 3], { rng, activation: 'relu', dropout: 0.25 });
  net.train(false);
  const x = Tensor.randn(5, 7, rng);
  const run = (fused: boolean) => {
    for (const p of net.parameters()) p.zeroGrad();
    let h = x;
    if (fused) h = net.forward(x);
    else for (const l of net.layers) h = l.forward(h); // layer by layer: Linear, then ReLU on its own
    h.backward(new Float32Array(h.size).fill(1));
    return { out: Array.from(h.data), grads: net.parameters().map((p) => Array.from(p.grad!)) };
  };
  const a = run(true), b = run(false);
  assert.deepEqual(a.out, b.out);
  assert.deepEqual(a.grads, b.grads);
  // the fused net's graph has no separate relu nodes
  const ops = new Set<string>();
  const walk = (t: Tensor) => { if (!t.node) return; ops.add(t.node.op); t.node.parents.forEach(walk); };
  walk(net.forward(x));
  assert.ok(ops.has('affineRelu') && !ops.has('relu'), [...ops].join(','));
});
