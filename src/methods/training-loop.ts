// The training template shared by every method (Avalanche's split: methods supply one epoch and a
// snapshot of their parameters; this file owns batching, validation, model selection, early
// stopping and progress). Also the input checks every method applies the same way.
import { InputError } from '../util/errors.js';
import { Rng } from '../util/rng.js';
import { gatherRows } from '../data/dataset.js';
import type { FitSummary, Modality, TrainInfo, TrainingData, TrainProgress } from './hasher.js';
import { validateBits } from '../codes/packed-codes.js';

// ---------------------------------------------------------------------------------------------
// Input checks (clear errors naming what was expected and what arrived)

/** Code length from a number or a CLI string, checked by the one rule of packed codes (validateBits). */
export function checkBits(bits: unknown, where = 'bits'): number {
  const b = typeof bits === 'string' && bits.trim() !== '' ? Number(bits) : bits;
  validateBits(typeof b === 'number' ? b : NaN, `${where}: code length`, String(bits));
  return b as number;
}

/** Rows and widths of a TrainingData agree, and no feature is NaN/Inf (never silently trained on). */
export function checkTrainingData(d: TrainingData, where = 'training data'): void {
  const ints: [string, number][] = [['n', d.n], ['imageDim', d.imageDim], ['textDim', d.textDim], ['numClasses', d.numClasses]];
  for (const [k, v] of ints) {
    if (!Number.isInteger(v) || v < 0) throw new InputError(`${where}: ${k} must be a non-negative integer, got ${v}`);
  }
  if (d.n < 2) throw new InputError(`${where}: needs at least 2 items, got ${d.n}`);
  if (d.imageDim < 1 || d.textDim < 1) throw new InputError(`${where}: both modalities need features (image width ${d.imageDim}, text width ${d.textDim})`);
  if (d.image.length !== d.n * d.imageDim) throw new InputError(`${where}: image has ${d.image.length} values, expected n × imageDim = ${d.n} × ${d.imageDim} = ${d.n * d.imageDim}`);
  if (d.text.length !== d.n * d.textDim) throw new InputError(`${where}: text has ${d.text.length} values, expected n × textDim = ${d.n} × ${d.textDim} = ${d.n * d.textDim}`);
  if (d.labels.length !== d.n * d.numClasses) throw new InputError(`${where}: labels has ${d.labels.length} values, expected n × numClasses = ${d.n} × ${d.numClasses} = ${d.n * d.numClasses}`);
  checkFinite(d.image, `${where}: image`, d.imageDim);
  checkFinite(d.text, `${where}: text`, d.textDim);
}

function checkFinite(a: Float32Array, where: string, dim: number): void {
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i]!)) throw new InputError(`${where}: non-finite value ${a[i]} at row ${Math.floor(i / dim)}, column ${i % dim}`);
  }
}

/** encode() input: `rows` vectors of exactly the width the model was trained on. */
export function checkFeatures(method: string, modality: Modality, features: Float32Array, rows: number, expectedDim: number): void {
  if (modality !== 'image' && modality !== 'text') throw new InputError(`${method}.encode: modality must be "image" or "text", got ${String(modality)}`);
  if (expectedDim <= 0) throw new InputError(`${method}.encode: the model has not been trained or loaded yet`);
  if (!Number.isInteger(rows) || rows < 0) throw new InputError(`${method}.encode: rows must be a non-negative integer, got ${rows}`);
  if (features.length !== rows * expectedDim) {
    const got = rows > 0 && features.length % rows === 0 ? `width ${features.length / rows}` : `${features.length} values`;
    throw new InputError(`${method}.encode: this model expects ${modality} features of width ${expectedDim} (${rows} rows → ${rows * expectedDim} values), got ${got}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Row selection, validation split, batches

/** The items `idx` of a TrainingData, in that order. */
export function subsetTrainingData(d: TrainingData, idx: ArrayLike<number>): TrainingData {
  return {
    n: idx.length, imageDim: d.imageDim, textDim: d.textDim, numClasses: d.numClasses,
    image: gatherRows(d.image, d.imageDim, idx), text: gatherRows(d.text, d.textDim, idx), labels: gatherRows(d.labels, d.numClasses, idx),
  };
}

/**
 * Carves a validation split out of the training data (never out of the query set): a seeded random
 * `fraction` of the items (at least 1, at most n − 2 so training keeps a batch). Returns the indices
 * too, so a caller can say which training items were held out.
 */
export function carveValidation(d: TrainingData, fraction: number, seed: number):
  { train: TrainingData; validation: TrainingData; trainIdx: Int32Array; validationIdx: Int32Array } {
  if (!(fraction > 0 && fraction < 1)) throw new InputError(`validation fraction must be in (0, 1), got ${fraction}`);
  const perm = new Rng(seed ^ 0x7a11da7e).permutation(d.n);
  const nv = Math.min(d.n - 2, Math.max(1, Math.round(d.n * fraction)));
  // Sorted so both parts keep the original item order (stable, easy to reason about).
  const validationIdx = perm.slice(0, nv).sort();
  const trainIdx = perm.slice(nv).sort();
  return { train: subsetTrainingData(d, trainIdx), validation: subsetTrainingData(d, validationIdx), trainIdx, validationIdx };
}

/**
 * The held-out split of continual session t: carveValidation(session, fraction, seed + t), or null for
 * a session of fewer than 20 items. DLCMH, CCMH-GAM, their baselines and the session runner's
 * validation score all take the split from here, so the score is over items no method trained on.
 */
export function sessionValidationSplit(d: TrainingData, t: number, seed: number, fraction = 0.1): ReturnType<typeof carveValidation> | null {
  return d.n >= 20 ? carveValidation(d, fraction, seed + t) : null;
}

/** How many batches shuffledBatches(n, batchSize) yields. */
export function shuffledBatchCount(n: number, batchSize: number): number {
  const full = Math.ceil(n / batchSize);
  const tail = n - (full - 1) * batchSize;
  return full > 1 && tail < Math.max(2, batchSize / 4) ? full - 1 : full;
}

/** A fresh permutation of 0..n−1 cut into batches; a short tail batch is merged into the one before. */
export function shuffledBatches(n: number, batchSize: number, rng: Rng): Int32Array[] {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new InputError(`batch size must be a positive integer, got ${batchSize}`);
  const perm = rng.permutation(n);
  const out: Int32Array[] = [];
  for (let s = 0; s < n; s += batchSize) out.push(perm.subarray(s, Math.min(n, s + batchSize)));
  // A batch of 1–2 items gives a noisy step (and a degenerate pairwise loss); merge it.
  if (out.length > 1 && out[out.length - 1]!.length < Math.max(2, batchSize / 4)) {
    const tail = out.pop()!; const prev = out.pop()!;
    const merged = new Int32Array(prev.length + tail.length); merged.set(prev); merged.set(tail, prev.length);
    out.push(merged);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Feature standardisation (part of every model: stored in the checkpoint, applied in encode)

/** Columns whose std is below this are constant in the fitting rows. */
const CONSTANT_STD = 1e-6;

/**
 * Per-column mean and 1/std over the training rows. A column constant in those rows (a tag or word
 * that never occurs in them — common for sparse text features, and in a continual stream, whose
 * statistics come from the base session, for every word of a later session's classes) is scaled by
 * the median std of the other columns: with its own (zero) std floored at 1e-6 it was multiplied by
 * 10⁶, so one later occurrence saturated the network (MIRFlickr photo rows: 580 of 1,386 tag columns
 * are constant in the 22+2 base session; the 40k synthetic stream: 30 of 256 text columns).
 */
export function columnStats(x: Float32Array, rows: number, dim: number): { mean: Float32Array; invStd: Float32Array } {
  const mean = new Float64Array(dim); const sq = new Float64Array(dim);
  for (let r = 0; r < rows; r++) for (let j = 0; j < dim; j++) { const v = x[r * dim + j]!; mean[j] += v; sq[j] += v * v; }
  const m = new Float32Array(dim); const inv = new Float32Array(dim);
  const std = new Float64Array(dim);
  for (let j = 0; j < dim; j++) {
    const mu = mean[j]! / rows;
    std[j] = Math.sqrt(Math.max(0, sq[j]! / rows - mu * mu));
    m[j] = mu;
  }
  const varying = Array.from(std).filter((s) => s >= CONSTANT_STD).sort((a, b) => a - b);
  const typical = varying.length ? varying[varying.length >> 1]! : 1;
  for (let j = 0; j < dim; j++) inv[j] = 1 / (std[j]! >= CONSTANT_STD ? std[j]! : typical);
  return { mean: m, invStd: inv };
}

/** (x − mean) · invStd, row by row, into a new array. */
export function standardize(x: Float32Array, dim: number, mean: Float32Array, invStd: Float32Array): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i += dim) for (let j = 0; j < dim; j++) out[i + j] = (x[i + j]! - mean[j]!) * invStd[j]!;
  return out;
}

/** ±1 codes from real values (sign, 0 → +1: the convention of codes/packed-codes.ts). */
export function signCodes(values: Float32Array): Float32Array {
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = values[i]! >= 0 ? 1 : -1;
  return out;
}

// ---------------------------------------------------------------------------------------------
// The epoch loop with validation-based model selection and early stopping

export interface EpochLoopSpec {
  epochs: number;
  /** Runs one epoch of training; returns the epoch's named loss terms (averages). */
  runEpoch(epoch: number): Record<string, number>;
  /** Validation score of the current parameters ({i2t, t2i}, higher is better), or null to skip. */
  validate?: () => { i2t: number; t2i: number } | null;
  /** Copies the current parameters (called when the validation score improves). */
  snapshot(): unknown;
  /** Puts back a snapshot taken earlier (called at the end when an earlier epoch scored best). */
  restore(s: unknown): void;
  patience?: number;
  /**
   * The model-selection score of an epoch's validation mAP (higher is better). Default: the mean of
   * I→T and T→I (every method's choice unless it passes another; see selectionScore()).
   */
  score?: (v: { i2t: number; t2i: number }) => number;
  onProgress?: (p: TrainProgress) => void;
  /** Called after every epoch (after validation): the DBRC ablation records bit flips here. */
  afterEpoch?: (epoch: number) => void;
}

/**
 * Runs up to `epochs` epochs. With a validation scorer, keeps the parameters of the epoch with the
 * best mean of I→T and T→I validation mAP and stops after `patience` epochs without improvement;
 * without one, keeps the last epoch. Yields to the event loop between epochs so progress bars draw.
 */
export async function runEpochs(spec: EpochLoopSpec): Promise<FitSummary> {
  const t0 = performance.now();
  const history: TrainProgress[] = [];
  let best: { epoch: number; score: number; snap: unknown } | null = null;
  let sinceBest = 0; let stoppedEarly = false; let epoch = 0;
  for (epoch = 1; epoch <= spec.epochs; epoch++) {
    const loss = spec.runEpoch(epoch);
    for (const [k, v] of Object.entries(loss)) {
      if (!Number.isFinite(v)) throw new InputError(`training diverged: loss term "${k}" is ${v} at epoch ${epoch} (try a smaller learning rate)`);
    }
    const val = spec.validate ? spec.validate() : null;
    let improved: boolean | undefined;
    if (val) {
      const score = spec.score ? spec.score(val) : (val.i2t + val.t2i) / 2;
      improved = !best || score > best.score;
      if (improved) { best = { epoch, score, snap: spec.snapshot() }; sinceBest = 0; } else sinceBest++;
    }
    const p: TrainProgress = { epoch, epochs: spec.epochs, loss, elapsedSeconds: (performance.now() - t0) / 1000, ...(val ? { validation: val, improved } : {}) };
    history.push(p);
    spec.afterEpoch?.(epoch);
    spec.onProgress?.(p);
    await new Promise<void>((r) => setImmediate(r));
    if (val && spec.patience !== undefined && sinceBest >= spec.patience && epoch < spec.epochs) { stoppedEarly = true; break; }
  }
  const epochsRun = Math.min(epoch, spec.epochs);
  if (best && best.epoch !== epochsRun) spec.restore(best.snap);
  return {
    epochsRun, bestEpoch: best ? best.epoch : epochsRun, bestScore: best ? best.score : null,
    stoppedEarly, trainSeconds: (performance.now() - t0) / 1000, history,
  };
}

/**
 * Epoch-selection rules a method can offer: 'mean' of the two directions (the default of runEpochs),
 * or 'weaker' — the lower of the two, so an epoch that gains in one direction by losing in the other
 * is not kept (on Wikipedia T→I spans .2–.6 while I→T spans .2–.26, and the mean follows T→I).
 */
export type SelectionRule = 'mean' | 'weaker';
export const SELECTION_RULES: readonly SelectionRule[] = ['mean', 'weaker'];
export function selectionScore(rule: SelectionRule): (v: { i2t: number; t2i: number }) => number {
  return rule === 'weaker' ? (v) => Math.min(v.i2t, v.t2i) : (v) => (v.i2t + v.t2i) / 2;
}

/** Epochs raised so that an epoch loop over n items in batches of `batch` makes at least `minSteps` steps. */
export function epochsForSteps(epochs: number, n: number, batch: number, minSteps: number): number {
  if (!(minSteps > 0) || n <= 0) return epochs;
  const perEpoch = Math.ceil(n / Math.max(1, Math.min(batch, n)));
  return Math.max(epochs, Math.ceil(minSteps / perEpoch));
}

/** The summary that goes into a checkpoint. */
export function trainInfoOf(fit: FitSummary, seed: number, trainItems: number): TrainInfo {
  return { seed, trainSeconds: fit.trainSeconds, epochsRun: fit.epochsRun, bestEpoch: fit.bestEpoch, trainItems };
}
