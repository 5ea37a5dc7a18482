// Random exemplar memory: the ablation for gradient-aware memory. The same budget, drawn uniformly
// from the session, each with weight 1/m so the weighted gradient is an unbiased estimate of the
// session's mean gradient.
import type { Rng } from '../../util/rng.js';

export interface RandomSelection { indices: number[]; weights: number[] }

export function selectRandom(n: number, budget: number, rng: Rng): RandomSelection {
  const m = Math.max(0, Math.min(budget, n));
  const perm = rng.permutation(n);
  const indices = Array.from(perm.subarray(0, m)).sort((a, b) => a - b);
  return { indices, weights: indices.map(() => 1 / m) };
}
