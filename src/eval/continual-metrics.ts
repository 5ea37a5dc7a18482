// Continual-learning summaries over the accuracy matrix R[t][j] = mAP on session-j queries after
// training session t (defined for j <= t; sessions 0..T). Definitions (Lopez-Paz & Ranzato's BWT,
// Chaudhry et al.'s forgetting), with T the last session:
//   final average mAP       = mean_j R[T][j]
//   average incremental mAP = mean_t ( mean_{j<=t} R[t][j] )
//   BWT                     = mean_{j<T} ( R[T][j] − R[j][j] )
//   forgetting              = mean_{j<T} ( max_{j<=t<T} R[t][j] − R[T][j] )
// With a single session BWT and forgetting are 0 (nothing to forget).
import { InputError } from '../util/errors.js';

export interface ContinualSummary {
  sessions: number;
  finalAverage: number;
  averageIncremental: number;
  bwt: number;
  forgetting: number;
  /** mean_{j<=t} R[t][j] for each t. */
  averageAfterSession: number[];
}

/** R is lower-triangular: R[t] has at least t+1 finite entries (entries for j > t are ignored). */
export function continualSummary(R: readonly (readonly number[])[]): ContinualSummary {
  const sessions = R.length;
  if (sessions === 0) throw new InputError('continual metrics: the accuracy matrix R is empty');
  for (let t = 0; t < sessions; t++) {
    const row = R[t]!;
    if (row.length < t + 1) throw new InputError(`continual metrics: R[${t}] needs ${t + 1} entries (j <= t), got ${row.length}`);
    for (let j = 0; j <= t; j++) if (!Number.isFinite(row[j]!)) throw new InputError(`continual metrics: R[${t}][${j}] is ${row[j]}`);
  }
  const T = sessions - 1;
  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
  const last = R[T]!;
  const averageAfterSession = R.map((row, t) => mean(row.slice(0, t + 1) as number[]));
  const bwtTerms: number[] = [], forgetTerms: number[] = [];
  for (let j = 0; j < T; j++) {
    bwtTerms.push(last[j]! - R[j]![j]!);
    let best = -Infinity;
    for (let t = j; t < T; t++) best = Math.max(best, R[t]![j]!);
    forgetTerms.push(best - last[j]!);
  }
  return {
    sessions,
    finalAverage: mean(last.slice(0, T + 1) as number[]),
    averageIncremental: mean(averageAfterSession),
    bwt: mean(bwtTerms),
    forgetting: mean(forgetTerms),
    averageAfterSession,
  };
}
