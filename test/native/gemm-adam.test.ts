// The weight-gradient GEMM with Adam fused in (src/native/gemm_adam.cc): bit for bit the native
// sgemm into a zeroed gradient followed by adamStep, on every ISA variant, 1 and 2 threads, both
// transposes and odd shapes (the bf16 variant against sgemmBf16 + adamStep); within float32
// rounding of the TypeScript reference (the portable backend, which sums in another order); and
// its argument checks name the array.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createNativeBackend, loadNativeAddon } from '../../src/tensor/backend-native.js';
import { JsBackend } from '../../src/tensor/backend-js.js';
import type { AdamStepParams } from '../../src/tensor/backend.js';
import { Rng } from '../../src/util/rng.js';

const SHAPES: [number, number, number][] = [[1, 1, 1], [7, 33, 5], [37, 65, 129], [13, 1000, 300], [300, 40, 513], [1386, 96, 128], [8, 2100, 128],
  // several column and row blocks of the long-row blocking (AVX2: nc ≤ 4096, mc from L2), and k over 2 KC
  [20, 4200, 64], [9, 5000, 700]];

function problem(m: number, n: number, k: number, seed: number) {
  const rng = new Rng(seed);
  const u = (len: number, s = 1) => Float32Array.from({ length: len }, () => (rng.uniform() - 0.5) * s);
  return { a: u(m * k), b: u(k * n), x: u(m * n), m: u(m * n, 0.02), v: u(m * n, 0.002).map(Math.abs) };
}

const params = (decoupled: boolean): AdamStepParams => ({ b1: 0.9, b2: 0.999, stepSize: 1e-3 / 0.19, invSqrtC2: 1 / Math.sqrt(0.002998), eps: 1e-8, wd: decoupled ? 0 : 3e-3, lrWd: decoupled ? 1e-5 : 0, decoupled });

test('gemmAdam equals sgemm (beta 0) + adamStep bit for bit on every native variant, 1 and 2 threads', (t) => {
  const lib = loadNativeAddon();
  if (!lib?.sgemmAdam) { t.skip('native addon absent or without sgemmAdam'); return; }
  let cases = 0;
  for (const isa of lib.supportedIsas()) {
    const be = createNativeBackend(isa)!;
    const before = be.getThreads();
    try {
      for (const threads of [1, 2]) {
        be.setThreads(threads);
        for (const [m, n, k] of SHAPES) for (const ta of [true, false]) for (const tb of [false, true]) {
          const p = problem(m, n, k, m * 7 + n * 3 + k);
          const lda = ta ? m : k, ldb = tb ? k : n, prm = params((m + n) % 2 === 0);
          const x1 = p.x.slice(), m1 = p.m.slice(), v1 = p.v.slice(), g = new Float32Array(m * n);
          be.sgemm(ta, tb, m, n, k, 1, p.a, lda, p.b, ldb, 0, g, n);
          be.adamStep(x1, g, m1, v1, m * n, prm);
          const x2 = p.x.slice(), m2 = p.m.slice(), v2 = p.v.slice();
          be.gemmAdam!(ta, tb, m, n, k, 1, p.a, lda, p.b, ldb, x2, m2, v2, prm);
          const where = `${isa} ${threads}t ${m}x${n}x${k} ta=${ta} tb=${tb}`;
          assert.deepEqual(x2, x1, `x differs: ${where}`);
          assert.deepEqual(m2, m1, `m differs: ${where}`);
          assert.deepEqual(v2, v1, `v differs: ${where}`);
          cases++;
        }
      }
    } finally { be.setThreads(before); }
  }
  assert.ok(cases >= SHAPES.length * 8);
});

test('gemmAdamBf16 equals sgemmBf16 (beta 0) + adamStep bit for bit, 1 and 2 threads', (t) => {
  if (!loadNativeAddon()?.supportedIsas().includes('avx512')) { t.skip('no native avx512 here'); return; }
  const be = createNativeBackend('avx512');
  if (!be?.gemmAdamBf16 || !be.sgemmBf16) { t.skip('no AVX512_BF16 here (or an addon without sgemmAdamBf16)'); return; }
  const before = be.getThreads();
  try {
    for (const threads of [1, 2]) {
      be.setThreads(threads);
      // k = 1100 and 1025 span more than one bf16 k block (512), odd ones included
      for (const [m, n, k] of [...SHAPES, [64, 100, 1100], [33, 70, 1025]] as [number, number, number][]) for (const ta of [true, false]) for (const tb of [false, true]) {
        const p = problem(m, n, k, m + n + k);
        const lda = ta ? m : k, ldb = tb ? k : n, prm = params(m % 2 === 0);
        const x1 = p.x.slice(), m1 = p.m.slice(), v1 = p.v.slice(), g = new Float32Array(m * n);
        be.sgemmBf16(ta, tb, m, n, k, 1, p.a, lda, p.b, ldb, 0, g, n);
        be.adamStep(x1, g, m1, v1, m * n, prm);
        const x2 = p.x.slice(), m2 = p.m.slice(), v2 = p.v.slice();
        be.gemmAdamBf16(ta, tb, m, n, k, 1, p.a, lda, p.b, ldb, x2, m2, v2, prm);
        const where = `${threads}t ${m}x${n}x${k} ta=${ta} tb=${tb}`;
        assert.deepEqual(x2, x1, `x differs: ${where}`);
        assert.deepEqual(m2, m1, `m differs: ${where}`);
        assert.deepEqual(v2, v1, `v differs: ${where}`);
      }
    }
  } finally { be.setThreads(before); }
});

test('gemmAdam matches the TypeScript reference within float32 rounding', (t) => {
  const native = createNativeBackend();
  if (!native?.gemmAdam) { t.skip('native addon absent or without sgemmAdam'); return; }
  const js = new JsBackend();
  for (const [m, n, k] of SHAPES.slice(0, 5)) for (const ta of [true, false]) {
    const p = problem(m, n, k, 11 + m);
    const lda = ta ? m : k, prm = params(false);
    const xr = p.x.slice(), mr = p.m.slice(), vr = p.v.slice();
    js.gemmAdam(ta, false, m, n, k, 1, p.a, lda, p.b, n, xr, mr, vr, prm);
    const xn = p.x.slice(), mn = p.m.slice(), vn = p.v.slice();
    native.gemmAdam(ta, false, m, n, k, 1, p.a, lda, p.b, n, xn, mn, vn, prm);
    let worst = 0;
    for (let i = 0; i < m * n; i++) {
      // the moment sees the gradient directly; compare it relative to the gradient's scale
      worst = Math.max(worst, Math.abs(mn[i]! - mr[i]!) / (Math.abs(mr[i]!) + 1e-3 * Math.sqrt(k)));
      assert.ok(Math.abs(xn[i]! - xr[i]!) <= 1e-5 * (1 + Math.abs(xr[i]!)), `x[${i}] ${xn[i]} vs ${xr[i]} (${m}x${n}x${k} ta=${ta})`);
    }
    assert.ok(worst < 1e-4, `first moment off by ${worst} relative (${m}x${n}x${k})`);
    // and the update really moved the weights
    assert.ok(xn.some((v, i) => v !== p.x[i]), 'weights unchanged');
  }
});

test('gemmAdam refuses arrays too small for the shape, naming them', (t) => {
  const lib = loadNativeAddon();
  if (!lib?.sgemmAdam) { t.skip('native addon absent or without sgemmAdam'); return; }
  const a = new Float32Array(6), b = new Float32Array(6), ok = new Float32Array(4), short = new Float32Array(3);
  const call = (x: Float32Array, m: Float32Array, v: Float32Array) =>
    lib.sgemmAdam!('generic', false, false, 2, 2, 3, 1, a, 3, b, 2, x, m, v, 0.9, 0.999, 1e-3, 1, 1e-8, 0, 0, false);
  assert.throws(() => call(short, ok, ok), /x \(m x n\).*needs 4 elements, array has 3/);
  assert.throws(() => call(ok, ok, short), /v \(second moment, m x n\).*needs 4 elements, array has 3/);
  assert.throws(() => call(ok, new Int32Array(4) as unknown as Float32Array, ok), /m \(first moment\) has the wrong array type/);
});

test('the portable gemmAdam (block by block) equals its own sgemm + adamStep bit for bit', () => {
  const js = new JsBackend();
  // n = 400,000: blocks of 2 rows (~1M floats), so 7 rows take four blocks, the last one short
  const [m, n, k] = [7, 400_000, 3];
  for (const ta of [true, false]) {
    const p = problem(m, n, k, 5);
    const lda = ta ? m : k, prm = params(false);
    const x1 = p.x.slice(), m1 = p.m.slice(), v1 = p.v.slice(), g = new Float32Array(m * n);
    js.sgemm(ta, false, m, n, k, 1, p.a, lda, p.b, n, 0, g, n);
    js.adamStep(x1, g, m1, v1, m * n, prm);
    const x2 = p.x.slice(), m2 = p.m.slice(), v2 = p.v.slice();
    js.gemmAdam(ta, false, m, n, k, 1, p.a, lda, p.b, n, x2, m2, v2, prm);
    assert.ok(x2.every((v, i) => v === x1[i]) && m2.every((v, i) => v === m1[i]) && v2.every((v, i) => v === v1[i]), `ta=${ta}: differs`);
  }
});
