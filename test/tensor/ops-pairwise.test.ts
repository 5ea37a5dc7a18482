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
    const rng = new Rng(reduction === 'mean' ? 11 : 13);
    for (const dtype of ['f32', 'f64'] as const) {
      for (const [m, k, c, scale] of [[5, 7, 3, 1], [33, 17, 9, 4], [64, 129, 32, 2], [2, 3, 1, 40]] as const) {
        const hData = randomTensor(rng, m, c, dtype, scale);
        const oData = randomTensor(rng, k, c, dtype, scale);
        const S = targets(rng, m, k, dtype);
        const run = (fused: boolean) => {
          // Θ = ½·h·oᵀ with h a leaf, as in DCMH and the label net; the upstream gradient is not 1.
          const h = Tensor.wrap(m, c, hData.data.slice(), { requiresGrad: true });
          const o = Tensor.wrap(k, c, oData.data.slice(), { requiresGrad: true });
          const theta = O.mulScalar(O.matmul(h, o, false, true), 0.5);
          const nll = fused ? O.pairwiseLikelihood(theta, S, reduction)
            : reduction === 'mean' ? O.mean(O.sub(O.softplus(theta), O.mul(S, theta))) : O.sum(O.sub(O.softplus(theta), O.mul(S, theta)));
          const loss = O.add(O.mulScalar(nll, 0.37), O.mean(O.square(h)));
          loss.backward();
          return { value: nll.item(), gh: Array.from(h.grad!), go: Array.from(o.grad!) };
        };
        const a = run(false), b = run(true);
        assert.ok(Object.is(a.value, b.value), `${dtype} ${m}×${k}: value ${a.value} vs ${b.value}`);
        assert.deepEqual(b.gh, a.gh, `${dtype} ${m}×${k}: gradient of h`);
        assert.deepEqual(b.go, a.go, `${dtype} ${m}×${k}: gradient of o`);
      }
    }
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
  const rng = new Rng(23);
  for (const dtype of ['f32', 'f64'] as const) {
    for (const [m, k, c, scale] of [[5, 7, 3, 1], [33, 17, 9, 4], [64, 129, 32, 2], [2, 3, 1, 40]] as const) {
      const hData = randomTensor(rng, m, c, dtype, scale);
      const oData = randomTensor(rng, k, c, dtype, scale);
      const S = targets(rng, m, k, dtype);
      const run = (fused: boolean) => {
        // As in DLCMH: u·Bᵀ/c against label cosines, u a leaf (other terms add to its gradient too).
        const u = Tensor.wrap(m, c, hData.data.slice(), { requiresGrad: true });
        const B = Tensor.wrap(k, c, oData.data.slice(), { requiresGrad: true });
        const P = O.matmul(u, B, false, true);
        const err = fused ? O.pairwiseSquaredError(P, 1 / c, S) : O.mean(O.square(O.sub(O.mulScalar(P, 1 / c), S)));
        const loss = O.add(O.mulScalar(err, 0.61), O.mean(O.square(u)));
        loss.backward();
        return { value: err.item(), gu: Array.from(u.grad!), gB: Array.from(B.grad!) };
      };
      const a = run(false), b = run(true);
      assert.ok(Object.is(a.value, b.value), `${dtype} ${m}×${k}: value ${a.value} vs ${b.value}`);
      assert.deepEqual(b.gu, a.gu, `${dtype} ${m}×${k}: gradient of u`);
      assert.deepEqual(b.gB, a.gB, `${dtype} ${m}×${k}: gradient of B`);
    }
  }
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
