// sgemm on every backend and native variant against the float64 reference: odd shapes, all four
// transpose combinations, alpha/beta, padded leading dimensions, blocks larger than the cache
// blocking, multi-threaded splits, and untouched padding around C.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/util/rng.js';
import { refSgemm } from './reference.js';
import { backendsUnderTest } from './backends-under-test.js';
import type { Backend } from '../../src/tensor/backend.js';

interface Case { m: number; n: number; k: number; ta: boolean; tb: boolean; alpha: number; beta: number; pad: number }

function runCase(be: Backend, rng: Rng, cs: Case): void {
  const { m, n, k, ta, tb, alpha, beta, pad } = cs;
  const lda = (ta ? m : k) + pad, ldb = (tb ? k : n) + 2 * pad, ldc = n + pad;
  const a = new Float32Array(Math.max(1, (ta ? k : m) * lda)), b = new Float32Array(Math.max(1, (tb ? n : k) * ldb));
  rng.fillNormal(a); rng.fillNormal(b);
  const c = new Float32Array(Math.max(1, m * ldc));
  rng.fillNormal(c);
  const before = c.slice();
  const ref = new Float64Array(c), scale = new Float64Array(c.length);
  refSgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, ref, ldc, scale);
  be.sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < ldc; j++) {
      const o = i * ldc + j;
      if (j >= n) { assert.equal(c[o], before[o], `padding C[${i}][${j}] changed (${JSON.stringify(cs)})`); continue; }
      // Worst-case float32 accumulation bound for a k-term dot product (plus the beta term).
      const tol = (k + 4) * 1.2e-7 * scale[o]! + 1e-30;
      const err = Math.abs(c[o]! - ref[o]!);
      if (!(err <= tol)) assert.fail(`C[${i}][${j}] = ${c[o]} vs reference ${ref[o]} (err ${err} > ${tol}) for ${JSON.stringify(cs)}`);
    }
  }
}

const combos: [boolean, boolean][] = [[false, false], [true, false], [false, true], [true, true]];

for (const { label, backend, skip } of backendsUnderTest()) {
  test(`sgemm ${label}: odd shapes, all transposes, alpha/beta, leading dimensions`, (t) => {
    if (!backend) { t.skip(skip); return; }
    const rng = new Rng(7);
    const sizes = [1, 2, 7, 16, 33, 129];
    let count = 0;
    for (const [ta, tb] of combos) {
      for (const m of sizes) for (const n of [1, 7, 33, 129]) {
        const k = sizes[(m * 7 + n) % sizes.length]!;
        const alpha = [1, -0.5, 2.25][count % 3]!, beta = [0, 1, 0.75][(count >> 1) % 3]!;
        runCase(backend, rng, { m, n, k, ta, tb, alpha, beta, pad: count % 3 });
        count++;
      }
    }
  });

  test(`sgemm ${label}: blocks beyond the cache blocking and thread splits`, (t) => {
    if (!backend) { t.skip(skip); return; }
    const rng = new Rng(11);
    const threads = backend.getThreads();
    backend.setThreads(2);
    try {
      for (const [ta, tb] of combos) {
        // m > MC and k > KC: several row blocks, several k blocks (beta applied once), 2 threads.
        runCase(backend, rng, { m: 157, n: 75, k: 301, ta, tb, alpha: 1.5, beta: 0.5, pad: 3 });
        // one row block (the batch-128 path) with many column panels and an edge panel.
        runCase(backend, rng, { m: 128, n: 161, k: 263, ta, tb, alpha: 1, beta: 0, pad: 1 });
      }
    } finally {
      backend.setThreads(threads);
    }
  });

  test(`sgemm ${label}: degenerate sizes and BLAS beta semantics`, (t) => {
    if (!backend) { t.skip(skip); return; }
    const rng = new Rng(3);
    // k = 0 and alpha = 0: C = beta·C
    for (const cs of [{ k: 0, alpha: 1 }, { k: 5, alpha: 0 }]) {
      const c = Float32Array.from([1, 2, 3, 4, 5, 6]);
      backend.sgemm(false, false, 2, 3, cs.k, cs.alpha, new Float32Array(10), Math.max(1, cs.k), new Float32Array(15), 3, 0.5, c, 3);
      assert.deepEqual(Array.from(c), [0.5, 1, 1.5, 2, 2.5, 3]);
    }
    // beta = 0 overwrites C without reading it (NaN in C does not propagate)
    const a = new Float32Array(33 * 17), b = new Float32Array(17 * 9);
    rng.fillNormal(a); rng.fillNormal(b);
    const c = new Float32Array(33 * 9).fill(NaN);
    backend.sgemm(false, false, 33, 9, 17, 1, a, 17, b, 9, 0, c, 9);
    assert.ok(c.every(Number.isFinite), 'beta = 0 must ignore NaN in C');
    // m = 0 or n = 0: nothing happens
    backend.sgemm(false, false, 0, 3, 2, 1, new Float32Array(0), 2, new Float32Array(6), 3, 0, new Float32Array(0), 3);
    // a hand-checked product: [1 2; 3 4] · [5 6; 7 8] = [19 22; 43 50]
    const h = new Float32Array(4);
    backend.sgemm(false, false, 2, 2, 2, 1, Float32Array.from([1, 2, 3, 4]), 2, Float32Array.from([5, 6, 7, 8]), 2, 0, h, 2);
    assert.deepEqual(Array.from(h), [19, 22, 43, 50]);
    // Aᵀ·Bᵀ of the same arrays: [1 3; 2 4]·[5 7; 6 8] = [23 31; 34 46]
    backend.sgemm(true, true, 2, 2, 2, 1, Float32Array.from([1, 2, 3, 4]), 2, Float32Array.from([5, 6, 7, 8]), 2, 0, h, 2);
    assert.deepEqual(Array.from(h), [23, 31, 34, 46]);
  });

  test(`sgemm ${label}: operands too small for their shape are rejected`, (t) => {
    if (!backend) { t.skip(skip); return; }
    const c = new Float32Array(4);
    assert.throws(() => backend.sgemm(false, false, 2, 2, 3, 1, new Float32Array(5), 3, new Float32Array(6), 2, 0, c, 2), /A \(m x k\).*needs 6/);
    assert.throws(() => backend.sgemm(false, true, 2, 2, 3, 1, new Float32Array(6), 3, new Float32Array(6), 2, 0, c, 2), /leading dimension 2 < row length 3/);
    assert.throws(() => backend.sgemm(false, false, 2, 2, 3, 1, new Float32Array(6), 3, new Float32Array(6), 2, 0, new Float32Array(3), 2), /C \(m x n\)/);
  });
}
