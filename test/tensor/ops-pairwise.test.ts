// The fused pairwise losses: gradients against finite differences, and bit equality (value and
// gradient) with the composed ops they replaced, so DCMH, DLCMH and CCMH-GAM results did not move.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/util/rng.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { gradCheck } from '../../src/tensor/gradcheck.js';
import * as O from '../../src/tensor/ops.js';
import type { LikelihoodReduction } from '../../src/tensor/ops.js';

function randomTensor(rng: Rng, rows: number, cols: number, dtype: 'f32' | 'f64', scale: number, requiresGrad = false): Tensor {
  const t = Tensor.zeros(rows, cols, { dtype, requiresGrad });
  for (let i = 0; i < t.size; i++) t.data[i] = rng.normal() * scale;
  return t;
}

function targets(rng: Rng, rows: number, cols: number, dtype: 'f32' | 'f64'): Tensor {
  const S = Tensor.zeros(rows, cols, { dtype });
  for (let i = 0; i < S.size; i++) S.data[i] = rng.uniform() < 0.4 ? (rng.uniform() < 0.5 ? 1 : rng.uniform()) : 0;
  return S;
}

/**
 * Runs a loss of inner products h·oᵀ both ways (composed ops vs the fused op) on random odd shapes,
 * f32 and f64, with h and o leaves (h also in a second term, and the upstream gradient not 1), and
 * asserts the loss value and both gradients are the same bits.
 */
function assertBitIdentical(seed: number, loss: (h: Tensor, o: Tensor, S: Tensor, c: number, fused: boolean) => Tensor, weight: number): void {
  const rng = new Rng(seed);
  for (const dtype of ['f32', 'f64'] as const) {
    for (const [m, k, c, scale] of [[5, 7, 3, 1], [33, 17, 9, 4], [64, 129, 32, 2], [2, 3, 1, 40]] as const) {
      const hData = randomTensor(rng, m, c, dtype, scale);
      const oData = randomTensor(rng, k, c, dtype, scale);
      const S = targets(rng, m, k, dtype);
      const run = (fused: boolean) => {
        const h = Tensor.wrap(m, c, hData.data.slice(), { requiresGrad: true });
        const o = Tensor.wrap(k, c, oData.data.slice(), { requiresGrad: true });
        const l = loss(h, o, S, c, fused);
        O.add(O.mulScalar(l, weight), O.mean(O.square(h))).backward();
        return { value: l.item(), gh: Array.from(h.grad!), go: Array.from(o.grad!) };
      };
      const a = run(false), b = run(true);
      assert.ok(Object.is(a.value, b.value), `${dtype} ${m}×${k}: value ${a.value} vs ${b.value}`);
      assert.deepEqual(b.gh, a.gh, `${dtype} ${m}×${k}: gradient of h`);
      assert.deepEqual(b.go, a.go, `${dtype} ${m}×${k}: gradient of o`);
    }
  }
}

for (const reduction of ['mean', 'sum'] as LikelihoodReduction[]) {
  test(`pairwiseLikelihood (${reduction}): gradient matches finite differences on odd shapes`, () => {
    const rng = new Rng(reduction === 'mean' ? 3 : 5);
    for (const [r, c] of [[1, 1], [3, 5], [7, 2]] as const) {
      const S = targets(rng, r, c, 'f64');
      const theta = randomTensor(rng, r, c, 'f64', 3, true);
      const res = gradCheck(([t]) => O.pairwiseLikelihood(t!, S, reduction), [theta]);
      assert.ok(res.ok, `${r}×${c}: max relative error ${res.maxRelErr}`);
    }
  });

  test(`pairwiseLikelihood (${reduction}): bit-identical to softplus(Θ) − S⊙Θ reduced, value and gradient, f32 and f64`, () => {
    // Θ = ½·h·oᵀ, as in DCMH and the label net.
    assertBitIdentical(reduction === 'mean' ? 11 : 13, (h, o, S, _c, fused) => {
      const theta = O.mulScalar(O.matmul(h, o, false, true), 0.5);
      if (fused) return O.pairwiseLikelihood(theta, S, reduction);
      const terms = O.sub(O.softplus(theta), O.mul(S, theta));
      return reduction === 'mean' ? O.mean(terms) : O.sum(terms);
    }, 0.37);
  });
}

test('pairwiseLikelihood: extreme Θ stays finite and matches the composed ops', () => {
  const theta = Tensor.fromArray(1, 6, [-800, -30, -0, 0, 30, 800], { requiresGrad: true });
  const S = Tensor.fromArray(1, 6, [1, 0, 0.5, 1, 0, 1]);
  const loss = O.pairwiseLikelihood(theta, S);
  loss.backward();
  const t2 = Tensor.fromArray(1, 6, [-800, -30, -0, 0, 30, 800], { requiresGrad: true });
  const ref = O.mean(O.sub(O.softplus(t2), O.mul(S, t2)));
  ref.backward();
  assert.ok(Number.isFinite(loss.item()));
  assert.ok(Object.is(loss.item(), ref.item()));
  assert.deepEqual(Array.from(theta.grad!), Array.from(t2.grad!));
});

test('pairwiseLikelihood: a target of another shape or dtype is an error naming both', () => {
  const theta = Tensor.zeros(2, 3, { requiresGrad: true });
  assert.throws(() => O.pairwiseLikelihood(theta, Tensor.zeros(3, 2)), /pairwiseLikelihood.*2.*3/);
  assert.throws(() => O.pairwiseLikelihood(theta, Tensor.zeros(2, 3, { dtype: 'f64' })), /dtype mismatch/);
});

test('pairwiseSquaredError: gradient matches finite differences on odd shapes', () => {
  const rng = new Rng(21);
  for (const [r, c] of [[1, 1], [3, 5], [7, 2]] as const) {
    const S = targets(rng, r, c, 'f64');
    const P = randomTensor(rng, r, c, 'f64', 3, true);
    const res = gradCheck(([t]) => O.pairwiseSquaredError(t!, 1 / 7, S), [P]);
    assert.ok(res.ok, `${r}×${c}: max relative error ${res.maxRelErr}`);
  }
});

test('pairwiseSquaredError: bit-identical to mean(square(sub(mulScalar(P, k), S))), value and gradient, f32 and f64', () => {
  // As in DLCMH: u·Bᵀ/c against label cosines.
  assertBitIdentical(23, (u, B, S, c, fused) => {
    const P = O.matmul(u, B, false, true);
    return fused ? O.pairwiseSquaredError(P, 1 / c, S) : O.mean(O.square(O.sub(O.mulScalar(P, 1 / c), S)));
  }, 0.61);
  assert.throws(() => O.pairwiseSquaredError(Tensor.zeros(2, 3), 1, Tensor.zeros(2, 2)), /pairwiseSquaredError.*2.*3/);
});

test('pairwise losses: a target that needs a gradient, an empty mean and an unknown reduction are errors', () => {
  const theta = Tensor.zeros(2, 3, { requiresGrad: true });
  const S = Tensor.zeros(2, 3, { requiresGrad: true });
  assert.throws(() => O.pairwiseLikelihood(theta, S), /pairwiseLikelihood: the target S must be a constant/);
  assert.throws(() => O.pairwiseSquaredError(theta, 1, S), /pairwiseSquaredError: the target S must be a constant/);
  assert.doesNotThrow(() => O.noGrad(() => O.pairwiseSquaredError(theta, 1, S))); // nothing is recorded, so nothing is lost
  const empty = Tensor.zeros(0, 3);
  assert.throws(() => O.pairwiseLikelihood(empty, Tensor.zeros(0, 3)), /cannot average over an empty \[0×3\]/);
  assert.equal(O.pairwiseLikelihood(empty, Tensor.zeros(0, 3), 'sum').item(), 0);
  assert.throws(() => O.pairwiseSquaredError(empty, 1, Tensor.zeros(0, 3)), /cannot average over an empty/);
  assert.throws(() => O.pairwiseLikelihood(theta, Tensor.zeros(2, 3), 'max' as LikelihoodReduction), /reduction must be 'mean' or 'sum', got max/);
  assert.throws(() => O.pairwiseLikelihood(theta, Tensor.zeros(1, 3)), /no broadcasting/);
});
