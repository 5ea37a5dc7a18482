// DCMH — Deep Cross-Modal Hashing (Jiang & Li, CVPR 2017), the supervised baseline.
//
// Image net F(x) and text net G(y) map features to c real outputs; Θ_ij = ½ F_iᵀ G_j. Objective
//   J = −Σ_ij (S_ij Θ_ij − log(1 + e^Θ_ij)) + γ(‖B − F‖² + ‖B − G‖²) + η(‖F·1‖² + ‖G·1‖²),
// minimised by alternating: (1) F with G, B fixed, (2) G with F, B fixed, (3) B = sign(γ(F + G)).
// S_ij = 1 when items i and j share at least one label (multi-label relevance), else 0.
//
// Choices the paper leaves open (or that differ because we work on precomputed features):
// - The last (hash) layer starts from N(0, 0.01²) weights (see build()).
// - Networks: the paper fine-tunes CNN-F on raw pixels; here both nets are MLPs on features,
//   dx → hidden → c and dy → hidden → c with ReLU. The paper's text net is dy → 8192 → c; on
//   precomputed features hidden 512, Adam lr 1e-3 and 40 epochs (the defaults) score higher on the
//   validation split of every data set measured than 8192 / 1e-4 / 60, at a tenth of the time
//   (docs/experiments/2026-12-dcmh-defaults.md). `--hidden 8192 --lr 1e-4 --epochs 60` restores them.
// - Optional linear branch beside the image MLP (`imageSkip`, off by default): F(x) = MLP(x) + x·W + b.
//   The hidden layer memorises the training images (the database of T→I); the linear part
//   generalises better to unseen ones (I→T's queries). On the validation split over seeds 1–3 it
//   raised Wikipedia's I→T a little (.240 → .244) and lowered T→I (.533 → .500) and MIRFlickr's mean,
//   so it is not the default (docs/experiments/2026-12-dcmh-dbrc-generalise.md).
// - Output rotation (`codeRotation`, default 'auto'; parts/code-rotation.ts): after training, an ITQ
//   rotation of the nets' outputs (raw, or each modality centred first) is folded into their last
//   layers when it scores higher on the validation split than no rotation. With η = 0.01 the bits are
//   far from balanced (Wikipedia: mean |bit mean| .6 over the training images) and the sign wastes
//   them; the rotation raised validation mAP@all on Wikipedia and synthetic data by .01–.10 and left
//   the MIRFlickr photo rows level (choice made on one half of the validation split, scored on the
//   other; docs/experiments/2026-12-dcmh-dbrc-rotation.md). `codeRotation: 'none'` is the old model.
// - Features are standardised per column with training-set statistics (stored in the checkpoint).
// - F and G (the n × c output buffers) start from a forward pass of the freshly initialised nets,
//   not from random numbers (the reference code starts them random), so B is meaningful at epoch 1.
// - The loss of one batch is divided by (n · batch), as in the authors' PyTorch code, so the
//   learning rate does not depend on the data size. Optimiser: Adam (lr 1e-3) instead of SGD with a
//   hand-tuned log-spaced decay — Adam needs no per-dataset schedule.
// - Bit-balance weight η = 0.01 by default instead of the paper's 1 (DCMH_DEFAULT_ETA explains why).
// - Codes at query and database time are sign(F(x)) / sign(G(y)) (the net, as in the authors'
//   evaluation); the learned B of the training items is available from databaseCodes().
import { InputError } from '../util/errors.js';
import { Rng } from '../util/rng.js';
import { Tensor, noGrad } from '../tensor/tensor.js';
import * as ops from '../tensor/ops.js';
import { mlp, Sequential } from '../nn/mlp.js';
import type { Linear } from '../nn/linear.js';
import type { Module } from '../nn/module.js';
import { Adam } from '../nn/optim-adam.js';
import { SGD } from '../nn/optim-sgd.js';
import type { Optimizer } from '../nn/optimizer.js';
import { saveCheckpoint } from '../nn/checkpoint.js';
import type { FitSummary, Hasher, TrainInfo, TrainingData, TrainOptions } from './hasher.js';
import {
  checkBits, checkTrainingData, columnStats, runEpochs, selectionScore, SELECTION_RULES, type SelectionRule, shuffledBatches, shuffledBatchCount, standardize,
  trainInfoOf,
} from './training-loop.js';
import { makeValidator } from './validation.js';
import { gatherRows } from '../data/dataset.js';
import { expectArchitecture, type LoadedCheckpoint } from './checkpoint-io.js';
import { checkOptions, pickOptions, COMMON_TRAIN_KEYS, type OptionSchema } from './options.js';
import { TwoTowerHasher } from './two-tower.js';
import { LinearPlusNet } from './parts/hash-net.js';
import { applyOutputRotation, CODE_ROTATIONS, type CodeRotation, type RotationChoice } from './parts/code-rotation.js';

export const DCMH_KIND = 'cmhash/dcmh';
/**
 * Deviation from the paper (γ = η = 1): the default bit-balance weight is η = 0.01. With η = 1 the
 * balance term η‖F·1‖² drives every output towards zero on Wikipedia's features and the likelihood
 * stays at log 2 (validation mAP@all .151/.119 at 16 bits, chance .108); η = 0.01, chosen on the
 * validation split (never the query set), learns (validation mAP@all .216/.468). `eta: 1` restores
 * the paper's setting.
 */
export const DCMH_DEFAULT_ETA = 0.01;

/** Chosen by the validation score across Wikipedia, the MIRFlickr photo rows and synthetic data (see the header). */
export const DCMH_DEFAULTS = { hidden: 512, learningRate: 1e-3, epochs: 40, imageDropout: 0, textDropout: 0, imageDepth: 1, selection: 'mean' as SelectionRule, imageSkip: false, codeRotation: 'auto' as CodeRotation } as const;
const FORMAT = 1;

export interface DcmhConfig extends Partial<Omit<DcmhTrainOptions, keyof TrainOptions>> {
  bits: number;
  /** Hidden width of both MLPs (default 512). */
  hidden?: number;
}

/** Method-specific options of fit() (on top of TrainOptions). */
export interface DcmhTrainOptions extends TrainOptions {
  /** Weight of the quantization term ‖B − F‖² + ‖B − G‖² (paper: 1). */
  gamma?: number;
  /** Weight of the bit-balance term ‖F·1‖² + ‖G·1‖² (paper: 1; default here 0.01, see DCMH_DEFAULT_ETA). */
  eta?: number;
  weightDecay?: number;
  /** 'adam' (default) or 'sgd' (momentum 0.9, the authors' optimiser family). */
  optimizer?: 'adam' | 'sgd';
  /** Dropout probability after the image net's hidden layer in training (default 0). */
  imageDropout?: number;
  /** Dropout probability after the text net's hidden layer in training (default 0). */
  textDropout?: number;
  /** Hidden layers of the image net, each `hidden` wide (default 1; 0 = linear). The text net keeps 1. */
  imageDepth?: number;
  /** Epoch kept by validation: best 'mean' of I→T and T→I (default) or best 'weaker' direction. */
  selection?: SelectionRule;
  /** Add a linear branch x·W + b to the image net's output (default false; started at N(0, 0.01²) like the hash layer). */
  imageSkip?: boolean;
  /**
   * Rotation of the trained nets' outputs before the sign, folded into their last layers
   * (parts/code-rotation.ts): 'itq', 'itq-centred', 'auto' (the best of none / itq / itq-centred on
   * the validation split; the default, chosen across data sets — see the header) or 'none'.
   */
  codeRotation?: CodeRotation;
}

/** DCMH's options (methods/options.ts): the registry, the CLI and fit() check against this. */
export const DCMH_OPTIONS: OptionSchema = {
  hidden: { type: 'integer', min: 1, default: DCMH_DEFAULTS.hidden, at: 'model', doc: 'hidden width of the image and text MLPs', tune: [256, 1024, 2048] },
  gamma: { type: 'number', min: 0, default: 1, doc: 'weight γ of the quantization term ‖B − F‖² + ‖B − G‖² (paper: 1)', tune: [0.3, 3] },
  eta: { type: 'number', min: 0, default: DCMH_DEFAULT_ETA, doc: 'weight η of the bit-balance term ‖F·1‖² + ‖G·1‖² (paper: 1)', tune: [0.001, 0.1] },
  weightDecay: { type: 'number', min: 0, default: 0, doc: 'L2 weight decay of the optimiser' },
  optimizer: { type: 'enum', values: ['adam', 'sgd'], default: 'adam', doc: 'optimiser (sgd: momentum 0.9, the authors\' family)' },
  imageDropout: { type: 'number', min: 0, max: 0.9, default: DCMH_DEFAULTS.imageDropout, doc: 'dropout probability after the image net\'s hidden layer in training' },
  textDropout: { type: 'number', min: 0, max: 0.9, default: DCMH_DEFAULTS.textDropout, doc: 'dropout probability after the text net\'s hidden layer in training' },
  imageDepth: { type: 'integer', min: 0, max: 4, default: DCMH_DEFAULTS.imageDepth, doc: 'hidden layers of the image net (0 = linear); the text net keeps one' },
  imageSkip: { type: 'boolean', default: DCMH_DEFAULTS.imageSkip, doc: 'add a linear branch to the image net (it generalises to unseen images where the hidden layer memorises training ones)' },
  selection: { type: 'enum', values: SELECTION_RULES, default: DCMH_DEFAULTS.selection, doc: 'epoch kept by the validation split: best mean of I→T and T→I, or best weaker direction' },
  codeRotation: { type: 'enum', values: CODE_ROTATIONS, default: DCMH_DEFAULTS.codeRotation, doc: 'ITQ rotation of the trained outputs before the sign (itq-centred: outputs centred first; auto: the best of none / itq / itq-centred on the validation split)' },
};

interface Arch { bits: number; hidden: number; imageDim: number; textDim: number; imageDropout?: number; textDropout?: number; imageDepth?: number; imageSkip?: boolean }

/**
 * DCMH's objective for one batch of one modality's outputs `out` (m × c) against the other
 * modality's outputs for all n items (`other`, n × c, constant), with S (m × n), the batch's codes
 * B (m × c) and the column sums of this modality's outputs outside the batch (`rest`, 1 × c):
 *   nll  = Σ_ij log(1 + e^Θij) − S_ij Θij,  Θ = ½·out·otherᵀ
 *   quant = ‖B − out‖²,  bal = ‖Σ_rows out + rest‖²  (= ‖F·1‖² over all n items)
 *   loss = (nll + γ·quant + η·bal) / (n · m).
 * Its gradient w.r.t. out_i is the paper's ½Σ_j(σ(Θij) − S_ij)G_j + 2γ(F_i − B_i) + 2η·F·1, over n·m
 * (checked against that closed form in test/methods/dcmh.test.ts).
 */
export function dcmhBatchLoss(out: Tensor, other: Tensor, S: Tensor, B: Tensor, rest: Tensor, gamma: number, eta: number, n: number):
  { loss: Tensor; nll: Tensor; quant: Tensor; bal: Tensor } {
  const theta = ops.mulScalar(ops.matmul(out, other, false, true), 0.5);
  const nll = ops.pairwiseLikelihood(theta, S, 'sum');
  const quant = ops.sum(ops.square(ops.sub(B, out)));
  const bal = ops.sum(ops.square(ops.add(ops.sum(out, 0), rest)));
  const loss = ops.mulScalar(ops.add(ops.add(nll, ops.mulScalar(quant, gamma)), ops.mulScalar(bal, eta)), 1 / (n * out.rows));
  return { loss, nll, quant, bal };
}

export class Dcmh extends TwoTowerHasher<Module> implements Hasher {
  readonly method = 'dcmh';
  readonly bits: number;
  readonly hidden: number;
  lastFit: FitSummary | null = null;
  trainInfo: TrainInfo | null = null;
  private codesB: Float32Array | null = null;
  /** Dropout of the image / text net (set by fit before building, kept in the checkpoint: it changes the layer list). */
  private dropout = { image: 0, text: 0 };
  /** Hidden layers of the image net (set by fit before building, kept in the checkpoint). */
  private imageDepth: number = DCMH_DEFAULTS.imageDepth;
  /** Whether the image net has a linear branch (set by fit before building, kept in the checkpoint). */
  private imageSkip: boolean = DCMH_DEFAULTS.imageSkip;
  /** The output rotation applied by the last fit (and, with 'auto', the validation score of each form). */
  rotation: RotationChoice | null = null;

  /** Training options given when the model was built (fit()'s own options take precedence). */
  private readonly trainDefaults: Record<string, unknown>;

  constructor(config: DcmhConfig) {
    super();
    this.bits = checkBits(config.bits);
    checkOptions(this.method, DCMH_OPTIONS, config, ['bits']);
    this.trainDefaults = pickOptions(DCMH_OPTIONS, config, 'train');
    this.hidden = config.hidden ?? DCMH_DEFAULTS.hidden;
    if (!Number.isInteger(this.hidden) || this.hidden < 1) throw new InputError(`dcmh: hidden width must be a positive integer, got ${config.hidden}`);
  }

  private build(imageDim: number, textDim: number, rng: Rng): void {
    this.imageDim = imageDim; this.textDim = textDim;
    // Without dropout the nets (and their initial weights) are exactly what they were before the option.
    const drop = (p: number) => (p > 0 ? { dropout: p } : {});
    this.imageNet = mlp([imageDim, ...new Array<number>(this.imageDepth).fill(this.hidden), this.bits], { rng: rng.fork(), activation: 'relu', ...drop(this.dropout.image) });
    this.textNet = mlp([textDim, this.hidden, this.bits], { rng: rng.fork(), activation: 'relu', ...drop(this.dropout.text) });
    // The hash layer starts small (N(0, 0.01²), as DCMH initialises its last layer): with He-scaled
    // outputs Θ = ½FᵀG starts in the hundreds, the likelihood saturates and training diverges.
    for (const net of [this.imageNet, this.textNet]) {
      const last = (net as Sequential).layers[(net as Sequential).layers.length - 1] as Linear;
      const w = last.weight.data;
      for (let i = 0; i < w.length; i++) w[i] = rng.normal(0, 0.01);
    }
    // The linear branch starts small too (drawn after everything above, so without it nothing changes).
    if (this.imageSkip) this.imageNet = new LinearPlusNet(imageDim, this.bits, this.imageNet, rng.fork(), { std: 0.01 });
  }

  async fit(data: TrainingData, given: DcmhTrainOptions): Promise<void> {
    checkOptions(this.method, DCMH_OPTIONS, given, COMMON_TRAIN_KEYS, 'train');
    const options: DcmhTrainOptions = { ...this.trainDefaults, ...given };
    checkTrainingData(data);
    if (checkBits(options.bits) !== this.bits) throw new InputError(`dcmh: options.bits ${options.bits} differs from the model's ${this.bits}`);
    if (data.numClasses < 1) throw new InputError('dcmh is supervised: the training data needs labels (numClasses = 0)');
    if (options.validation) checkTrainingData(options.validation, 'validation data');
    const seed = options.seed ?? 1;
    const rng = new Rng(seed);
    // η defaults to 0.01, not the paper's 1 (see the header: with η = 1 the balance term wins here).
    const gamma = options.gamma ?? 1, eta = options.eta ?? DCMH_DEFAULT_ETA;
    const batchSize = options.batchSize ?? 128;
    const epochs = options.epochs ?? DCMH_DEFAULTS.epochs;
    const n = data.n, c = this.bits;

    const im = columnStats(data.image, n, data.imageDim);
    const tx = columnStats(data.text, n, data.textDim);
    this.stats = { imageMean: im.mean, imageInvStd: im.invStd, textMean: tx.mean, textInvStd: tx.invStd };
    const X = standardize(data.image, data.imageDim, im.mean, im.invStd);
    const Y = standardize(data.text, data.textDim, tx.mean, tx.invStd);
    this.dropout = { image: options.imageDropout ?? DCMH_DEFAULTS.imageDropout, text: options.textDropout ?? DCMH_DEFAULTS.textDropout };
    this.imageDepth = options.imageDepth ?? DCMH_DEFAULTS.imageDepth;
    this.imageSkip = options.imageSkip ?? DCMH_DEFAULTS.imageSkip;
    this.build(data.imageDim, data.textDim, rng);
    const imageNet = this.imageNet!, textNet = this.textNet!;
    imageNet.train(false); textNet.train(false); // the first F and G below: no dropout
    const lr = options.learningRate ?? DCMH_DEFAULTS.learningRate;
    const makeOpt = (params: Tensor[]): Optimizer => (options.optimizer === 'sgd'
      ? new SGD(params, { lr, momentum: 0.9, weightDecay: options.weightDecay ?? 0 })
      // the weights' updates run inside their gradient GEMMs (same bits, less memory traffic: nn/optim-adam.ts)
      : new Adam(params, { lr, weightDecay: options.weightDecay ?? 0, fusedBackward: true }));
    const optF = makeOpt(imageNet.parameters());
    const optG = makeOpt(textNet.parameters());

    // F, G: the latest net outputs for every training item; B: the codes.
    const F = noGrad(() => imageNet.forward(Tensor.wrap(n, data.imageDim, X)).data as Float32Array);
    const G = noGrad(() => textNet.forward(Tensor.wrap(n, data.textDim, Y)).data as Float32Array);
    const B = new Float32Array(n * c);
    const updateB = () => { for (let i = 0; i < n * c; i++) B[i] = gamma * (F[i]! + G[i]!) >= 0 ? 1 : -1; };
    updateB();

    const L = data.labels, C = data.numClasses;
    // S rows for a batch against all n items: 1 when they share a label.
    const similarity = (idx: Int32Array): Tensor => {
      const s = new Float32Array(idx.length * n);
      for (let r = 0; r < idx.length; r++) {
        const li = idx[r]! * C;
        for (let j = 0; j < n; j++) {
          const lj = j * C;
          let share = 0;
          for (let k = 0; k < C; k++) if (L[li + k]! & L[lj + k]!) { share = 1; break; }
          s[r * n + j] = share;
        }
      }
      return Tensor.wrap(idx.length, n, s);
    };

    // One half-epoch: update one net with the other side's outputs (and B) held fixed.
    const halfEpoch = (net: Module, opt: Optimizer, feats: Float32Array, dim: number, own: Float32Array, other: Float32Array) => {
      const sums = { nll: 0, quantization: 0, balance: 0 };
      const otherT = Tensor.wrap(n, c, other);
      net.train(true); // dropout on (encode() switches it off)
      for (const idx of shuffledBatches(n, batchSize, rng)) {
        const m = idx.length;
        const x = Tensor.wrap(m, dim, gatherRows(feats, dim, idx));
        const S = similarity(idx);
        // Column sums of `own` over the items outside this batch (constant for this step).
        const rest = new Float32Array(c);
        for (let i = 0; i < n; i++) for (let k = 0; k < c; k++) rest[k] += own[i * c + k]!;
        for (const i of idx) for (let k = 0; k < c; k++) rest[k] -= own[i * c + k]!;
        opt.zeroGrad();
        const out = net.forward(x);                                       // m × c
        const { loss, nll, quant, bal } = dcmhBatchLoss(out, otherT, S, Tensor.wrap(m, c, gatherRows(B, c, idx)), Tensor.wrap(1, c, rest), gamma, eta, n);
        loss.backward();
        opt.step();
        const od = out.data;
        for (let r = 0; r < m; r++) own.set(od.subarray(r * c, (r + 1) * c), idx[r]! * c);
        sums.nll += nll.item(); sums.quantization += quant.item(); sums.balance += bal.item();
      }
      return sums;
    };

    const snapshotParams = () => [...imageNet.parameters(), ...textNet.parameters()].map((p) => p.data.slice());
    const validate = options.validation ? makeValidator(this, data, options.validation) : undefined;
    // training is over (or failed): the nets drop their fused-update hooks (and with them the
    // optimisers' moments) and their weights are plain row-major tensors again
    const detach = () => { for (const o of [optF, optG]) if (o instanceof Adam) o.detachFused(); };
    try {
      this.lastFit = await runEpochs({
        epochs,
        patience: options.patience,
        score: selectionScore(options.selection ?? DCMH_DEFAULTS.selection),
        onProgress: options.onProgress,
        runEpoch: () => {
          const a = halfEpoch(imageNet, optF, X, data.imageDim, F, G);
          const b = halfEpoch(textNet, optG, Y, data.textDim, G, F);
          updateB();
          // Reported per pair (nll), per code entry (quantization) and per entry of ‖F·1‖² / n² (balance).
          const batches = Math.max(1, shuffledBatchCount(n, batchSize));
          return {
            nll: (a.nll + b.nll) / (2 * n * n), quantization: (a.quantization + b.quantization) / (2 * n * c),
            balance: (a.balance + b.balance) / (2 * batches * n * n * c),
          };
        },
        validate: validate ? () => noGrad(validate) : undefined,
        snapshot: () => ({ params: snapshotParams(), B: B.slice() }),
        restore: (s) => {
          const snap = s as { params: Float32Array[]; B: Float32Array };
          [...imageNet.parameters(), ...textNet.parameters()].forEach((p, i) => p.data.set(snap.params[i]!));
          B.set(snap.B);
        },
      });
    } finally { detach(); }
    // Optional ITQ rotation of the outputs (folded into the last layers); B follows the rotated outputs.
    const score = selectionScore(options.selection ?? DCMH_DEFAULTS.selection);
    this.rotation = applyOutputRotation({
      rotation: options.codeRotation ?? DCMH_DEFAULTS.codeRotation, image: imageNet, text: textNet, n, bits: c, seed,
      outputs: () => ({ image: this.outputs(imageNet, X, n), text: this.outputs(textNet, Y, n) }),
      validate: validate ? () => noGrad(validate) : undefined, score,
    });
    if (this.rotation.chosen !== 'none') {
      F.set(this.outputs(imageNet, X, n)); G.set(this.outputs(textNet, Y, n));
      updateB();
    }
    this.codesB = B;
    this.modelVersion++;
    this.trainInfo = trainInfoOf(this.lastFit, seed, n);
  }

  protected outputs(net: Module, z: Float32Array, rows: number): Float32Array {
    const dim = net === this.imageNet ? this.imageDim : this.textDim;
    const values = new Float32Array(rows * this.bits);
    const chunk = 2048; // bounds the hidden activations (chunk × hidden floats)
    net.train(false);
    noGrad(() => {
      for (let r = 0; r < rows; r += chunk) {
        const m = Math.min(chunk, rows - r);
        values.set(net.forward(Tensor.wrap(m, dim, z.subarray(r * dim, (r + m) * dim))).data as Float32Array, r * this.bits);
      }
    });
    return values;
  }

  databaseCodes(): Float32Array | null { return this.codesB; }

  save(path: string): void {
    const tensors = this.towerTensors();
    const arch: Arch = {
      bits: this.bits, hidden: this.hidden, imageDim: this.imageDim, textDim: this.textDim,
      ...(this.dropout.image > 0 ? { imageDropout: this.dropout.image } : {}), ...(this.dropout.text > 0 ? { textDropout: this.dropout.text } : {}),
      ...(this.imageDepth !== 1 ? { imageDepth: this.imageDepth } : {}), ...(this.imageSkip ? { imageSkip: true } : {}),
    };
    saveCheckpoint(path, {
      kind: DCMH_KIND,
      architecture: { format: FORMAT, ...arch },
      tensors,
      meta: { modelVersion: this.modelVersion, trainInfo: this.trainInfo },
    });
  }

  /** Rebuilds a model from a loaded checkpoint (registry.loadHasher checks the kind first). */
  static fromCheckpoint(ck: LoadedCheckpoint, path: string): Dcmh {
    const a = expectArchitecture<Arch>(ck, path, FORMAT, ['bits', 'hidden', 'imageDim', 'textDim']);
    const m = new Dcmh({ bits: a.bits, hidden: a.hidden });
    m.dropout = { image: Number(a.imageDropout ?? 0), text: Number(a.textDropout ?? 0) };
    m.imageDepth = Number(a.imageDepth ?? 1);
    m.imageSkip = a.imageSkip === true;
    m.build(a.imageDim, a.textDim, new Rng(0));
    m.loadTowers(ck, path);
    const meta = ck.meta as { modelVersion?: number; trainInfo?: TrainInfo | null } | null;
    m.modelVersion = Number(meta?.modelVersion ?? 1);
    m.trainInfo = meta?.trainInfo ?? null;
    return m;
  }
}
