// Pairwise-similarity losses over a matrix of code inner products, each as one fused op:
//   pairwiseLikelihood      Σ or mean of softplus(Θ) − S⊙Θ     (DCMH, CCMH-GAM's label net)
//   pairwiseSquaredError    mean of (k·P − S)²                  (DLCMH's code-similarity terms)
// Why fused: composed from elementwise ops each made several matrix-sized temporaries and their
// gradients (the softplus backward also recomputed e^−|Θ| for σ(Θ)); on MIRFlickr's label step and
// DLCMH's old-code term (128 × 2,000 per step) those passes were a third of an increment. Results
// are bit-identical to the composed ops: every intermediate is rounded to the tensor's dtype where
// the composed ops stored it, sums run in float64 in index order, and gradients accumulate in the
// composed graph's backward order (test/tensor/ops-pairwise.test.ts checks bit equality).
import { shapeError } from '../util/errors.js';
import { Tensor, allocBuf, gradOf, makeResult, sameDtype } from './tensor.js';

export type LikelihoodReduction = 'sum' | 'mean';

/** Σ (or mean) of softplus(Θ) − S ⊙ Θ; S (same shape as Θ) is a constant target. */
export function pairwiseLikelihood(theta: Tensor, S: Tensor, reduction: LikelihoodReduction = 'mean'): Tensor {
  sameDtype('pairwiseLikelihood', theta, S);
  if (theta.rows !== S.rows || theta.cols !== S.cols) throw shapeError('pairwiseLikelihood', theta.shape, S.shape, '(S must have the shape of Θ)');
  const n = theta.size;
  const scale = reduction === 'mean' ? 1 / n : 1;
  const x = theta.data, s = S.data;
  const f32 = theta.dtype === 'f32';
  // e^−|Θ| per element, kept for σ(Θ) in the backward pass (the composed ops computed it twice).
  const expNegAbs = new Float64Array(theta.requiresGrad ? n : 0);
  const keep = expNegAbs.length > 0;
  let total = 0;
  if (f32) {
    for (let i = 0; i < n; i++) {
      const v = x[i]!, e = Math.exp(-Math.abs(v));
      if (keep) expNegAbs[i] = e;
      total += Math.fround(Math.fround(Math.max(v, 0) + Math.log1p(e)) - Math.fround(s[i]! * v));
    }
  } else {
    for (let i = 0; i < n; i++) {
      const v = x[i]!, e = Math.exp(-Math.abs(v));
      if (keep) expNegAbs[i] = e;
      total += (Math.max(v, 0) + Math.log1p(e)) - s[i]! * v;
    }
  }
  const out = allocBuf(theta.dtype, 1);
  out[0] = total * scale;
  return makeResult('pairwiseLikelihood', 1, 1, out, [theta], (g) => {
    const ga = gradOf(theta);
    // The composed graph's gradient of each softplus − S·Θ term: the reduction's g·scale, stored.
    let gd = g[0]! * scale;
    if (f32) gd = Math.fround(gd);
    for (let i = 0; i < n; i++) {
      const v = x[i]!, e = expNegAbs[i]!;
      const sig = v >= 0 ? 1 / (1 + e) : e / (1 + e);
      if (f32) ga[i] = Math.fround(ga[i]! + -gd * s[i]!) + gd * sig;
      else ga[i] = (ga[i]! + -gd * s[i]!) + gd * sig;
    }
  });
}

/** mean of (k·P − S)², S (same shape as P) a constant target; as mean(square(sub(mulScalar(P, k), S))). */
export function pairwiseSquaredError(P: Tensor, k: number, S: Tensor): Tensor {
  sameDtype('pairwiseSquaredError', P, S);
  if (P.rows !== S.rows || P.cols !== S.cols) throw shapeError('pairwiseSquaredError', P.shape, S.shape, '(S must have the shape of P)');
  const n = P.size, scale = 1 / n;
  const x = P.data, s = S.data;
  const f32 = P.dtype === 'f32';
  const d = allocBuf(P.dtype, P.requiresGrad ? n : 0); // k·P − S as stored, for the backward pass
  const keep = d.length > 0;
  let total = 0;
  if (f32) {
    for (let i = 0; i < n; i++) {
      const di = Math.fround(Math.fround(x[i]! * k) - s[i]!);
      if (keep) d[i] = di;
      total += Math.fround(di * di);
    }
  } else {
    for (let i = 0; i < n; i++) {
      const di = x[i]! * k - s[i]!;
      if (keep) d[i] = di;
      total += di * di;
    }
  }
  const out = allocBuf(P.dtype, 1);
  out[0] = total * scale;
  return makeResult('pairwiseSquaredError', 1, 1, out, [P], (g) => {
    const ga = gradOf(P);
    let gq = g[0]! * scale; // the mean's gradient, stored per element by the composed ops
    if (f32) gq = Math.fround(gq);
    for (let i = 0; i < n; i++) {
      let gd = 2 * gq * d[i]!; // square's backward, then sub's (identity), then mulScalar's (× k)
      if (f32) gd = Math.fround(gd);
      ga[i] = ga[i]! + gd * k;
    }
  });
}
