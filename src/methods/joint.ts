// Joint retraining baseline (the upper bound, and the time to beat): on every session it keeps all
// data seen so far, retrains a fresh model of its base method from scratch on all of it with the
// base-session epochs, and the runner re-stores the whole database (reencodesDatabase = true), so
// stored codes change and the cost grows with history. The base is the method it is compared with
// (`joint:ccmh-gam` — the CCMH-GAM networks without memory/projection — or `joint:dlcmh` — DLCMH's
// original phase on everything), so "≥ 0.95× joint" is a like-for-like bound.
import { InputError } from '../util/errors.js';
import type { ContinualHasher, EncodedBatch, FitSummary, Modality, SessionData, TrainingData, TrainOptions } from './hasher.js';
import { CcmhGam, padLabels, emptyFit, heldOutMask, type CcmhGamConfig, type CcmhGamTrainOptions } from './ccmh-gam.js';
import { Dlcmh, type DlcmhConfig } from './dlcmh.js';
import { checkSession } from './parts/session-checks.js';

export type JointConfig = Pick<CcmhGamConfig, 'bits' | 'hidden' | 'labelHidden'> & { base?: 'ccmh-gam' | 'dlcmh'; budget?: DlcmhConfig['budget']; name?: string };

type Inner = CcmhGam | Dlcmh;

export class Joint implements ContinualHasher {
  readonly method: string;
  readonly bits: number;
  readonly base: 'ccmh-gam' | 'dlcmh';
  /** Tells the session runner to re-encode every database item after each session. */
  readonly reencodesDatabase = true;
  lastFit: FitSummary | null = null;
  private inner: Inner;
  private all: TrainingData | null = null;
  /** ccmh-gam base: each session's held-out rows (the split CcmhGam itself carves), concatenated. */
  private heldOut: Uint8Array = new Uint8Array(0);
  private version = 0;

  constructor(readonly config: JointConfig) {
    this.bits = config.bits;
    this.base = config.base ?? 'ccmh-gam';
    this.method = config.name ?? 'joint';
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

  async fit(data: TrainingData, options: TrainOptions): Promise<void> {
    this.all = { ...data, image: data.image.slice(), text: data.text.slice(), labels: data.labels.slice() };
    if (this.base === 'ccmh-gam') this.heldOut = heldOutMask(data, 0, options as CcmhGamTrainOptions).slice();
    await this.retrain(options);
  }

  async update(session: SessionData, options: TrainOptions): Promise<void> {
    if (!this.all) throw new InputError(`${this.method}.update: fit the base session first`);
    if (session.n === 0) { this.lastFit = emptyFit(); return; }
    checkSession(this.method, session, { imageDim: this.all.imageDim, textDim: this.all.textDim });
    const a = this.all;
    const width = Math.max(a.numClasses, session.numClasses);
    const la = padLabels(a.labels, a.n, a.numClasses, width), ls = padLabels(session.labels, session.n, session.numClasses, width);
    const n = a.n + session.n;
    const cat = (x: Float32Array, y: Float32Array) => { const o = new Float32Array(x.length + y.length); o.set(x); o.set(y, x.length); return o; };
    const labels = new Uint8Array(n * width); labels.set(la); labels.set(ls, la.length);
    this.all = { n, imageDim: a.imageDim, textDim: a.textDim, numClasses: width, image: cat(a.image, session.image), text: cat(a.text, session.text), labels };
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
  save(path: string): void { this.inner.save(path); }
}
