// `--tune`: a small deterministic search over a method's settings, scored on a validation split
// carved from the training items (never the queries). The space comes from the method's option
// schema (each option's `tune` values) plus the learning rate; the search is coordinate descent
// from the defaults: one option at a time, each of its values tried, the best kept, until the
// budget of trials is spent. Ties keep the earlier (default-side) setting, so a run is repeatable.
import { InputError } from '../util/errors.js';
import { createHasher, methodEntry } from './registry.js';
import type { Hasher, TrainingData, TrainOptions } from './hasher.js';
import { crossModalMap, validationDatabase } from './evaluate.js';

/** One searched setting: a method option (given at creation) or a common training option, and its default. */
export interface TuneDimension { name: string; at: 'option' | 'train'; values: readonly unknown[]; default: unknown }

/** A setting: the method options and the common training options it sets. */
export interface Setting { options: Record<string, unknown>; train: Record<string, unknown> }

export interface Trial { setting: Setting; score: number; seconds: number }

export interface TuneResult {
  /** The best setting found (the defaults when nothing beat them). */
  best: Setting;
  bestScore: number;
  /** Every setting tried, in order, with its validation score. */
  trials: Trial[];
  budget: number;
}

/** What a run records of its `--tune` (JSON record, report.json, checkpoint meta). */
export interface TunedRecord { options: Record<string, unknown>; train: Record<string, unknown>; validation_score: number; trials: number }

export function tunedRecord(r: TuneResult): TunedRecord {
  return { options: r.best.options, train: r.best.train, validation_score: r.bestScore, trials: r.trials.length };
}

/**
 * The dimensions `--tune` searches for `method`, in order: the learning rate (the given one, or the
 * method's default, ÷3 and ×3), then each option with `tune` values in schema order. `singleFit`
 * (train) leaves out options that act only in increments (`tuneIn: 'continual'`).
 */
export function tuneSpace(method: string, o: { learningRate?: number; singleFit?: boolean } = {}): TuneDimension[] {
  const e = methodEntry(method);
  const lr = o.learningRate ?? e.defaults.learningRate;
  // closed-form methods (the baselines) have no learning rate
  const dims: TuneDimension[] = e.defaults.learningRate > 0 ? [{ name: 'learningRate', at: 'train', values: [lr, lr / 3, lr * 3], default: lr }] : [];
  for (const [name, spec] of Object.entries(e.options)) {
    if (!spec.tune?.length || (o.singleFit && spec.tuneIn === 'continual')) continue;
    dims.push({ name, at: 'option', values: spec.tune, default: spec.default });
  }
  return dims;
}

const key = (s: Setting) => JSON.stringify([Object.entries(s.options).sort(), Object.entries(s.train).sort()]);

/**
 * Coordinate descent over `space` from `start`, at most `budget` calls of `score` (higher is
 * better). `score` must read training items only (the caller carves the validation split).
 */
export async function searchSettings(space: readonly TuneDimension[], start: Setting, budget: number,
  score: (s: Setting) => Promise<number>, onTrial?: (t: Trial, i: number) => void): Promise<TuneResult> {
  if (!Number.isInteger(budget) || budget < 1) throw new InputError(`--tune: budget must be a positive integer, got ${budget}`);
  const trials: Trial[] = [];
  const seen = new Map<string, number>();
  const run = async (s: Setting): Promise<number> => {
    const k = key(s);
    const known = seen.get(k);
    if (known !== undefined) return known;
    const t0 = performance.now();
    const v = await score(s);
    if (!Number.isFinite(v)) throw new InputError(`--tune: a setting scored ${v} (${k})`);
    const t: Trial = { setting: s, score: v, seconds: (performance.now() - t0) / 1000 };
    trials.push(t);
    seen.set(k, v);
    onTrial?.(t, trials.length - 1);
    return v;
  };
  // the start with every searched setting written out (giving a default equals leaving it out)
  let best: Setting = { options: { ...start.options }, train: { ...start.train } };
  for (const d of space) {
    const side = d.at === 'option' ? best.options : best.train;
    if (side[d.name] === undefined && d.default !== undefined) side[d.name] = d.default;
  }
  let bestScore = await run(best);
  for (const dim of space) {
    for (const value of dim.values) {
      if (trials.length >= budget) return { best, bestScore, trials, budget };
      const cand: Setting = { options: { ...best.options }, train: { ...best.train } };
      (dim.at === 'option' ? cand.options : cand.train)[dim.name] = value;
      if (seen.has(key(cand))) continue;
      const v = await run(cand);
      if (v > bestScore) { best = cand; bestScore = v; }
    }
  }
  return { best, bestScore, trials, budget };
}

export interface TuneFitOptions {
  bits: number;
  seed: number;
  /** Trials at most (one fit each). */
  budget: number;
  /** Method options the user set (the search starts there and keeps what it does not search). */
  options?: Record<string, unknown>;
  /** Common training options the user set (epochs, batch size, …). */
  trainOptions?: Omit<TrainOptions, 'bits' | 'seed' | 'validation'>;
  onTrial?: (t: Trial, i: number) => void;
}

/**
 * `train --tune`: searches `method`'s settings, each trial fitted on `train` (with `validation`
 * for its own epoch selection) and scored by the validation items querying the training items
 * (mean of I→T and T→I mAP@all). Only `train` and `validation` are read — both carved from the
 * training split by the caller, never from the queries. Returns the best trial's model.
 */
export async function tuneFit(method: string, train: TrainingData, validation: TrainingData, o: TuneFitOptions): Promise<{ model: Hasher; result: TuneResult }> {
  let bestModel: Hasher | null = null, bestScore = -Infinity;
  const db = validationDatabase(train);
  const space = tuneSpace(method, { learningRate: o.trainOptions?.learningRate, singleFit: true });
  const result = await searchSettings(space, { options: { ...o.options }, train: {} }, o.budget, async (s) => {
    const model = createHasher(method, { bits: o.bits, ...s.options });
    await model.fit(train, { ...o.trainOptions, ...s.train, bits: o.bits, seed: o.seed, validation } as TrainOptions);
    const v = crossModalMap(model, validation, db);
    const score = (v.i2t + v.t2i) / 2;
    if (score > bestScore) { bestScore = score; bestModel = model; }
    return score;
  }, o.onTrial);
  return { model: bestModel!, result };
}
