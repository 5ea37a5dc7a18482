import { test } from 'node:test';
import assert from 'node:assert/strict';
import { selectByGradientMatching, matchingError, type GradientBlock } from '../../../src/methods/parts/memory-gradient.js';
import { selectRandom } from '../../../src/methods/parts/memory-random.js';
import { Rng } from '../../../src/util/rng.js';

function blocks(rng: Rng, n: number): GradientBlock[] {
  const mk = (aDim: number, dDim: number): GradientBlock => {
    const a = new Float32Array(n * aDim), d = new Float32Array(n * dDim);
    // clustered samples so a few exemplars can represent many
    for (let i = 0; i < n; i++) {
      const c = i % 5;
      for (let p = 0; p < aDim; p++) a[i * aDim + p] = Math.max(0, Math.sin(c * 3 + p) + 0.3 * rng.normal());
      for (let q = 0; q < dDim; q++) d[i * dDim + q] = Math.cos(c * 1.7 + q * 0.9) + 0.3 * rng.normal();
    }
    return { a, aDim, d, dDim };
  };
  return [mk(9, 6), mk(5, 6)];
}

test('gradient-matching error decreases with the budget and is the measured residual', () => {
  const rng = new Rng(11);
  const n = 300;
  const b = blocks(rng, n);
  let prev = Infinity;
  for (const budget of [1, 2, 5, 10, 20, 40]) {
    const sel = selectByGradientMatching(b, n, { budget, rng: new Rng(1) });
    assert.ok(sel.relativeError <= prev + 1e-9, `budget ${budget}: ${sel.relativeError} > ${prev}`);
    // the reported error is the recomputed one
    assert.ok(Math.abs(matchingError(b, n, sel.indices, sel.weights) - sel.relativeError) < 1e-6);
    for (let i = 1; i < sel.residualCurve.length; i++) assert.ok(sel.residualCurve[i]! <= sel.residualCurve[i - 1]! + 1e-9);
    prev = sel.relativeError;
  }
  assert.ok(prev < 0.1, `40 exemplars should match the mean gradient well, got ${prev}`);
});

test('gradient matching beats random exemplars of the same size', () => {
  const rng = new Rng(5);
  const n = 400, budget = 10;
  const b = blocks(rng, n);
  const g = selectByGradientMatching(b, n, { budget, rng: new Rng(2) });
  let randomMean = 0;
  for (let s = 0; s < 5; s++) { const r = selectRandom(n, budget, new Rng(100 + s)); randomMean += matchingError(b, n, r.indices, r.weights) / 5; }
  assert.ok(g.relativeError < randomMean, `gam ${g.relativeError} vs random ${randomMean}`);
});

test('empty session and budget above n are handled', () => {
  const sel = selectByGradientMatching([], 0, { budget: 5, rng: new Rng(1) });
  assert.deepEqual(sel.indices, []);
  const rng = new Rng(1);
  const b = blocks(rng, 3);
  const s2 = selectByGradientMatching(b, 3, { budget: 10, rng });
  assert.ok(s2.indices.length <= 3);
});
