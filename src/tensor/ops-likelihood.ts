// The pairwise likelihood loss of DCMH and CCMH-GAM's label net as one fused op:
//   Σ or mean over (i, j) of softplus(Θᵢⱼ) − Sᵢⱼ·Θᵢⱼ,   ∂/∂Θᵢⱼ = σ(Θᵢⱼ) − Sᵢⱼ (times the scale).
// Why fused: composed from softplus, mul, sub and sum it made three Θ-sized temporaries and their
// gradients, and the softplus backward recomputed e^−|Θ| for σ(Θ). On MIRFlickr's label step those
// passes were a third of an increment. Results are bit-identical to the composed ops: every
// intermediate is rounded to the tensor's dtype where the composed ops stored it, the sum runs in
// float64 in index order, and Θ's gradient accumulates the S-term first, then the σ-term, as the
// composed graph's backward order did (test/tensor/pairwise-likelihood.test.ts checks bit equality).
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
