// Pairwise-similarity losses over a matrix of code inner products, each as one fused op:
//   pairwiseLikelihood      Σ or mean of softplus(Θ) − S⊙Θ     (DCMH, CCMH-GAM's label net)
//   pairwiseSquaredError    mean of (k·P − S)²                  (DLCMH's code-similarity terms)
// Why fused: composed from elementwise ops each made several matrix-sized temporaries and their
// gradients (the softplus backward also recomputed e^−|Θ| for σ(Θ)); on MIRFlickr's label step and
// DLCMH's old-code term (128 × 2,000 per step) those passes were a third of an increment. Results
// are bit-identical to the composed ops: every intermediate is rounded to the tensor's dtype where
// the composed ops stored it, sums run in float64 in index order, and gradients accumulate in the
// composed graph's backward order (test/tensor/ops-pairwise.test.ts checks bit equality).
import { InputError, shapeError } from '../util/errors.js';
import { Tensor, allocBuf, gradOf, isGradEnabled, makeResult, sameDtype } from './tensor.js';

export type LikelihoodReduction = 'sum' | 'mean';

/**
 * Shared checks: S has the input's shape and dtype (no broadcasting), S is a constant (these ops give
 * it no gradient; the composed ops would have), a mean is over at least one entry.
 */
function checkPair(op: string, a: Tensor, S: Tensor, mean: boolean): void {
  sameDtype(op, a, S);
  if (a.rows !== S.rows || a.cols !== S.cols) throw shapeError(op, a.shape, S.shape, '(the target S must have the shape of the input; no broadcasting)');
  if (S.requiresGrad && isGradEnabled()) throw new InputError(`${op}: the target S must be a constant (requiresGrad false); compose the elementwise ops for a gradient in S`);
  if (mean && a.size === 0) throw new InputError(`${op}: cannot average over an empty [${a.rows}×${a.cols}] input`);
}

/** Σ (or mean) of softplus(Θ) − S ⊙ Θ; S (same shape as Θ) is a constant target. */
export function pairwiseLikelihood(theta: Tensor, S: Tensor, reduction: LikelihoodReduction = 'mean'): Tensor {
  if (reduction !== 'mean' && reduction !== 'sum') throw new InputError(`pairwiseLikelihood: reduction must be 'mean' or 'sum', got ${String(reduction)}`);
  checkPair('pairwiseLikelihood', theta, S, reduction === 'mean');
  const n = theta.size;
  const scale = reduction === 'mean' ? 1 / n : 1;
  const x = theta.data, s = S.data;
  const f32 = theta.dtype === 'f32';
  // e^−|Θ| per element, kept for σ(Θ) in the backward pass (the composed ops computed it twice).
  const expNegAbs = new Float64Array(theta.requiresGrad && isGradEnabled() ? n : 0);
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
    // As the composed graph: the reduction stores g·scale into a zeroed buffer (0 + ·, which also
    // turns −0 into +0), sub passes it to softplus and its negation (0 − ·) to the S⊙Θ term; Θ's
    // gradient takes the S-term first, then the σ-term.
    let gd = 0 + g[0]! * scale;
    if (f32) gd = Math.fround(gd);
    const gz = 0 - gd;
    for (let i = 0; i < n; i++) {
      const v = x[i]!, e = expNegAbs[i]!;
      const sig = v >= 0 ? 1 / (1 + e) : e / (1 + e);
      if (f32) ga[i] = Math.fround(ga[i]! + gz * s[i]!) + gd * sig;
      else ga[i] = (ga[i]! + gz * s[i]!) + gd * sig;
    }
  });
}

/** mean of (k·P − S)², S (same shape as P) a constant target; as mean(square(sub(mulScalar(P, k), S))). */
export function pairwiseSquaredError(P: Tensor, k: number, S: Tensor): Tensor {
  checkPair('pairwiseSquaredError', P, S, true);
  const n = P.size, scale = 1 / n;
  const x = P.data, s = S.data;
  const f32 = P.dtype === 'f32';
  const d = allocBuf(P.dtype, P.requiresGrad && isGradEnabled() ? n : 0); // k·P − S as stored, for the backward pass
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
    let gq = 0 + g[0]! * scale; // the mean's gradient, stored per element by the composed ops (0 + ·: −0 → +0)
    if (f32) gq = Math.fround(gq);
    for (let i = 0; i < n; i++) {
      let gd = 0 + 2 * gq * d[i]!; // square's backward, then sub's (identity), then mulScalar's (× k)
      if (f32) gd = Math.fround(gd);
      ga[i] = ga[i]! + gd * k;
    }
  });
}
