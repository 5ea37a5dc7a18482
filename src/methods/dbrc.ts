// DBRC — Deep Binary Reconstruction for cross-modal hashing (Hu, Nie, Li, IEEE TMM 2019), unsupervised.
//
// An image pathway and a text pathway (MLPs) meet in one shared code layer; decoders reconstruct
// both modalities from that code. The code layer is ATanh, h = tanh(s(a)), whose scaling s is
// learned: linear (s(a) = α ⊙ a, with λ·Σ1/α² pushing α up so h saturates to ±1 and sign(h) loses
// almost nothing) or nonlinear (nn/atanh.ts). Modality dropout during training makes either
// modality alone produce the shared code, which is how queries and database items are encoded.
//
// Choices the paper leaves open, made here (each is an option; the defaults are what docs/methods.md
// reports, tuned on the validation split only):
// - Features are standardised per column with training statistics (kept in the checkpoint), and the
//   decoders reconstruct the standardised features, so a 128-d histogram and a 10-d topic vector
//   are on the same scale. Reconstruction loss = mean squared error per modality (mean over rows
//   and columns), the two modalities weighted equally (`textWeight` changes that).
// - Pathways: dx → hidden → c and dy → hidden → c (ReLU), hidden = 512; decoders c → hidden → d.
// - Fusion: the shared pre-activation is the MEAN of the pathways that are present,
//   a = (m_x·a_x + m_y·a_y)/(m_x + m_y), so one modality alone gives a on the same scale as both.
//   (Zeroing a modality's input instead would still feed that pathway's bias and a shifted input.)
// - Modality dropout is per row: each training row sees both modalities, image only or text only,
//   with probabilities `modalityDropout` = [both, image only, text only] (default ⅓ each).
// - ATanh regulariser weight λ (`alphaReg`) = 0.1, α starts at 1 (with λ = 1e-3 the reconstruction
//   gradient shrank α below 1; 0.1 lets α grow — Wikipedia validation split). The nonlinear mode
//   regularises its (softplus-positive) α the same way. The plain-tanh variant (`codeLayer:
//   'tanh'`) has no α and no regulariser — the ablation's baseline.
// - Beyond the paper's loss (each 0 gives the paper's reconstruction-only objective; weights in
//   DBRC_DEFAULTS, chosen on the validation split): an agreement term mean ‖h_x − h_y‖² between the
//   image-only and text-only codes of a pair, and on each of those codes a bit-balance term
//   (batch mean of each bit → 0) and a decorrelation term (hᵀh/m → I). Reconstruction alone does not
//   make the two modalities' codes agree bit by bit, and the longer the code the more bits carry
//   modality-specific detail: without these terms mAP fell with code length.
// - Optimiser: Adam, lr 1e-3, batch 128, 300 epochs (Wikipedia validation score kept rising up to
//   epoch ~280; at 100 epochs the kept epoch was 95–100); model selection on the validation split
//   (mAP@all). Weight decay 3e-3 (L2 added to the gradient, every parameter): without it the
//   pathways memorise the training pairs — on the MIRFlickr photo rows (591 training items, 768-d
//   and 1,386-d inputs) the image-only and text-only codes of a training item agreed on 95% of the
//   bits and those of an unseen item on ~51%, and retrieval was at chance. Chosen on the validation
//   splits of Wikipedia, the MIRFlickr photo rows and synthetic 4k at 32 and 64 bits (seeds 1–3; the
//   mean of the two directions rose or held on every one; docs/experiments/2026-12-dbrc-vs-cca.md);
//   `weightDecay: 0` is the model before. Options tried on the validation split and left off by default (docs/methods.md):
//   `imageMap: 'sqrt'` (Hellinger map of the BoVW histograms), `imageDepth` > 1, `lrDecay: 'cosine'`,
//   `imageLrScale` < 1.
// - Optional CCA start (`ccaInit`, off by default): each pathway is a linear branch started at the
//   regularised CCA + ITQ projection of the training items (the cca baseline's encoder, read off as
//   an affine map of the standardised features) plus the MLP, whose last layer starts at zero, so
//   training starts from the CCA codes. Optional epoch selection on the weaker direction
//   (`selection: 'weaker'`). Together they raised the validation score on Wikipedia and the MIRFlickr
//   photo rows but lowered it on synthetic data (.700 / .628 → .570 / .557), so neither is the default
//   (docs/experiments/2026-12-dcmh-dbrc-generalise.md).
// - Output rotation (`codeRotation`, default 'auto'; parts/code-rotation.ts): after training, an ITQ
//   rotation of the pathways' outputs (the code layer's input; raw, or each modality centred first)
//   is folded into their last layers when it scores higher on the validation split than none. On
//   Wikipedia and synthetic data every form raised both directions on every seed (validation); on
//   the MIRFlickr photo rows none was kept (docs/experiments/2026-12-dcmh-dbrc-rotation.md).
//   `codeRotation: 'none'` is the model before the option.
import { InputError } from '../util/errors.js';
import { Rng } from '../util/rng.js';
import { Tensor, noGrad } from '../tensor/tensor.js';
import * as ops from '../tensor/ops.js';
import { mlp } from '../nn/mlp.js';
import { Tanh } from '../nn/activations.js';
import { ATanh } from '../nn/atanh.js';
import type { Module } from '../nn/module.js';
import { Adam } from '../nn/optim-adam.js';
import { saveCheckpoint } from '../nn/checkpoint.js';
import type { EncodedBatch, FitSummary, Hasher, TrainInfo, Modality, TrainingData, TrainOptions } from './hasher.js';
import {
  checkBits, checkTrainingData, columnStats, runEpochs, selectionScore, SELECTION_RULES, type SelectionRule, shuffledBatches, standardize,
  trainInfoOf,
} from './training-loop.js';
import { makeValidator } from './validation.js';
import { gatherRows } from '../data/dataset.js';
import { expectArchitecture, paramsToTensors, statsFromCheckpoint, statsToTensors, tensorsToParams, type LoadedCheckpoint } from './checkpoint-io.js';
import { checkOptions, pickOptions, COMMON_TRAIN_KEYS, type OptionSchema } from './options.js';
import { encoderInput, moduleFromTensors, moduleTensors, type FeatureStats } from './two-tower.js';
import type { Linear } from '../nn/linear.js';
import type { Sequential } from '../nn/sequential.js';
import { LinearPlusNet } from './parts/hash-net.js';
import { CcaBaseline } from './cca.js';
import { applyOutputRotation, CODE_ROTATIONS, type CodeRotation, type RotationChoice } from './parts/code-rotation.js';

export const DBRC_KIND = 'cmhash/dbrc';
/**
 * Loss weights chosen on Wikipedia's validation split (seed 1, 16/64/128 bits, 50 epochs; mean of
 * I→T and T→I validation mAP@all). Without the last three terms the image-only and text-only codes
 * of one item agreed on only 54% of bits at 128 bits (chance 50%) and bits were far from balanced
 * (mean |bit mean| 0.44), so longer codes scored LOWER (validation .249 at 16 bits, .184 at 128).
 * With agreement 2, balance 3, decorrelation 3: .276 / .288 / .278 at 16 / 64 / 128 bits. After
 * training was lengthened to 300 epochs a weaker decorrelation scored higher (seed 1, validation
 * mAP@all mean of directions, decorrelation 3 → 0.3: 16 bits .318 → .317, 64 bits .367 → .377,
 * 128 bits .365 → .370), so the default is now 0.3.
 */
export const DBRC_DEFAULTS = { textWeight: 3, agreement: 2, balance: 3, decorrelation: 0.3, imageMap: 'none' as DbrcImageMap, lrDecay: 'none' as DbrcLrDecay, ccaInit: false, selection: 'mean' as SelectionRule, imageLrScale: 1, codeRotation: 'auto' as CodeRotation, weightDecay: 3e-3 } as const;

/**
 * Map applied to image features before the per-column standardisation. 'sqrt' is the signed square
 * root sign(x)·√|x| — on L1-normalised bag-of-visual-words histograms this is the Hellinger map
 * (dot products of mapped rows = Bhattacharyya coefficient), which damps the few dominant words.
 */
export type DbrcImageMap = 'none' | 'sqrt';
export const DBRC_IMAGE_MAPS: readonly DbrcImageMap[] = ['none', 'sqrt'];
/** Learning-rate schedule over the epochs: constant, or cosine from lr down to lr/20 at the last epoch. */
export type DbrcLrDecay = 'none' | 'cosine';
export const DBRC_LR_DECAYS: readonly DbrcLrDecay[] = ['none', 'cosine'];

function mapImage(features: Float32Array, map: DbrcImageMap): Float32Array {
  if (map === 'none') return features;
  const out = new Float32Array(features.length);
  for (let i = 0; i < features.length; i++) { const v = features[i]!; out[i] = v < 0 ? -Math.sqrt(-v) : Math.sqrt(v); }
  return out;
}
const FORMAT = 1;

export type DbrcCodeLayer = 'atanh-linear' | 'atanh-nonlinear' | 'tanh';
export const DBRC_CODE_LAYERS: readonly DbrcCodeLayer[] = ['atanh-linear', 'atanh-nonlinear', 'tanh'];

export interface DbrcConfig extends Partial<Omit<DbrcTrainOptions, keyof TrainOptions>> {
  bits: number;
  /** Code layer: ATanh with linear or nonlinear scaling (default linear), or plain tanh. */
  codeLayer?: DbrcCodeLayer;
  /** Hidden width of the pathways and decoders (default 512). */
  hidden?: number;
}

export interface DbrcTrainOptions extends TrainOptions {
  /** λ of the ATanh regulariser λ·Σ1/α² (default 0.1). */
  alphaReg?: number;
  /** Probabilities of [both, image only, text only] per training row (default ⅓ each). */
  modalityDropout?: [number, number, number];
  /** Weight of the text reconstruction relative to the image one (default 3). */
  textWeight?: number;
  /** Weight of the image-only vs text-only code agreement term mean ‖h_x − h_y‖² (default 2). */
  agreement?: number;
  /** Weight of the bit-balance term: mean over bits of (batch mean of h)², per modality (default 3). */
  balance?: number;
  /** Weight of the decorrelation term: mean of (hᵀh/m − I)² over the c × c entries, per modality (default 3). */
  decorrelation?: number;
  /** L2 weight decay of Adam (added to the gradient), every parameter (default 3e-3; 0 before it was the default). */
  weightDecay?: number;
  /**
   * Standard deviation of Gaussian noise added to the (standardised) image input of the encoder in
   * training; the decoder still reconstructs the clean input (a denoising autoencoder). Default 0.
   */
  imageNoise?: number;
  /** Image feature map before standardisation (default 'none'; see DbrcImageMap). */
  imageMap?: DbrcImageMap;
  /** Hidden layers of the image pathway, each `hidden` wide (default 1; the text pathway keeps 1). */
  imageDepth?: number;
  /** Learning-rate schedule (default 'none'). */
  lrDecay?: DbrcLrDecay;
  /**
   * Start each pathway as the CCA (+ ITQ) solution of the training items: a linear branch
   * initialised to the regularised-CCA projection, added to the MLP pathway whose last layer starts
   * at zero, so training starts from the CCA codes and learns a residual (default false).
   */
  ccaInit?: boolean;
  /** Epoch kept by validation: best 'mean' of I→T and T→I (default) or best 'weaker' direction. */
  selection?: SelectionRule;
  /** Learning rate of the image pathway relative to the rest (default 1; 0 freezes it). */
  imageLrScale?: number;
  /**
   * Rotation of the trained pathways' outputs (the code layer's input) before the sign, folded into
   * their last layers (parts/code-rotation.ts): 'itq', 'itq-centred', 'auto' (the best of none / itq /
   * itq-centred on the validation split; the default, see the header) or 'none'.
   */
  codeRotation?: CodeRotation;
  /** Called after every epoch, before model selection restores anything (the ablation uses it). */
  onEpochEnd?: (epoch: number, model: Dbrc) => void;
}

/** DBRC's options (methods/options.ts): the registry, the CLI and fit() check against this. */
export const DBRC_OPTIONS: OptionSchema = {
  hidden: { type: 'integer', min: 1, default: 512, at: 'model', doc: 'hidden width of the pathways and decoders' },
  codeLayer: { type: 'enum', values: DBRC_CODE_LAYERS, default: 'atanh-linear', at: 'model', doc: 'code layer: ATanh with linear or nonlinear scaling, or plain tanh' },
  alphaReg: { type: 'number', min: 0, default: 0.1, doc: 'weight λ of the ATanh regulariser λ·Σ1/α²' },
  modalityDropout: { type: 'numbers', length: 3, min: 0, defaultText: '1,1,1 (⅓ each)', doc: 'relative probabilities of [both, image only, text only] per training row' },
  textWeight: { type: 'number', min: 0, default: DBRC_DEFAULTS.textWeight, doc: 'weight of the text reconstruction relative to the image one' },
  agreement: { type: 'number', min: 0, default: DBRC_DEFAULTS.agreement, doc: 'weight of the image-only / text-only code agreement term', tune: [1, 4] },
  balance: { type: 'number', min: 0, default: DBRC_DEFAULTS.balance, doc: 'weight of the bit-balance term', tune: [1, 10] },
  decorrelation: { type: 'number', min: 0, default: DBRC_DEFAULTS.decorrelation, doc: 'weight of the bit-decorrelation term', tune: [0.1, 1] },
  weightDecay: { type: 'number', min: 0, default: DBRC_DEFAULTS.weightDecay, doc: 'L2 weight decay of the optimiser (keeps the pathways from memorising the training pairs; 0: none)' },
  imageNoise: { type: 'number', min: 0, default: 0, doc: 'σ of Gaussian noise on the standardised image input in training (denoising)' },
  imageMap: { type: 'enum', values: DBRC_IMAGE_MAPS, default: DBRC_DEFAULTS.imageMap, doc: 'image feature map before standardisation (sqrt = Hellinger map for BoVW histograms)' },
  imageDepth: { type: 'integer', min: 0, max: 4, default: 1, doc: 'hidden layers of the image pathway (0 = linear)' },
  lrDecay: { type: 'enum', values: DBRC_LR_DECAYS, default: DBRC_DEFAULTS.lrDecay, doc: 'learning-rate schedule (cosine: lr → lr/20 over the epochs)' },
  selection: { type: 'enum', values: SELECTION_RULES, default: DBRC_DEFAULTS.selection, doc: 'epoch kept by the validation split: best mean of I→T and T→I, or best weaker direction' },
  imageLrScale: { type: 'number', min: 0, default: DBRC_DEFAULTS.imageLrScale, doc: 'learning rate of the image pathway relative to the rest (0 freezes it, e.g. at the CCA projection with --cca-init)' },
  ccaInit: { type: 'boolean', default: DBRC_DEFAULTS.ccaInit, doc: 'add a linear branch to each pathway started at the CCA+ITQ projection (the MLP branch starts at zero)' },
  codeRotation: { type: 'enum', values: CODE_ROTATIONS, default: DBRC_DEFAULTS.codeRotation, doc: 'ITQ rotation of the trained pathway outputs before the sign (itq-centred: outputs centred first; auto: the best of none / itq / itq-centred on the validation split)' },
  onEpochEnd: { type: 'hook', doc: 'called after every epoch (the ablation reads the code layer there)' },
};

interface Arch { bits: number; hidden: number; imageDim: number; textDim: number; codeLayer: DbrcCodeLayer; imageMap?: DbrcImageMap; imageDepth?: number; ccaInit?: boolean }

export class Dbrc implements Hasher {
  readonly method = 'dbrc';
  readonly bits: number;
  readonly hidden: number;
  readonly codeLayer: DbrcCodeLayer;
  imageDim = 0;
  textDim = 0;
  /** The image feature map the model was trained with (applied again in encode). */
  imageMap: DbrcImageMap = 'none';
  /** Hidden layers of the image pathway (set by fit, kept in the checkpoint). */
  imageDepth = 1;
  /** Whether the pathways have the CCA-initialised linear branch (set by fit, kept in the checkpoint). */
  ccaInit = false;
  /** The output rotation applied by the last fit (and, with 'auto', the validation score of each form). */
  rotation: RotationChoice | null = null;
  modelVersion = 0;
  lastFit: FitSummary | null = null;
  trainInfo: TrainInfo | null = null;
  private nets: { imageEnc: Module; textEnc: Module; code: Module; imageDec: Module; textDec: Module } | null = null;
  private stats: FeatureStats | null = null;

  /** Training options given when the model was built (fit()'s own options take precedence). */
  private readonly trainDefaults: Record<string, unknown>;

  constructor(config: DbrcConfig) {
    this.bits = checkBits(config.bits);
    checkOptions(this.method, DBRC_OPTIONS, config, ['bits']);
    this.trainDefaults = pickOptions(DBRC_OPTIONS, config, 'train');
    this.hidden = config.hidden ?? 512;
    this.codeLayer = config.codeLayer ?? 'atanh-linear';
    if (!DBRC_CODE_LAYERS.includes(this.codeLayer)) throw new InputError(`dbrc: codeLayer must be one of ${DBRC_CODE_LAYERS.join(', ')}, got ${String(config.codeLayer)}`);
    if (!Number.isInteger(this.hidden) || this.hidden < 1) throw new InputError(`dbrc: hidden width must be a positive integer, got ${config.hidden}`);
  }

  private build(imageDim: number, textDim: number, rng: Rng): void {
    this.imageDim = imageDim; this.textDim = textDim;
    const imageDims = [imageDim, ...new Array<number>(this.imageDepth).fill(this.hidden), this.bits];
    const c = this.bits, h = this.hidden;
    const code: Module = this.codeLayer === 'tanh' ? new Tanh() : new ATanh(c, { mode: this.codeLayer === 'atanh-linear' ? 'linear' : 'nonlinear' });
    const imageMlp = mlp(imageDims, { rng: rng.fork(), activation: 'relu' });
    const textMlp = mlp([textDim, h, c], { rng: rng.fork(), activation: 'relu' });
    this.nets = {
      imageEnc: this.ccaInit ? withLinearBranch(imageDim, c, imageMlp, rng.fork()) : imageMlp,
      textEnc: this.ccaInit ? withLinearBranch(textDim, c, textMlp, rng.fork()) : textMlp,
      code,
      imageDec: mlp([c, h, imageDim], { rng: rng.fork(), activation: 'relu' }),
      textDec: mlp([c, h, textDim], { rng: rng.fork(), activation: 'relu' }),
    };
  }

  private allParams(): Tensor[] {
    const n = this.nets!;
    return [n.imageEnc, n.textEnc, n.code, n.imageDec, n.textDec].flatMap((m) => m.parameters());
  }

  /** The ATanh layer's current α (per unit), or null for the plain-tanh variant. */
  alpha(): Float32Array | null {
    const code = this.nets?.code;
    return code instanceof ATanh ? Float32Array.from(code.alpha.data) : null;
  }

  async fit(data: TrainingData, given: DbrcTrainOptions): Promise<void> {
    checkOptions(this.method, DBRC_OPTIONS, given, COMMON_TRAIN_KEYS, 'train');
    const options: DbrcTrainOptions = { ...this.trainDefaults, ...given } as DbrcTrainOptions;
    checkTrainingData(data);
    if (checkBits(options.bits) !== this.bits) throw new InputError(`dbrc: options.bits ${options.bits} differs from the model's ${this.bits}`);
    if (options.validation) checkTrainingData(options.validation, 'validation data');
    const md = options.modalityDropout ?? [1 / 3, 1 / 3, 1 / 3];
    if (md.length !== 3 || md.some((p) => !(p >= 0)) || !(md[0]! + md[1]! + md[2]! > 0)) {
      throw new InputError(`dbrc: modalityDropout must be three non-negative probabilities [both, image only, text only], got ${JSON.stringify(md)}`);
    }
    const mdSum = md[0]! + md[1]! + md[2]!;
    const pBoth = md[0]! / mdSum, pImageOnly = md[1]! / mdSum;
    const seed = options.seed ?? 1;
    const rng = new Rng(seed);
    const batchSize = options.batchSize ?? 128;
    const epochs = options.epochs ?? 300;
    const alphaReg = options.alphaReg ?? 0.1;
    const textWeight = options.textWeight ?? DBRC_DEFAULTS.textWeight;
    const agreement = options.agreement ?? DBRC_DEFAULTS.agreement;
    const balance = options.balance ?? DBRC_DEFAULTS.balance;
    const decorrelation = options.decorrelation ?? DBRC_DEFAULTS.decorrelation;
    const imageMap = options.imageMap ?? DBRC_DEFAULTS.imageMap;
    if (!DBRC_IMAGE_MAPS.includes(imageMap)) throw new InputError(`dbrc: imageMap must be one of ${DBRC_IMAGE_MAPS.join(', ')}, got ${String(imageMap)}`);
    const lrDecay = options.lrDecay ?? DBRC_DEFAULTS.lrDecay;
    if (!DBRC_LR_DECAYS.includes(lrDecay)) throw new InputError(`dbrc: lrDecay must be one of ${DBRC_LR_DECAYS.join(', ')}, got ${String(lrDecay)}`);
    this.imageMap = imageMap;
    const imageDepth = options.imageDepth ?? 1;
    if (!Number.isInteger(imageDepth) || imageDepth < 0 || imageDepth > 4) throw new InputError(`dbrc: imageDepth must be an integer from 0 to 4, got ${String(options.imageDepth)}`);
    this.imageDepth = imageDepth;
    this.ccaInit = options.ccaInit ?? DBRC_DEFAULTS.ccaInit;
    const eye = new Float32Array(this.bits * this.bits);
    for (let j = 0; j < this.bits; j++) eye[j * this.bits + j] = 1;
    const n = data.n, dx = data.imageDim, dy = data.textDim;

    const image = mapImage(data.image, imageMap);
    const im = columnStats(image, n, dx);
    const tx = columnStats(data.text, n, dy);
    this.stats = { imageMean: im.mean, imageInvStd: im.invStd, textMean: tx.mean, textInvStd: tx.invStd };
    const X = standardize(image, dx, im.mean, im.invStd);
    const Y = standardize(data.text, dy, tx.mean, tx.invStd);
    this.build(dx, dy, rng);
    const nets = this.nets!;
    if (this.ccaInit) {
      // The CCA(+ITQ) baseline fitted on the same (mapped) training features standardises them with
      // the same column statistics, so its encoder is an affine map of X and Y: read it off and
      // start the linear branches there (the MLP branches start at zero, see withLinearBranch).
      const cca = new CcaBaseline({ bits: this.bits });
      await cca.fit({ ...data, image }, { bits: this.bits, seed });
      setLinear(nets.imageEnc as LinearPlusNet, affineOf(cca, 'image', im.mean, im.invStd, dx, this.bits));
      setLinear(nets.textEnc as LinearPlusNet, affineOf(cca, 'text', tx.mean, tx.invStd, dy, this.bits));
    }
    const baseLr = options.learningRate ?? 1e-3;
    const imageNoise = options.imageNoise ?? 0;
    if (!(imageNoise >= 0 && Number.isFinite(imageNoise))) throw new InputError(`dbrc: imageNoise must be a non-negative number, got ${String(options.imageNoise)}`);
    // The image pathway can learn at a fraction of the rate (imageLrScale; 0 freezes it — with
    // ccaInit, at the CCA projection). With the default 1 there is one optimiser over everything.
    const imageLrScale = options.imageLrScale ?? DBRC_DEFAULTS.imageLrScale;
    const weightDecay = options.weightDecay ?? DBRC_DEFAULTS.weightDecay;
    const imageParams = new Set(nets.imageEnc.parameters());
    const optRest = new Adam(imageLrScale === 1 ? this.allParams() : this.allParams().filter((p) => !imageParams.has(p)), { lr: baseLr, weightDecay });
    const optImage = imageLrScale === 1 ? null : new Adam([...imageParams], { lr: baseLr * imageLrScale, weightDecay });
    const opt = {
      set lr(v: number) { optRest.lr = v; if (optImage) optImage.lr = v * imageLrScale; },
      zeroGrad: () => { optRest.zeroGrad(); optImage?.zeroGrad(); },
      step: () => { optRest.step(); if (optImage && imageLrScale > 0) optImage.step(); },
    };
    let epoch = 0;

    const runEpoch = () => {
      if (lrDecay === 'cosine') opt.lr = baseLr * (0.05 + 0.95 * 0.5 * (1 + Math.cos(Math.PI * epoch / Math.max(1, epochs - 1))));
      epoch++;
      const sums = { image: 0, text: 0, alpha: 0, agreement: 0, balance: 0, decorrelation: 0 };
      let batches = 0;
      for (const idx of shuffledBatches(n, batchSize, rng)) {
        const m = idx.length;
        const x = Tensor.wrap(m, dx, gatherRows(X, dx, idx));
        const xIn = imageNoise > 0 ? Tensor.wrap(m, dx, addNoise(x.data as Float32Array, imageNoise, rng)) : x;
        const y = Tensor.wrap(m, dy, gatherRows(Y, dy, idx));
        // Per-row fusion weights: both → ½,½; image only → 1,0; text only → 0,1.
        const wx = new Float32Array(m), wy = new Float32Array(m);
        for (let r = 0; r < m; r++) {
          const u = rng.uniform();
          if (u < pBoth) { wx[r] = 0.5; wy[r] = 0.5; } else if (u < pBoth + pImageOnly) wx[r] = 1; else wy[r] = 1;
        }
        opt.zeroGrad();
        const ax = nets.imageEnc.forward(xIn), ay = nets.textEnc.forward(y);
        const a = ops.add(ops.mul(ax, Tensor.wrap(m, 1, wx)), ops.mul(ay, Tensor.wrap(m, 1, wy)));
        const h = nets.code.forward(a);
        const lossImage = ops.mean(ops.square(ops.sub(nets.imageDec.forward(h), x)));
        const lossText = ops.mean(ops.square(ops.sub(nets.textDec.forward(h), y)));
        let loss = ops.add(lossImage, ops.mulScalar(lossText, textWeight));
        let reg: Tensor | null = null;
        if (nets.code instanceof ATanh && alphaReg > 0) {
          reg = nets.code.regularizer();
          loss = ops.add(loss, ops.mulScalar(reg, alphaReg));
        }
        let agree: Tensor | null = null;
        // The codes each modality makes alone (what queries and database items get): the agreement,
        // balance and decorrelation terms act on these, not on the fused h.
        const single = agreement > 0 || balance > 0 || decorrelation > 0 ? [nets.code.forward(ax), nets.code.forward(ay)] : [];
        if (agreement > 0) {
          agree = ops.mean(ops.square(ops.sub(single[0]!, single[1]!)));
          loss = ops.add(loss, ops.mulScalar(agree, agreement));
        }
        let bal: Tensor | null = null, decor: Tensor | null = null;
        for (const hs of single) {
          if (balance > 0) {
            const b = ops.mean(ops.square(ops.mulScalar(ops.sum(hs, 0), 1 / m)));
            bal = bal ? ops.add(bal, b) : b;
          }
          if (decorrelation > 0) {
            const gram = ops.mulScalar(ops.matmul(hs, hs, true, false), 1 / m);
            const d = ops.mean(ops.square(ops.sub(gram, Tensor.wrap(this.bits, this.bits, eye))));
            decor = decor ? ops.add(decor, d) : d;
          }
        }
        if (bal) loss = ops.add(loss, ops.mulScalar(bal, balance / 2));
        if (decor) loss = ops.add(loss, ops.mulScalar(decor, decorrelation / 2));
        loss.backward();
        opt.step();
        sums.image += lossImage.item(); sums.text += lossText.item();
        if (reg) sums.alpha += reg.item();
        if (agree) sums.agreement += agree.item();
        if (bal) sums.balance += bal.item() / 2;
        if (decor) sums.decorrelation += decor.item() / 2;
        batches++;
      }
      const out: Record<string, number> = { reconImage: sums.image / batches, reconText: sums.text / batches };
      if (nets.code instanceof ATanh) out.invAlphaSq = sums.alpha / batches / this.bits;
      if (agreement > 0) out.agreement = sums.agreement / batches;
      if (balance > 0) out.balance = sums.balance / batches;
      if (decorrelation > 0) out.decorrelation = sums.decorrelation / batches;
      return out;
    };

    const params = this.allParams();
    const validate = options.validation ? makeValidator(this, data, options.validation) : undefined;
    this.lastFit = await runEpochs({
      epochs,
      patience: options.patience,
      score: selectionScore(options.selection ?? DBRC_DEFAULTS.selection),
      onProgress: options.onProgress,
      runEpoch,
      validate: validate ? () => noGrad(validate) : undefined,
      afterEpoch: options.onEpochEnd ? (e) => options.onEpochEnd!(e, this) : undefined,
      snapshot: () => params.map((p) => p.data.slice()),
      restore: (s) => params.forEach((p, i) => p.data.set((s as Float32Array[])[i]!)),
    });
    // Optional ITQ rotation of the pathway outputs (the code layer's input; folded into their last layers).
    const pathway = (enc: Module, z: Float32Array, dim: number) => noGrad(() => Float32Array.from(enc.forward(Tensor.wrap(n, dim, z)).data));
    this.rotation = applyOutputRotation({
      rotation: options.codeRotation ?? DBRC_DEFAULTS.codeRotation, image: nets.imageEnc, text: nets.textEnc, n, bits: this.bits, seed,
      outputs: () => ({ image: pathway(nets.imageEnc, X, dx), text: pathway(nets.textEnc, Y, dy) }),
      validate: validate ? () => noGrad(validate) : undefined, score: selectionScore(options.selection ?? DBRC_DEFAULTS.selection),
    });
    this.modelVersion++;
    this.trainInfo = trainInfoOf(this.lastFit, seed, n);
  }

  encode(modality: Modality, features: Float32Array, rows: number): EncodedBatch {
    const z = encoderInput('dbrc', modality, features, rows, this, this.stats, (x) => mapImage(x, this.imageMap));
    const dim = modality === 'image' ? this.imageDim : this.textDim;
    const nets = this.nets!;
    const enc = modality === 'image' ? nets.imageEnc : nets.textEnc;
    const values = new Float32Array(rows * this.bits);
    const chunk = 2048; // bounds the hidden activations (chunk × hidden floats)
    noGrad(() => {
      for (let r = 0; r < rows; r += chunk) {
        const m = Math.min(chunk, rows - r);
        const h = nets.code.forward(enc.forward(Tensor.wrap(m, dim, z.subarray(r * dim, (r + m) * dim))));
        values.set(h.data as Float32Array, r * this.bits);
      }
    });
    return { rows, bits: this.bits, values };
  }

  save(path: string): void {
    if (!this.nets || !this.stats) throw new InputError('dbrc.save: the model has not been trained yet');
    const n = this.nets, s = this.stats;
    const arch: Arch = { bits: this.bits, hidden: this.hidden, imageDim: this.imageDim, textDim: this.textDim, codeLayer: this.codeLayer, imageMap: this.imageMap, imageDepth: this.imageDepth, ...(this.ccaInit ? { ccaInit: true } : {}) };
    saveCheckpoint(path, {
      kind: DBRC_KIND,
      architecture: { format: FORMAT, ...arch },
      tensors: {
        ...moduleTensors('imageEnc', n.imageEnc), ...moduleTensors('textEnc', n.textEnc), ...paramsToTensors('code', n.code),
        ...paramsToTensors('imageDec', n.imageDec), ...paramsToTensors('textDec', n.textDec),
        ...statsToTensors(s, this.imageDim, this.textDim),
      },
      meta: { modelVersion: this.modelVersion, trainInfo: this.trainInfo },
    });
  }

  static fromCheckpoint(ck: LoadedCheckpoint, path: string): Dbrc {
    const a = expectArchitecture<Arch>(ck, path, FORMAT, ['bits', 'hidden', 'imageDim', 'textDim']);
    if (!DBRC_CODE_LAYERS.includes(a.codeLayer)) throw new InputError(`${path}: unknown DBRC code layer ${JSON.stringify(a.codeLayer)}`);
    const m = new Dbrc({ bits: a.bits, hidden: a.hidden, codeLayer: a.codeLayer });
    const imageMap = a.imageMap ?? 'none'; // checkpoints written before the option existed used no map
    if (!DBRC_IMAGE_MAPS.includes(imageMap)) throw new InputError(`${path}: unknown DBRC image map ${JSON.stringify(a.imageMap)}`);
    m.imageMap = imageMap;
    m.imageDepth = a.imageDepth ?? 1;
    if (!Number.isInteger(m.imageDepth) || m.imageDepth < 0 || m.imageDepth > 4) throw new InputError(`${path}: DBRC image depth should be an integer from 0 to 4, found ${JSON.stringify(a.imageDepth)}`);
    m.ccaInit = a.ccaInit === true;
    m.build(a.imageDim, a.textDim, new Rng(0));
    const n = m.nets!;
    for (const [prefix, mod] of Object.entries(n)) moduleFromTensors(ck, path, prefix, mod);
    m.stats = statsFromCheckpoint(ck, path, a.imageDim, a.textDim);
    const meta = ck.meta as { modelVersion?: number; trainInfo?: TrainInfo | null } | null;
    m.modelVersion = Number(meta?.modelVersion ?? 1);
    m.trainInfo = meta?.trainInfo ?? null;
    return m;
  }
}

/** x + N(0, σ²) elementwise (a new array; x is left as it is). */
function addNoise(x: Float32Array, sigma: number, rng: Rng): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = x[i]! + sigma * rng.normal();
  return out;
}

/**
 * A pathway with a linear branch beside the MLP (ccaInit): the MLP's last layer starts at zero, so
 * after setLinear() the pathway computes exactly the given affine map (the CCA projection) and
 * training learns the nonlinear residual and refines the linear part.
 */
function withLinearBranch(inDim: number, outDim: number, net: Sequential, rng: Rng): LinearPlusNet {
  const last = net.layers[net.layers.length - 1] as Linear;
  last.weight.data.fill(0);
  last.bias?.data.fill(0);
  return new LinearPlusNet(inDim, outDim, net, rng);
}

function setLinear(p: LinearPlusNet, a: { weight: Float32Array; bias: Float32Array }): void {
  p.linear.weight.data.set(a.weight);
  p.linear.bias!.data.set(a.bias);
}

/**
 * The affine map z ↦ z·W + b that `h` (a model whose encode() standardises with `mean`/`invStd` and
 * is then affine, like the cca baseline) applies to standardised features z, read off by encoding
 * the mean row (b) and the mean row moved by one standard deviation along each column (b + W_j).
 */
export function affineOf(h: Hasher, modality: Modality, mean: Float32Array, invStd: Float32Array, dim: number, bits: number): { weight: Float32Array; bias: Float32Array } {
  const raw = new Float32Array((dim + 1) * dim);
  for (let r = 0; r <= dim; r++) raw.set(mean, r * dim);
  for (let j = 0; j < dim; j++) raw[(j + 1) * dim + j] += 1 / invStd[j]!;
  const v = h.encode(modality, raw, dim + 1).values;
  const bias = v.slice(0, bits);
  const weight = new Float32Array(dim * bits);
  for (let j = 0; j < dim; j++) for (let k = 0; k < bits; k++) weight[j * bits + k] = v[(j + 1) * bits + k]! - bias[k]!;
  return { weight, bias };
}
