// Joint retraining baseline (the upper bound, and the time to beat): on every session it keeps all
// data seen so far, retrains a fresh model of its base method from scratch on all of it with the
// base-session epochs, and the runner re-stores the whole database (reencodesDatabase = true), so
// stored codes change and the cost grows with history. The base is the method it is compared with
// (`joint:ccmh-gam` — the CCMH-GAM networks without memory/projection — or `joint:dlcmh` — DLCMH's
// original phase on everything), so "≥ 0.95× joint" is a like-for-like bound.
import { InputError } from '../util/errors.js';
import { Tensor } from '../tensor/tensor.js';
import { saveCheckpoint, type CheckpointData } from '../nn/checkpoint.js';
import type { ContinualHasher, EncodedBatch, FitSummary, Modality, SessionData, TrainingData, TrainOptions } from './hasher.js';
import { CcmhGam, padLabels, emptyFit, heldOutMask, CCMH_GAM_OPTIONS, CCMH_GAM_KIND, type CcmhGamConfig, type CcmhGamTrainOptions } from './ccmh-gam.js';
import { Dlcmh, DLCMH_OPTIONS, DLCMH_KIND, type DlcmhConfig } from './dlcmh.js';
import { checkSession } from './parts/session-checks.js';
import { checkOptions, pickOptions, COMMON_TRAIN_KEYS, type OptionSchema } from './options.js';
import type { LoadedCheckpoint } from './checkpoint-io.js';
import { concatArrays } from '../util/arrays.js';

export const JOINT_KIND = 'cmhash/joint';
const FORMAT = 1;

const only = (schema: OptionSchema, keys: string[]): OptionSchema => Object.fromEntries(keys.map((k) => [k, schema[k]!]));
/** joint:ccmh-gam retrains the CCMH-GAM nets on everything: only what the base session reads. */
export const JOINT_CCMH_GAM_OPTIONS: OptionSchema = only(CCMH_GAM_OPTIONS, ['hidden', 'labelHidden', 'labelSteps', 'labelLearningRate', 'validationFraction', 'weightDecay', 'minSteps']);
/** joint:dlcmh runs DLCMH's original phase on everything. */
export const JOINT_DLCMH_OPTIONS: OptionSchema = only(DLCMH_OPTIONS, ['hidden', 'labelHidden', 'budget', 'gamma', 'eta', 'labelSteps', 'labelLearningRate', 'validationFraction']);

export type JointConfig = Pick<CcmhGamConfig, 'bits' | 'hidden' | 'labelHidden' | 'labelSteps' | 'labelLearningRate' | 'validationFraction' | 'weightDecay' | 'minSteps'>
  & Pick<DlcmhConfig, 'budget' | 'gamma' | 'eta'> & { base?: 'ccmh-gam' | 'dlcmh'; name?: string };

type Inner = CcmhGam | Dlcmh;

export class Joint implements ContinualHasher {
  readonly method: string;
  readonly bits: number;
  readonly base: 'ccmh-gam' | 'dlcmh';
  lastFit: FitSummary | null = null;
  private inner: Inner;
  private all: TrainingData | null = null;
  /** ccmh-gam base: each session's held-out rows (the split CcmhGam itself carves), concatenated. */
  private heldOut: Uint8Array = new Uint8Array(0);
  private version = 0;

  private readonly schema: OptionSchema;
  private readonly trainDefaults: Record<string, unknown>;

  constructor(readonly config: JointConfig) {
    this.bits = config.bits;
    this.base = config.base ?? 'ccmh-gam';
    this.method = config.name ?? 'joint';
    this.schema = this.base === 'dlcmh' ? JOINT_DLCMH_OPTIONS : JOINT_CCMH_GAM_OPTIONS;
    const { base: _b, name: _n, ...given } = config;
    checkOptions(this.method, this.schema, given, ['bits']);
    this.trainDefaults = pickOptions(this.schema, given, 'train');
    this.inner = this.fresh();
  }

  private fresh(): Inner {
    const { bits, hidden, labelHidden } = this.config;
    // the inner model carries the joint name, so a checkpoint loaded later still says it is joint
    if (this.base === 'dlcmh') return new Dlcmh({ bits, hidden, labelHidden, budget: this.config.budget, name: this.method });
    return new CcmhGam({ bits, hidden, labelHidden, name: this.method, memory: 'none', projection: 'none', labelRegulariser: 0, replay: 0, keepCodebook: false });
  }

  get modelVersion(): number { return this.version; }
  get imageDim(): number { return this.inner.imageDim; }
  get textDim(): number { return this.inner.textDim; }
  /** Joint keeps every item it has seen. */
  memoryItems(): number { return this.all?.n ?? 0; }
  /** The retrained model's learned codes of every item so far (session order). */
  databaseCodes(): Float32Array | null { return this.inner.databaseCodes(); }

  async fit(data: TrainingData, given: TrainOptions): Promise<void> {
    checkOptions(this.method, this.schema, given, COMMON_TRAIN_KEYS, 'train');
    const options = { ...this.trainDefaults, ...given } as TrainOptions;
    this.all = { ...data, image: data.image.slice(), text: data.text.slice(), labels: data.labels.slice() };
    if (this.base === 'ccmh-gam') this.heldOut = heldOutMask(data, 0, options as CcmhGamTrainOptions).slice();
    await this.retrain(options);
  }

  async update(session: SessionData, given: TrainOptions): Promise<void> {
    checkOptions(this.method, this.schema, given, COMMON_TRAIN_KEYS, 'train');
    const options = { ...this.trainDefaults, ...given } as TrainOptions;
    if (!this.all) throw new InputError(`${this.method}.update: fit the base session first`);
    if (session.n === 0) { this.lastFit = emptyFit(); return; }
    checkSession(this.method, session, { imageDim: this.all.imageDim, textDim: this.all.textDim });
    const a = this.all;
    const width = Math.max(a.numClasses, session.numClasses);
    const la = padLabels(a.labels, a.n, a.numClasses, width), ls = padLabels(session.labels, session.n, session.numClasses, width);
    const n = a.n + session.n;
    const labels = new Uint8Array(n * width); labels.set(la); labels.set(ls, la.length);
    this.all = { n, imageDim: a.imageDim, textDim: a.textDim, numClasses: width, image: concatArrays([a.image, session.image]), text: concatArrays([a.text, session.text]), labels };
    if (this.base === 'ccmh-gam') { // (joint:dlcmh carves its own split from the concatenated data)
      const held = new Uint8Array(n);
      held.set(this.heldOut); held.set(heldOutMask(session, session.index, options as CcmhGamTrainOptions), a.n);
      this.heldOut = held;
    }
    await this.retrain(options);
  }

  private async retrain(options: TrainOptions): Promise<void> {
    this.inner = this.fresh();
    // The ccmh-gam base holds out the same rows CCMH-GAM does in each session (a like-for-like bound).
    await this.inner.fit(this.all!, this.base === 'ccmh-gam' ? { ...options, heldOut: this.heldOut } as CcmhGamTrainOptions : options);
    this.lastFit = this.inner.lastFit;
    this.version++;
  }

  encode(modality: Modality, features: Float32Array, rows: number): EncodedBatch { return this.inner.encode(modality, features, rows); }
  save(path: string): void { saveCheckpoint(path, this.checkpoint()); }

  /**
   * The retrained model's checkpoint plus what joint keeps to retrain again: every item seen so far
   * (features and labels) and, for the ccmh-gam base, each session's held-out rows.
   */
  checkpoint(): CheckpointData {
    const a = this.all;
    if (!a) throw new InputError(`${this.method}.save: the model has not been trained yet`);
    const inner = this.inner.checkpoint();
    const tensors: Record<string, Tensor> = { ...inner.tensors };
    tensors['joint.image'] = Tensor.wrap(a.n, a.imageDim, a.image);
    tensors['joint.text'] = Tensor.wrap(a.n, a.textDim, a.text);
    tensors['joint.labels'] = Tensor.fromArray(a.n, a.numClasses, a.labels);
    if (this.base === 'ccmh-gam') tensors['joint.heldOut'] = Tensor.fromArray(1, a.n, this.heldOut);
    return {
      kind: JOINT_KIND,
      architecture: { format: FORMAT, name: this.method, base: this.base, bits: this.bits, config: { ...this.config }, inner: { kind: inner.kind, architecture: inner.architecture } },
      tensors,
      meta: { modelVersion: this.version, inner: inner.meta, n: a.n, numClasses: a.numClasses },
    };
  }

  /** Rebuilds a joint model from its checkpoint (see checkpoint()): update() retrains on all it kept. */
  static fromCheckpoint(ck: LoadedCheckpoint, path: string): Joint {
    const a = ck.architecture as { format?: number; name?: string; base?: string; config?: JointConfig; inner?: { kind: string; architecture: unknown } } | null;
    if (!a || a.format !== FORMAT) throw new InputError(`${path}: joint checkpoint format ${String(a?.format)} is not ${FORMAT}`);
    if (a.base !== 'ccmh-gam' && a.base !== 'dlcmh') throw new InputError(`${path}: joint checkpoint base "${String(a.base)}" is not ccmh-gam or dlcmh`);
    if (!a.config || !a.inner) throw new InputError(`${path}: joint checkpoint lacks its config or inner model record`);
    const meta = (ck.meta ?? {}) as { modelVersion?: number; inner?: unknown; n?: number; numClasses?: number };
    const j = new Joint({ ...a.config, base: a.base, name: a.name ?? 'joint' });
    const innerCk: LoadedCheckpoint = { kind: a.inner.kind, architecture: a.inner.architecture, tensors: ck.tensors, meta: meta.inner };
    if (a.inner.kind === CCMH_GAM_KIND && a.base === 'ccmh-gam') j.inner = CcmhGam.fromCheckpoint(innerCk, path);
    else if (a.inner.kind === DLCMH_KIND && a.base === 'dlcmh') j.inner = Dlcmh.fromCheckpoint(innerCk, path);
    else throw new InputError(`${path}: joint checkpoint holds a "${a.inner.kind}" model, expected its base ${a.base}`);
    const take = (key: string) => {
      const t = ck.tensors[key];
      if (!t) throw new InputError(`${path}: joint checkpoint lacks tensor "${key}"`);
      return t;
    };
    const im = take('joint.image'), tx = take('joint.text'), lb = take('joint.labels');
    const n = meta.n ?? im.rows;
    if (im.rows !== n || tx.rows !== n || lb.rows !== n) throw new InputError(`${path}: joint checkpoint rows differ: image ${im.rows}, text ${tx.rows}, labels ${lb.rows}, expected ${n}`);
    j.all = { n, imageDim: im.cols, textDim: tx.cols, numClasses: lb.cols, image: Float32Array.from(im.data), text: Float32Array.from(tx.data), labels: Uint8Array.from(lb.data) };
    if (a.base === 'ccmh-gam') j.heldOut = Uint8Array.from(take('joint.heldOut').data);
    j.version = meta.modelVersion ?? 1;
    j.lastFit = null;
    return j;
  }
}
