// SGD, Adam, parameter groups, schedules, clipping and flat views, against hand-computed values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../../src/tensor/tensor.js';
import { SGD, Adam, stepLR, exponentialLR, linearLR, clipGradNorm, flatGrad, setFlatGrad, flatParams, setFlatParams } from '../../src/nn/index.js';

const P = (vals: number[], grad?: number[]): Tensor => {
  const t = Tensor.fromArray(1, vals.length, vals, { dtype: 'f64', requiresGrad: true });
  if (grad) t.grad = Float64Array.from(grad);
  return t;
};
const close = (a: ArrayLike<number>, b: number[], tol = 1e-12): void => {
  assert.equal(a.length, b.length);
  for (let i = 0; i < b.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) <= tol, `${i}: ${a[i]} vs ${b[i]}`);
};

test('SGD: plain step, weight decay, momentum, nesterov', () => {
  const p = P([1, -2], [0.5, 1]);
  new SGD([p], { lr: 0.1 }).step();
  close(p.data, [0.95, -2.1]);

  const q = P([1], [0.5]);
  new SGD([q], { lr: 0.1, weightDecay: 0.2 }).step(); // d = 0.5 + 0.2·1
  close(q.data, [1 - 0.07]);

  const r = P([1], [1]);
  const opt = new SGD([r], { lr: 0.1, momentum: 0.9 });
  opt.step(); close(r.data, [0.9]);          // v = 1
  opt.step(); close(r.data, [0.9 - 0.19]);   // v = 0.9 + 1

  const s = P([1], [1]);
  const nes = new SGD([s], { lr: 0.1, momentum: 0.9, nesterov: true });
  nes.step(); close(s.data, [1 - 0.1 * 1.9]);             // v = 1, update d + μv
  nes.step(); close(s.data, [1 - 0.19 - 0.1 * (1 + 0.9 * 1.9)]);
  assert.throws(() => new SGD([s], { lr: 0.1, nesterov: true }), /nesterov/);
});

test('Adam: bias-corrected steps match a direct computation; weight decay (L2 and decoupled)', () => {
  const grads = [[0.3, -1], [0.1, 2], [-0.5, 0.4]];
  const lr = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-8, wd = 0.1;
  for (const decoupled of [false, true]) {
    const p = P([1, -1]);
    const opt = new Adam([p], { lr, weightDecay: wd, decoupled });
    const ref = [1, -1], m = [0, 0], v = [0, 0];
    for (let t = 1; t <= grads.length; t++) {
      p.grad = Float64Array.from(grads[t - 1]!);
      opt.step();
      for (let i = 0; i < 2; i++) {
        let g = grads[t - 1]![i]!;
        if (decoupled) ref[i] = ref[i]! - lr * wd * ref[i]!; else g += wd * ref[i]!;
        m[i] = b1 * m[i]! + (1 - b1) * g;
        v[i] = b2 * v[i]! + (1 - b2) * g * g;
        const mh = m[i]! / (1 - b1 ** t), vh = v[i]! / (1 - b2 ** t);
        ref[i] = ref[i]! - lr * mh / (Math.sqrt(vh) + eps);
      }
      close(p.data, ref, 1e-12);
    }
  }
  // first step moves every coordinate by ≈ lr regardless of gradient scale
  const q = P([0, 0], [1e-3, -50]);
  new Adam([q], { lr: 0.05 }).step();
  close(q.data, [-0.05, 0.05], 1e-6);
});

test('parameter groups: per-group lr and weight decay; schedules scale every group', () => {
  const a = P([1], [1]), b = P([1], [1]), c = P([1]);
  const opt = new SGD([{ params: [a] }, { params: [b], lr: 0.01, weightDecay: 1 }, { params: [c] }], { lr: 0.1 });
  opt.step();
  close(a.data, [0.9]);
  close(b.data, [1 - 0.01 * 2]);
  close(c.data, [1]); // no gradient: untouched
  const sch = stepLR(opt, 2, 0.5);
  sch.step(); assert.equal(opt.lr, 0.1);
  sch.step(); assert.equal(opt.lr, 0.05);
  a.grad!.fill(1); b.grad!.fill(1);
  const a0 = a.data[0]!, b0 = b.data[0]!;
  opt.step();
  close(a.data, [a0 - 0.05]);
  close(b.data, [b0 - 0.005 * (1 + b0)]);
  assert.throws(() => new SGD([{ params: [a] }, { params: [a] }], { lr: 0.1 }), /twice/);
});

test('schedules: step, exponential, linear', () => {
  const opt = new SGD([P([0])], { lr: 1 });
  const st = stepLR(opt, 3, 0.1);
  const seen = [];
  for (let i = 0; i < 7; i++) seen.push(st.step());
  close(seen, [1, 1, 0.1, 0.1, 0.1, 0.01, 0.01], 1e-15);
  const o2 = new Adam([P([0])], { lr: 2 });
  const ex = exponentialLR(o2, 0.5);
  close([ex.step(), ex.step(), ex.step()], [1, 0.5, 0.25]);
  const o3 = new SGD([P([0])], { lr: 1 });
  const lin = linearLR(o3, 1, 0, 4);
  assert.equal(o3.lr, 1);
  close([lin.step(), lin.step(), lin.step(), lin.step(), lin.step()], [0.75, 0.5, 0.25, 0, 0]);
  const o4 = new SGD([P([0])], { lr: 0.1 });
  linearLR(o4, 0.1, 1, 10); // warm-up from 10% of the base lr
  close([o4.lr], [0.01]);
});

test('clipGradNorm returns the norm before clipping and rescales only when above max', () => {
  const a = P([0, 0], [3, 0]), b = P([0], [4]);
  assert.equal(clipGradNorm([a, b], 10), 5);
  close(a.grad!, [3, 0]);
  assert.equal(clipGradNorm([a, b], 1), 5);
  const n = Math.hypot(a.grad![0]!, b.grad![0]!);
  assert.ok(Math.abs(n - 1) < 1e-5);
  close([a.grad![0]! / b.grad![0]!], [0.75]);
});

test('flat views: gradient and parameter vectors round-trip in parameter order', () => {
  const a = Tensor.fromArray(2, 2, [1, 2, 3, 4], { requiresGrad: true });
  const b = Tensor.fromArray(1, 3, [5, 6, 7], { requiresGrad: true });
  a.grad = Float32Array.from([0.1, 0.2, 0.3, 0.4]);
  const g = flatGrad([a, b]);
  close(g, [0.1, 0.2, 0.3, 0.4, 0, 0, 0].map(Math.fround));
  g.set([-1, -2, -3], 4);
  setFlatGrad([a, b], g);
  close(b.grad!, [-1, -2, -3]);
  const p = flatParams([a, b]);
  close(p, [1, 2, 3, 4, 5, 6, 7]);
  p.reverse();
  setFlatParams([a, b], p);
  close(a.data, [7, 6, 5, 4]);
  close(b.data, [3, 2, 1]);
  assert.throws(() => setFlatGrad([a, b], new Float32Array(6)), /length 6.*7/);
  assert.throws(() => setFlatParams([a], new Float32Array(5)), /setFlatParams/);
});
