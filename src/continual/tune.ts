// `continual --tune`: the settings search of methods/tune.ts, each setting scored by a whole run of
// the session protocol on the plan without its queries — the score is the runner's validation mAP
// (held-out training items of every session against the database so far), so no query item is
// encoded or ranked while settings are chosen.
import { InputError } from '../util/errors.js';
import { createContinualHasher } from '../methods/registry.js';
import { searchSettings, tuneSpace, type Trial, type TuneResult } from '../methods/tune.js';
import { runContinual, type ContinualPlan, type RunOptions } from './runner.js';

export interface TuneContinualOptions {
  bits: number;
  seed: number;
  budget: number;
  /** Method options the user set (the start of the search). */
  options?: Record<string, unknown>;
  /** Common training options the user set. */
  train?: RunOptions['train'];
  databaseCodes?: RunOptions['databaseCodes'];
  onTrial?: (t: Trial, i: number) => void;
}

/** The plan with no queries: what tuning runs on. */
export function withoutQueries(plan: ContinualPlan): ContinualPlan {
  return { ...plan, queryRows: new Int32Array(0), querySession: new Int32Array(0) };
}

export async function tuneContinual(method: string, plan: ContinualPlan, o: TuneContinualOptions): Promise<TuneResult> {
  const blind = withoutQueries(plan);
  const space = tuneSpace(method, { learningRate: o.train?.learningRate as number | undefined });
  return searchSettings(space, { options: { ...o.options }, train: {} }, o.budget, async (s) => {
    const hasher = createContinualHasher(method, { bits: o.bits, ...s.options });
    const { detail } = await runContinual(hasher, blind, { bits: o.bits, seed: o.seed, train: { ...o.train, ...s.train }, databaseCodes: o.databaseCodes });
    const v = detail.per_session.at(-1)?.validation_map;
    if (!v) throw new InputError(`--tune: ${method} has no validation score on this stream (sessions with fewer than 20 training items hold nothing out)`);
    return (v.i2t + v.t2i) / 2;
  }, o.onTrial);
}
