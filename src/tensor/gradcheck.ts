// Central finite-difference gradient check in float64. The function's output (any shape) is
// reduced to a scalar L = Σ w ⊙ out with fixed random weights w, so every output element
// contributes; dL/dinput from backward() is compared with (L(x+h) − L(x−h)) / 2h per element.
import { InputError } from '../util/errors.js';
import { Rng } from '../util/rng.js';
import { Tensor } from './tensor.js';

export interface GradCheckResult {
  ok: boolean;
  /** Largest |analytic − numeric| over all checked elements. */
  maxAbsErr: number;
  /** Largest |analytic − numeric| / max(1, |analytic|, |numeric|). */
  maxRelErr: number;
  /** Where the worst error occurred (input index, element index, both values). */
  worst: { input: number; index: number; analytic: number; numeric: number } | null;
}

export interface GradCheckOpts { h?: number; tol?: number; seed?: number }

/**
 * Checks the gradient of fn with respect to every input tensor (all must be float64 with
 * requiresGrad). fn must be deterministic (re-seed any RNG inside it).
 */
export function gradCheck(fn: (inputs: Tensor[]) => Tensor, inputs: Tensor[], opts: GradCheckOpts = {}): GradCheckResult {
  const h = opts.h ?? 1e-6, tol = opts.tol ?? 1e-6;
  for (const [i, t] of inputs.entries()) {
    if (t.dtype !== 'f64') throw new InputError(`gradCheck: input ${i} must be float64, got ${t.dtype}`);
    if (!t.requiresGrad) throw new InputError(`gradCheck: input ${i} must have requiresGrad`);
  }
  const out0 = fn(inputs);
  const rng = new Rng(opts.seed ?? 12345);
  const w = new Float64Array(out0.size);
  for (let i = 0; i < w.length; i++) w[i] = rng.normal();
  const scalar = (): number => {
    const o = fn(inputs);
    let s = 0;
    for (let i = 0; i < w.length; i++) s += w[i]! * o.data[i]!;
    return s;
  };
  for (const t of inputs) t.grad = null;
  out0.backward(w);
  let maxAbsErr = 0, maxRelErr = 0;
  let worst: GradCheckResult['worst'] = null;
  for (const [k, t] of inputs.entries()) {
    const analytic = t.grad ?? new Float64Array(t.size);
    for (let i = 0; i < t.size; i++) {
      const x0 = t.data[i]!;
      t.data[i] = x0 + h; const fp = scalar();
      t.data[i] = x0 - h; const fm = scalar();
      t.data[i] = x0;
      const numeric = (fp - fm) / (2 * h), an = analytic[i]!;
      const abs = Math.abs(an - numeric);
      let rel = abs / Math.max(1, Math.abs(an), Math.abs(numeric));
      if (Number.isNaN(rel)) rel = Infinity; // a NaN anywhere is a failure
      if (rel > maxRelErr || worst === null) { maxRelErr = rel; worst = { input: k, index: i, analytic: an, numeric }; }
      if (abs > maxAbsErr) maxAbsErr = abs;
    }
  }
  return { ok: maxRelErr <= tol, maxAbsErr, maxRelErr, worst };
}
