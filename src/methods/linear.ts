// Closed-form baselines: `linear` here and `cca` (cca.ts). Both learn, per modality, one
// linear map of the standardised features followed by sign(), in closed form (no epochs, no
// learning rate), and both refit on every item seen so far at each continual session, like joint
// retraining: they keep all training items (memoryItems() = items kept, stored in the checkpoint)
// and are registered with reencodesDatabase, so the runner re-stores every database code after a
// refit. This file holds what they share (RefitBaseline: kept data, standardisation, the linear
// encoders, fit/update/encode, checkpoint, export) and the `linear` method.
//
// linear — label regression + seeded rotation (supervised):
//   1. standardise each feature column with the training statistics (columnStats/standardize);
//   2. per modality, ridge regression from the standardised features z to the label matrix L with
//      an intercept: W = argmin (1/n)·‖(Z − 1·z̄ᵀ)W − (L − 1·μᵀ)‖² + λ‖W‖², i.e.
//      (Z_cᵀZ_c/n + λI)·W = Z_cᵀL_c/n (Cholesky, float64). λ (`ridge`, default 0.3) is relative to the
//      unit variance of a standardised column: it does not grow with n (the same λ means the same
//      shrinkage at 600 and at 20,000 items); 0.3 is within .006 validation mAP of the best fixed
//      value on both Wikipedia (best 0.1–0.3) and the MIRFlickr photo rows (best 1) (docs/methods.md).
//      λ = 0 is plain least squares; when the Gram matrix is singular (constant or linearly
//      dependent columns, e.g. BoVW histograms summing to 1) a jitter of 1e-10…1e-4 × its mean
//      diagonal is added until Cholesky succeeds;
//   3. the predicted labels, centred by their training mean (`center`, default true; false keeps
//      the intercept, i.e. the predicted labels themselves), times a fixed seeded matrix R
//      (numClasses × bits): when bits ≤ numClasses R has orthonormal columns (QR of a Gaussian
//      matrix, R's diagonal positive), when bits > numClasses it is a Gaussian projection (entries
//      N(0, 1)) — more bits than classes cannot all be orthogonal directions of the label space;
//   4. encode() returns those real values; the code is their sign (0 → +1).
// The image and text maps share the label space and R, so an image and a text with the same
// predicted labels get the same code. Deterministic from TrainOptions.seed (R's Gaussian draws).
import { InputError } from '../util/errors.js';
import { Rng } from '../util/rng.js';
import { Tensor } from '../tensor/tensor.js';
import { saveCheckpoint, type CheckpointData } from '../nn/checkpoint.js';
import type { ExportLayer, LinearLayer } from '../export/onnx.js';
import type { ContinualHasher, EncodedBatch, FitSummary, Modality, SessionData, TrainInfo, TrainingData, TrainOptions, TrainProgress } from './hasher.js';
import { checkBits, checkTrainingData, columnStats, standardize } from './training-loop.js';
import { checkOptions, pickOptions, COMMON_TRAIN_KEYS, type OptionSchema } from './options.js';
import { expectArchitecture, statsFromCheckpoint, statsToTensors, type LoadedCheckpoint } from './checkpoint-io.js';
import { foldStandardisation } from './export-layers.js';
import { encoderInput, type FeatureStats } from './two-tower.js';
import { makeValidator } from './validation.js';
import { choleskyWithJitter, columnMeans, crossProduct, matmul, projectRows, randomOrthonormal, solveLower, solveLowerT } from './parts/dense.js';

const FORMAT = 1;

/** What a baseline's solve() sees: the standardised features of every item kept, and the seed. */
export interface SolveInput {
  data: TrainingData;
  /** Standardised image (n × imageDim) and text (n × textDim) features. */
  X: Float32Array;
  Y: Float32Array;
  seed: number;
  options: Record<string, unknown>;
}

/**
 * What solve() returns: per modality a pre-rotation map P (d × k) of the standardised features, and
 * a k × bits matrix `rotation`. The real-valued code is ((z − z̄)·P + offset)·rotation, z̄ the
 * training mean of z (so the training mean of z·P is removed), offset an optional 1 × k vector.
 */
export interface LinearSolution {
  imageProjection: Float64Array;
  textProjection: Float64Array;
  k: number;
  rotation: Float64Array;
  offset?: Float64Array;
  /** Reported as the loss terms of the single "epoch". */
  loss: Record<string, number>;
  /** Extra record kept in the checkpoint's meta (e.g. canonical correlations). */
  meta?: Record<string, unknown>;
}

/** One modality's encoder: values = z·weight + bias on standardised features z. */
interface Encoder { weight: Float32Array; bias: Float32Array }

interface Arch { name: string; bits: number; imageDim: number; textDim: number; numClasses: number; k: number; options: Record<string, unknown> }

export interface RefitBaselineConfig { bits: number; name?: string; [option: string]: unknown }

/** The shared machinery of the closed-form refit-everything baselines (see the header). */
export abstract class RefitBaseline implements ContinualHasher {
  readonly method: string;
  readonly bits: number;
  imageDim = 0;
  textDim = 0;
  lastFit: FitSummary | null = null;
  trainInfo: TrainInfo | null = null;
  private version = 0;
  protected all: TrainingData | null = null;
  private stats: FeatureStats | null = null;
  private encoders: { image: Encoder; text: Encoder } | null = null;
  protected solution: LinearSolution | null = null;
  /** The options of the last refit (kept in the checkpoint; a loaded model refits with them). */
  private used: Record<string, unknown> = {};
  private readonly trainDefaults: Record<string, unknown>;

  protected constructor(config: RefitBaselineConfig, defaultName: string, private readonly kind: string, private readonly schema: OptionSchema) {
    this.bits = checkBits(config.bits);
    this.method = config.name ?? defaultName;
    const { name: _n, ...given } = config;
    checkOptions(this.method, schema, given, ['bits']);
    this.trainDefaults = pickOptions(schema, given, 'train');
  }

  /** The closed-form fit on the standardised features of every item kept. */
  protected abstract solve(input: SolveInput): LinearSolution;

  get modelVersion(): number { return this.version; }
  /** Every item seen so far is kept (and refitted on at each session). */
  memoryItems(): number { return this.all?.n ?? 0; }
  /** No learned database codes: every item is encoded by the model. */
  databaseCodes(): Float32Array | null { return null; }
  /** The k × bits matrix after the pre-rotation map (see LinearSolution), null before fit. */
  get rotation(): { rows: number; cols: number; data: Float64Array } | null {
    return this.solution ? { rows: this.solution.k, cols: this.bits, data: this.solution.rotation } : null;
  }
  /** The solve() record of the last refit (pre-rotation maps, rotation, loss; after a load, float32-rounded and without loss), null before fit. */
  get lastSolution(): LinearSolution | null { return this.solution; }

  async fit(data: TrainingData, given: TrainOptions): Promise<void> {
    checkOptions(this.method, this.schema, given, COMMON_TRAIN_KEYS, 'train');
    const options = { ...this.trainDefaults, ...given } as TrainOptions & Record<string, unknown>;
    if (checkBits(options.bits) !== this.bits) throw new InputError(`${this.method}: options.bits ${options.bits} differs from the model's ${this.bits}`);
    checkTrainingData(data);
    this.all = { ...data, image: data.image.slice(), text: data.text.slice(), labels: data.labels.slice() };
    this.refit(options);
  }

  async update(session: SessionData, given: TrainOptions): Promise<void> {
    checkOptions(this.method, this.schema, given, COMMON_TRAIN_KEYS, 'train');
    const options = { ...this.trainDefaults, ...this.used, ...given } as TrainOptions & Record<string, unknown>;
    const a = this.all;
    if (!a) throw new InputError(`${this.method}.update: fit the base session first`);
    if (session.n === 0) {
      this.lastFit = { epochsRun: 0, bestEpoch: 0, bestScore: null, stoppedEarly: false, trainSeconds: 0, history: [] };
      return;
    }
    const where = `${this.method}: session ${session.index}`;
    if (session.imageDim !== a.imageDim) throw new InputError(`${where}: image features have width ${session.imageDim}, the model was built for ${a.imageDim}`);
    if (session.textDim !== a.textDim) throw new InputError(`${where}: text features have width ${session.textDim}, the model was built for ${a.textDim}`);
    if (session.labels.length !== session.n * session.numClasses) throw new InputError(`${where}: labels has ${session.labels.length} values, expected ${session.n} × ${session.numClasses}`);
    // Label width grows with new classes: old items are 0 on them.
    const width = Math.max(a.numClasses, session.numClasses);
    const n = a.n + session.n;
    const labels = new Uint8Array(n * width);
    padInto(labels, a.labels, a.n, a.numClasses, width, 0);
    padInto(labels, session.labels, session.n, session.numClasses, width, a.n);
    const cat = (x: Float32Array, y: Float32Array) => { const o = new Float32Array(x.length + y.length); o.set(x); o.set(y, x.length); return o; };
    const next: TrainingData = { n, imageDim: a.imageDim, textDim: a.textDim, numClasses: width, image: cat(a.image, session.image), text: cat(a.text, session.text), labels };
    checkTrainingData(next, where);
    this.all = next;
    this.refit(options);
  }

  private refit(options: TrainOptions & Record<string, unknown>): void {
    const t0 = performance.now();
    const a = this.all!;
    const seed = options.seed ?? 1;
    const im = columnStats(a.image, a.n, a.imageDim), tx = columnStats(a.text, a.n, a.textDim);
    const X = standardize(a.image, a.imageDim, im.mean, im.invStd);
    const Y = standardize(a.text, a.textDim, tx.mean, tx.invStd);
    const own = pickOptions(this.schema, options, 'train');
    const sol = this.solve({ data: a, X, Y, seed, options: own });
    this.imageDim = a.imageDim; this.textDim = a.textDim;
    this.stats = { imageMean: im.mean, imageInvStd: im.invStd, textMean: tx.mean, textInvStd: tx.invStd };
    this.encoders = {
      image: encoderOf(sol.imageProjection, columnMeans(X, a.n, a.imageDim), a.imageDim, sol, this.bits),
      text: encoderOf(sol.textProjection, columnMeans(Y, a.n, a.textDim), a.textDim, sol, this.bits),
    };
    this.solution = sol;
    this.used = own;
    this.version++;
    const trainSeconds = (performance.now() - t0) / 1000;
    const val = options.validation ? makeValidator(this, a, options.validation)() : undefined;
    const p: TrainProgress = { epoch: 1, epochs: 1, loss: sol.loss, elapsedSeconds: (performance.now() - t0) / 1000, ...(val ? { validation: val, improved: true } : {}) };
    options.onProgress?.(p);
    this.lastFit = { epochsRun: 1, bestEpoch: 1, bestScore: val ? (val.i2t + val.t2i) / 2 : null, stoppedEarly: false, trainSeconds, history: [p] };
    this.trainInfo = { seed, trainSeconds, epochsRun: 1, bestEpoch: 1, trainItems: a.n };
  }

  encode(modality: Modality, features: Float32Array, rows: number): EncodedBatch {
    const z = encoderInput(this.method, modality, features, rows, this, this.stats);
    const enc = modality === 'image' ? this.encoders!.image : this.encoders!.text;
    const values = projectRows(z, rows, modality === 'image' ? this.imageDim : this.textDim, enc.weight, this.bits);
    const c = this.bits, b = enc.bias;
    for (let r = 0; r < rows; r++) for (let j = 0; j < c; j++) values[r * c + j] += b[j]!;
    return { rows, bits: c, values };
  }

  save(path: string): void { saveCheckpoint(path, this.checkpoint()); }

  /**
   * stats.* (standardisation), image/text.weight + .bias (the encoders, as export reads them),
   * image/text.projection, rotation and offset (the pre-rotation maps, the k × bits matrix, and
   * linear's intercept when center is off), and kept.image/text/labels (every item kept, for later
   * refits).
   */
  checkpoint(): CheckpointData {
    const a = this.all, s = this.stats, e = this.encoders;
    if (!a || !s || !e) throw new InputError(`${this.method}.save: the model has not been trained yet`);
    const sol = this.solution;
    const tensors: Record<string, Tensor> = {
      ...statsToTensors(s, this.imageDim, this.textDim),
      'image.weight': Tensor.wrap(this.imageDim, this.bits, e.image.weight), 'image.bias': Tensor.wrap(1, this.bits, e.image.bias),
      'text.weight': Tensor.wrap(this.textDim, this.bits, e.text.weight), 'text.bias': Tensor.wrap(1, this.bits, e.text.bias),
      'kept.image': Tensor.wrap(a.n, a.imageDim, a.image), 'kept.text': Tensor.wrap(a.n, a.textDim, a.text),
      'kept.labels': Tensor.fromArray(a.n, a.numClasses, a.labels),
    };
    if (sol) {
      tensors['image.projection'] = Tensor.wrap(this.imageDim, sol.k, sol.imageProjection);
      tensors['text.projection'] = Tensor.wrap(this.textDim, sol.k, sol.textProjection);
      tensors['rotation'] = Tensor.wrap(sol.k, this.bits, sol.rotation);
      if (sol.offset) tensors['offset'] = Tensor.wrap(1, sol.k, sol.offset);
    }
    const arch: Arch = { name: this.method, bits: this.bits, imageDim: this.imageDim, textDim: this.textDim, numClasses: a.numClasses, k: sol?.k ?? 0, options: this.used };
    return {
      kind: this.kind,
      architecture: { format: FORMAT, ...arch },
      tensors,
      meta: { modelVersion: this.version, trainInfo: this.trainInfo, n: a.n, ...(sol?.meta ?? {}) },
    };
  }

  /** The architecture record of a checkpoint of this family (format and numeric fields checked). */
  protected static architectureOf(ck: LoadedCheckpoint, path: string): Arch {
    const a = expectArchitecture<Arch>(ck, path, FORMAT, ['bits', 'imageDim', 'textDim', 'numClasses']);
    if (a.options !== undefined && (typeof a.options !== 'object' || a.options === null)) throw new InputError(`${path}: architecture field "options" should be an object`);
    return { ...a, options: a.options ?? {} };
  }

  /** Puts a checkpoint's encoders, statistics and kept items into a fresh model (see checkpoint()). */
  protected restore(ck: LoadedCheckpoint, path: string, a: Arch): void {
    const take = (key: string, rows: number, cols: number): Tensor => {
      const t = ck.tensors[key];
      if (!t) throw new InputError(`${path}: ${this.method} checkpoint lacks tensor "${key}"`);
      if (t.rows !== rows || t.cols !== cols) throw new InputError(`${path}: tensor "${key}" is ${t.rows}×${t.cols}, expected ${rows}×${cols}`);
      return t;
    };
    this.stats = statsFromCheckpoint(ck, path, a.imageDim, a.textDim);
    const enc = (m: Modality, d: number): Encoder => ({ weight: Float32Array.from(take(`${m}.weight`, d, a.bits).data), bias: Float32Array.from(take(`${m}.bias`, 1, a.bits).data) });
    this.encoders = { image: enc('image', a.imageDim), text: enc('text', a.textDim) };
    this.imageDim = a.imageDim; this.textDim = a.textDim;
    const meta = (ck.meta ?? {}) as { modelVersion?: number; trainInfo?: TrainInfo | null; n?: number };
    const n = meta.n ?? ck.tensors['kept.image']?.rows ?? 0;
    const im = take('kept.image', n, a.imageDim), tx = take('kept.text', n, a.textDim), lb = take('kept.labels', n, a.numClasses);
    this.all = { n, imageDim: a.imageDim, textDim: a.textDim, numClasses: a.numClasses, image: Float32Array.from(im.data), text: Float32Array.from(tx.data), labels: Uint8Array.from(lb.data) };
    const proj = (key: string, rows: number) => { const t = ck.tensors[key]; return t && t.rows === rows && t.cols === a.k ? Float64Array.from(t.data) : null; };
    const pi = proj('image.projection', a.imageDim), pt = proj('text.projection', a.textDim), rot = ck.tensors['rotation'];
    const off = ck.tensors['offset'] && ck.tensors['offset'].cols === a.k ? Float64Array.from(ck.tensors['offset'].data) : null;
    this.solution = pi && pt && rot && rot.rows === a.k && rot.cols === a.bits
      ? { imageProjection: pi, textProjection: pt, k: a.k, rotation: Float64Array.from(rot.data), loss: {}, ...(off ? { offset: off } : {}) } : null;
    this.used = { ...a.options };
    this.version = Number(meta.modelVersion ?? 1);
    this.trainInfo = meta.trainInfo ?? null;
    this.lastFit = null;
  }
}

/** labels (n × from) into out (rows × to) from row `at`, zero-padded on the right. */
function padInto(out: Uint8Array, labels: Uint8Array, n: number, from: number, to: number, at: number): void {
  for (let i = 0; i < n; i++) out.set(labels.subarray(i * from, (i + 1) * from), (at + i) * to);
}

/**
 * The encoder (weight = P·rotation, d × bits; bias = (offset − z̄·P)·rotation) in float32, the form
 * encode() and the export use — so a fitted model and its loaded checkpoint encode bit for bit alike.
 */
function encoderOf(P: Float64Array, zMean: Float64Array, d: number, sol: LinearSolution, bits: number): Encoder {
  const { k, rotation: R } = sol;
  const weight = Float32Array.from(matmul(P, d, k, R, bits));
  const pre = matmul(zMean, 1, d, P, k);
  for (let j = 0; j < k; j++) pre[j] = (sol.offset ? sol.offset[j]! : 0) - pre[j]!;
  const bias = Float32Array.from(matmul(pre, 1, k, R, bits));
  return { weight, bias };
}

/** Export: the one linear layer of a baseline's modality, with the standardisation folded in (no activation: the code is its sign). */
export function refitBaselineLayers(ck: LoadedCheckpoint, path: string, m: Modality): ExportLayer[] {
  const t = (key: string) => {
    const x = ck.tensors[key];
    if (!x) throw new InputError(`${path}: checkpoint of kind ${ck.kind} has no tensor "${key}" (cannot export it)`);
    return x;
  };
  const w = t(`${m}.weight`), b = t(`${m}.bias`);
  const layer: LinearLayer = { type: 'linear', weight: Float32Array.from(w.data), bias: Float32Array.from(b.data), inDim: w.rows, outDim: w.cols };
  return [foldStandardisation(layer, t(`stats.${m}Mean`).data, t(`stats.${m}InvStd`).data)];
}

// ---------------------------------------------------------------------------------------------
// linear

export const LINEAR_KIND = 'cmhash/linear';
/** Default ridge λ (relative to unit feature variance; see the header and docs/methods.md for how it was chosen). */
export const LINEAR_DEFAULT_RIDGE = 0.3;

export const LINEAR_OPTIONS: OptionSchema = {
  ridge: { type: 'number', min: 0, default: LINEAR_DEFAULT_RIDGE, doc: 'ridge λ of the feature → label regression: minimises ‖Z_c·W − L_c‖²/n + λ‖W‖² on standardised features (λ does not scale with n)' },
  center: { type: 'boolean', default: true, doc: 'centre the predicted labels by their training mean before the rotation (false: keep the intercept)' },
};

export interface LinearConfig { bits: number; name?: string; ridge?: number; center?: boolean }

/** Ridge regression of the labels on one modality's standardised features: W (d × C) and the training mean squared residual per label. */
export function ridgeToLabels(Z: Float32Array, n: number, d: number, labels: Uint8Array, C: number, lambda: number, what: string): { W: Float64Array; residual: number } {
  const zm = columnMeans(Z, n, d), mu = columnMeans(labels, n, C);
  const G = crossProduct(Z, d, Z, d, n), B = crossProduct(Z, d, labels, C, n);
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) G[i * d + j] = (G[i * d + j]! - n * zm[i]! * zm[j]!) / n;
  for (let i = 0; i < d; i++) for (let c = 0; c < C; c++) B[i * C + c] = (B[i * C + c]! - n * zm[i]! * mu[c]!) / n;
  for (let i = 0; i < d; i++) G[i * d + i]! += lambda;
  const f = choleskyWithJitter(G, d);
  if (!f) throw new InputError(`linear: the ${what} Gram matrix is not positive definite with ridge ${lambda} (use a larger ridge)`);
  const W = solveLowerT(f.L, d, solveLower(f.L, d, B, C), C);
  // mean squared residual = Σ_c μ_c(1 − μ_c) − tr(WᵀB) − λ‖W‖², per label (from (G + λI)W = B)
  let total = 0, wb = 0, ww = 0;
  for (let c = 0; c < C; c++) total += mu[c]! * (1 - mu[c]!);
  for (let i = 0; i < d * C; i++) { wb += W[i]! * B[i]!; ww += W[i]! * W[i]!; }
  return { W, residual: Math.max(0, total - wb - (lambda + f.jitter) * ww) / C };
}

/** The linear baseline's C × bits matrix: orthonormal columns (bits ≤ C) or a Gaussian projection (bits > C). */
export function labelRotation(C: number, bits: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  if (bits <= C) return randomOrthonormal(C, bits, rng);
  const g = new Float64Array(C * bits);
  for (let i = 0; i < g.length; i++) g[i] = rng.normal();
  return g;
}

export class LinearBaseline extends RefitBaseline {
  constructor(config: LinearConfig) { super(config as RefitBaselineConfig, 'linear', LINEAR_KIND, LINEAR_OPTIONS); }

  protected solve({ data, X, Y, seed, options }: SolveInput): LinearSolution {
    const C = data.numClasses, n = data.n;
    if (C < 1) throw new InputError('linear is supervised: the training data needs labels (numClasses = 0)');
    const lambda = (options.ridge as number | undefined) ?? LINEAR_DEFAULT_RIDGE;
    const im = ridgeToLabels(X, n, data.imageDim, data.labels, C, lambda, 'image');
    const tx = ridgeToLabels(Y, n, data.textDim, data.labels, C, lambda, 'text');
    const center = (options.center as boolean | undefined) ?? true;
    return {
      imageProjection: im.W, textProjection: tx.W, k: C, rotation: labelRotation(C, this.bits, seed),
      ...(center ? {} : { offset: columnMeans(data.labels, n, C) }),
      loss: { imageResidual: im.residual, textResidual: tx.residual },
    };
  }

  /**
   * Label-derived codes of every item kept (session order): sign((L − μ)·R), the code its labels
   * map to — what `--db-codes learned` stores for trained items, as CCMH-GAM and DLCMH store theirs
   * (centred by the training label mean μ, as encode() centres the predictions; L·R without centring).
   */
  override databaseCodes(): Float32Array | null {
    const a = this.all, s = this.solution;
    if (!a || !s || a.numClasses !== s.k) return null;
    const C = s.k, c = this.bits, n = a.n;
    const mu = s.offset ? new Float64Array(C) : columnMeans(a.labels, n, C);
    const out = new Float32Array(n * c);
    for (let i = 0; i < n; i++) {
      for (let b = 0; b < c; b++) {
        let v = 0;
        for (let k = 0; k < C; k++) v += (a.labels[i * C + k]! - mu[k]!) * s.rotation[k * c + b]!;
        out[i * c + b] = v >= 0 ? 1 : -1;
      }
    }
    return out;
  }

  static fromCheckpoint(ck: LoadedCheckpoint, path: string): LinearBaseline {
    const a = RefitBaseline.architectureOf(ck, path);
    const m = new LinearBaseline({ bits: a.bits, name: a.name, ...(a.options as Partial<LinearConfig>) });
    m.restore(ck, path, a);
    return m;
  }
}
