// Joint retraining baseline (the upper bound, and the time to beat): on every session it keeps all
// data seen so far, retrains the CCMH-GAM-architecture networks from scratch on all of it with the
// base-session epochs, and the runner re-encodes the whole database (reencodesDatabase = true), so
// stored codes change and the cost grows with history.
import { InputError } from '../util/errors.js';
import type { ContinualHasher, EncodedBatch, FitSummary, Modality, SessionData, TrainingData, TrainOptions } from './hasher.js';
import { CcmhGam, padLabels, emptyFit, type CcmhGamConfig } from './ccmh-gam.js';
import { checkSession } from '../continual/session-checks.js';

export type JointConfig = Pick<CcmhGamConfig, 'bits' | 'hidden' | 'labelHidden'>;

export class Joint implements ContinualHasher {
  readonly method = 'joint';
  readonly bits: number;
  /** Tells the session runner to re-encode every database item after each session. */
  readonly reencodesDatabase = true;
  lastFit: FitSummary | null = null;
  private inner: CcmhGam;
  private all: TrainingData | null = null;
  private version = 0;

  constructor(readonly config: JointConfig) {
    this.bits = config.bits;
    this.inner = this.fresh();
  }

  private fresh(): CcmhGam {
    return new CcmhGam({ ...this.config, name: 'joint', memory: 'none', projection: 'none', labelRegulariser: 0, replay: 0, keepCodebook: false });
  }

  get modelVersion(): number { return this.version; }
  get imageDim(): number { return this.inner.imageDim; }
  get textDim(): number { return this.inner.textDim; }
  /** Joint keeps every item it has seen. */
  memoryItems(): number { return this.all?.n ?? 0; }

  async fit(data: TrainingData, options: TrainOptions): Promise<void> {
    this.all = { ...data, image: data.image.slice(), text: data.text.slice(), labels: data.labels.slice() };
    await this.retrain(options);
  }

  async update(session: SessionData, options: TrainOptions): Promise<void> {
    if (!this.all) throw new InputError('joint.update: fit the base session first');
    if (session.n === 0) { this.lastFit = emptyFit(); return; }
    checkSession('joint', session, { imageDim: this.all.imageDim, textDim: this.all.textDim });
    const a = this.all;
    const width = Math.max(a.numClasses, session.numClasses);
    const la = padLabels(a.labels, a.n, a.numClasses, width), ls = padLabels(session.labels, session.n, session.numClasses, width);
    const n = a.n + session.n;
    const cat = (x: Float32Array, y: Float32Array) => { const o = new Float32Array(x.length + y.length); o.set(x); o.set(y, x.length); return o; };
    const labels = new Uint8Array(n * width); labels.set(la); labels.set(ls, la.length);
    this.all = { n, imageDim: a.imageDim, textDim: a.textDim, numClasses: width, image: cat(a.image, session.image), text: cat(a.text, session.text), labels };
    await this.retrain(options);
  }

  private async retrain(options: TrainOptions): Promise<void> {
    this.inner = this.fresh();
    await this.inner.fit(this.all!, options);
    this.lastFit = this.inner.lastFit;
    this.version++;
  }

  encode(modality: Modality, features: Float32Array, rows: number): EncodedBatch { return this.inner.encode(modality, features, rows); }
  save(path: string): void { this.inner.save(path); }
}
