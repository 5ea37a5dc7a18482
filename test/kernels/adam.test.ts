// The fused Adam kernel on every backend against a plain float64 reference, on odd sizes, with
// L2 and decoupled weight decay, over several steps (state carried in m and v).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/util/rng.js';
import { backendsUnderTest } from './backends-under-test.js';
import { createNativeBackend } from '../../src/tensor/backend-native.js';

function reference(x: Float64Array, g: Float64Array, m: Float64Array, v: Float64Array, t: number,
  o: { lr: number; b1: number; b2: number; eps: number; wd: number; decoupled: boolean }): void {
  const c1 = 1 - o.b1 ** t, c2 = 1 - o.b2 ** t;
  for (let i = 0; i < x.length; i++) {
    let gi = g[i]!;
    if (o.decoupled) x[i]! -= o.lr * o.wd * x[i]!; else gi += o.wd * x[i]!;
    m[i] = o.b1 * m[i]! + (1 - o.b1) * gi;
    v[i] = o.b2 * v[i]! + (1 - o.b2) * gi * gi;
    x[i]! -= o.lr * (m[i]! / c1) / (Math.sqrt(v[i]! / c2) + o.eps);
  }
}

for (const { label, backend, skip } of backendsUnderTest()) {
  test(`adamStep matches the reference (${label})`, (t) => {
    if (!backend) { t.skip(skip); return; }
    const rng = new Rng(11);
    for (const n of [1, 7, 33, 129, 1000]) {
      for (const decoupled of [false, true]) {
        const o = { lr: 0.01, b1: 0.9, b2: 0.999, eps: 1e-8, wd: 0.05, decoupled };
        const x = rng.fillNormal(new Float32Array(n)); const m = new Float32Array(n); const v = new Float32Array(n);
        const xr = Float64Array.from(x); const mr = new Float64Array(n); const vr = new Float64Array(n);
        for (let step = 1; step <= 3; step++) {
          const g = rng.fillNormal(new Float32Array(n));
          const c1 = 1 - o.b1 ** step, c2 = 1 - o.b2 ** step;
          backend.adamStep(x, g, m, v, n, { b1: o.b1, b2: o.b2, stepSize: o.lr / c1, invSqrtC2: 1 / Math.sqrt(c2), eps: o.eps, wd: o.wd, lrWd: o.lr * o.wd, decoupled });
          reference(xr, Float64Array.from(g), mr, vr, step, o);
        }
        for (let i = 0; i < n; i++) {
          assert.ok(Math.abs(x[i]! - xr[i]!) <= 1e-5 * Math.max(1, Math.abs(xr[i]!)), `${label} n=${n} decoupled=${decoupled} i=${i}: ${x[i]} vs ${xr[i]}`);
        }
      }
    }
  });
}

test('adamStep rejects arrays shorter than n (native)', (t) => {
  const native = backendsUnderTest().find((b) => b.label === 'native/avx512' && b.backend);
  if (!native?.backend) { t.skip('native avx512 backend not available'); return; }
  const a = new Float32Array(4);
  assert.throws(() => native.backend!.adamStep(a, a, a, new Float32Array(2), 4, { b1: 0.9, b2: 0.999, stepSize: 1, invSqrtC2: 1, eps: 1e-8, wd: 0, lrWd: 0, decoupled: false }), /v has 2 elements, need 4/);
});

test('adamStep on a large vector gives the same bits on 1 and 2 kernel threads (native)', (t) => {
  const be = createNativeBackend();
  if (!be) { t.skip('native addon absent'); return; }
  const n = (1 << 19) * 3 + 5; // split across threads (≥ 2^18 elements each), odd length
  const rng = new Rng(3);
  const x0 = rng.fillUniform(new Float32Array(n)), g = rng.fillUniform(new Float32Array(n));
  const m0 = rng.fillUniform(new Float32Array(n)).map((v) => v * 0.01), v0 = rng.fillUniform(new Float32Array(n)).map((v) => v * 0.001);
  const p = { b1: 0.9, b2: 0.999, stepSize: 1e-3, invSqrtC2: 3, eps: 1e-8, wd: 1e-2, lrWd: 0, decoupled: false };
  const run = (threads: number) => {
    const before = be.getThreads();
    be.setThreads(threads);
    try {
      const x = x0.slice(), m = m0.slice(), v = v0.slice();
      be.adamStep(x, g, m, v, n, p);
      return { x, m, v };
    } finally { be.setThreads(before); }
  };
  const one = run(1), two = run(2);
  assert.ok(one.x.some((v, i) => v !== x0[i]), 'the step changed x');
  assert.deepEqual(two.x, one.x);
  assert.deepEqual(two.m, one.m);
  assert.deepEqual(two.v, one.v);
});
