// Gradient clipping by global L2 norm over all given parameters.
import { InputError } from '../util/errors.js';
import type { Tensor } from '../tensor/tensor.js';

/** Total L2 norm of all gradients (params without a gradient count as zero). */
export function gradNorm(params: Tensor[]): number {
  let s = 0;
  for (const p of params) {
    const g = p.grad;
    if (g) for (let i = 0; i < g.length; i++) s += g[i]! * g[i]!;
  }
  return Math.sqrt(s);
}

/** Scales all gradients so their joint norm is at most maxNorm; returns the norm before clipping. */
export function clipGradNorm(params: Tensor[], maxNorm: number): number {
  if (!(maxNorm > 0)) throw new InputError(`clipGradNorm: maxNorm must be > 0, got ${maxNorm}`);
  const norm = gradNorm(params);
  if (norm > maxNorm) {
    const f = maxNorm / (norm + 1e-6);
    for (const p of params) { const g = p.grad; if (g) for (let i = 0; i < g.length; i++) g[i]! *= f; }
  }
  return norm;
}
