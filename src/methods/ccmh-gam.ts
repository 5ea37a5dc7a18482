// CCMH-GAM — Continual Cross-Modal Hashing with Gradient-Aware Memory (Song, Tan, Yang, PR 2023).
//
// Two steps per session:
// 1. The label hashing network g (methods/parts/label-network.ts) maps each distinct label vector of the
//    session to a semantic code; its input layer grows zero-initialised rows for new classes, and a
//    regulariser over the stored distinct (label vector, code) pairs of old sessions keeps old
//    semantics on their codes. A label vector seen before keeps its stored code (the database uses it).
//    The label similarity its pairwise loss preserves (`labelSimilarity`) is, by default, "shares a
//    class" (0/1), the relevance retrieval is scored with; label cosines are the alternative. On
//    multi-label data this is what lets the modality nets generalise (MIRFlickr photo rows, train,
//    32 bits: test mAP .608/.606 with cosines, below the linear baseline; see docs/experiments/
//    2026-12-ccmh-gam-multilabel.md). Single-label data gets identical codes either way.
// 2. The image and text networks f_x, f_y (methods/parts/hash-net.ts) regress to the semantic codes of
//    their items' labels: ℓᵢ = mean_bits(tanh f_x(xᵢ) − tᵢ)² + mean_bits(tanh f_y(yᵢ) − tᵢ)².
//    After each session a budgeted, weighted exemplar memory of that session is chosen by greedy
//    gradient matching (methods/parts/memory-gradient.ts) on the closed-form last-layer gradients
//    [hᵢ, 1] ⊗ δᵢ, δᵢ = (2/c)(uᵢ − tᵢ)(1 − uᵢ²), per modality. On later sessions every optimiser step
//    (a) projects the new-data gradient so it does not increase any old session's memory loss (GEM
//    QP, or A-GEM; per-session reference gradients refreshed every `referenceRefresh` steps), then
//    (b) adds the gradient of one merged replay batch (a sample of every old session's memory, weight
//    `replay`, plus distillation of the image net's pre-session outputs on those items) — two
//    backward passes per step instead of 1 + (old sessions).
// The memory report carries, per session, the matching residual on the last-layer gradient (the
// bound the greedy controls) and the relative error of the whole network's flattened gradient,
// measured with autograd (‖g_full − g_mem‖/‖g_full‖), plus the same measurement for a random memory
// of equal size (the ablation).
//
// Choices the paper leaves open: MLPs dx → hidden → c with ReLU and tanh output (hidden 512); feature
// standardisation with session-0 statistics, kept fixed (later sessions must not move old encodings);
// Adam; update epochs fewer than base epochs (the nets start trained); replay + projection together
// (the new-data gradient is projected, then replay added); memory of 300 items per session; the finetune baseline (methods/finetune.ts) is this class with the
// codebook, regulariser, memory and projection switched off.
import { InputError } from '../util/errors.js';
import { Rng } from '../util/rng.js';
import { Tensor, noGrad } from '../tensor/tensor.js';
import * as ops from '../tensor/ops.js';
import { Adam } from '../nn/optim-adam.js';
import { bindFlatGrad, flatGrad, numel, restoreGrads } from '../nn/flat.js';
import { saveCheckpoint, type CheckpointData } from '../nn/checkpoint.js';
import type { ContinualHasher, FitSummary, MemorySessionReport, SessionData, TrainingData, TrainOptions } from './hasher.js';
import { checkBits, columnStats, epochsForSteps, runEpochs, sessionValidationSplit, shuffledBatches, standardize } from './training-loop.js';
import { gatherRows } from '../data/dataset.js';
import { crossModalMap, validationDatabase } from './evaluate.js';
import { HashNet } from './parts/hash-net.js';
import { LABEL_SIMILARITIES, LabelCodebook, labelCodes, labelKey, refineNewCodes, trainLabelNet, type LabelSimilarity } from './parts/label-network.js';
import { selectByGradientMatching, type GradientBlock } from './parts/memory-gradient.js';
import { selectRandom } from './parts/memory-random.js';
import { prepareReferences, projectGradient, type PreparedReferences, type ProjectionMode } from './parts/projection.js';
import { checkSession } from './parts/session-checks.js';
import { checkOptions, pickOptions, COMMON_TRAIN_KEYS, type OptionSchema } from './options.js';
import { TwoTowerHasher } from './two-tower.js';
import { PhaseClock } from './parts/phase-clock.js';
import { paramsToTensors, tensorsToParams } from './checkpoint-io.js';
import { concatArrays } from '../util/arrays.js';

export const CCMH_GAM_KIND = 'cmhash/ccmh-gam';
/** Increment defaults chosen on the validation split (docs/continual.md, "Validation round"). */
export const CCMH_GAM_DEFAULTS = { imageShrink: 0.45, updateEpochsPerBaseEpoch: 2 / 15, replayRows: 128, minSteps: 300, minUpdateSteps: 40, pairwise: 0, labelSimilarity: 'shared' as LabelSimilarity } as const;
const FORMAT = 1;

export type MemoryMode = 'gradient' | 'random' | 'none';

/** CCMH-GAM's options (methods/options.ts): the registry, the CLI and fit()/update() check against this. */
export const CCMH_GAM_OPTIONS: OptionSchema = {
  hidden: { type: 'integer', min: 1, default: 512, at: 'model', doc: 'hidden width of the image and text nets', tune: [256, 1024] },
  labelHidden: { type: 'integer', min: 1, default: 256, at: 'model', doc: 'hidden width of the label net' },
  memory: { type: 'enum', values: ['gradient', 'random', 'none'], default: 'gradient', at: 'model', doc: 'exemplar selection of each session\'s memory' },
  memoryPerSession: { type: 'integer', min: 0, default: 300, at: 'model', flag: 'memory-size', doc: 'exemplars kept per session' },
  projection: { type: 'enum', values: ['gem', 'agem', 'none'], default: 'gem', at: 'model', doc: 'gradient projection on later sessions' },
  labelRegulariser: { type: 'number', min: 0, default: 1, at: 'model', doc: 'weight of the stored-pair regulariser of the label net (0 = off)' },
  replay: { type: 'number', min: 0, default: 1, at: 'model', doc: 'weight of each old session\'s memory loss in a step', tune: [0.5, 2], tuneIn: 'continual' },
  refineCodes: { type: 'boolean', default: true, at: 'model', doc: 'refine new label vectors\' codes by bit-wise descent against all codes' },
  labelSimilarity: { type: 'enum', values: LABEL_SIMILARITIES, default: CCMH_GAM_DEFAULTS.labelSimilarity, at: 'model', doc: 'targets of the label net\'s pairwise loss, the code refinement and the pairwise term: shared (1 when two label vectors share a class, else 0) or cosine (their label cosine); the same on single-label data' },
  normalizeMemoryWeights: { type: 'boolean', default: false, at: 'model', doc: 'rescale the gradient memory\'s NNLS weights to sum to 1' },
  updateEpochs: { type: 'integer', min: 1, defaultText: 'max(2, round(epochs·2/15))', doc: 'epochs of the modality nets in each increment' },
  pairwise: { type: 'number', min: 0, default: CCMH_GAM_DEFAULTS.pairwise, doc: 'weight of a pairwise likelihood between the modality nets\' outputs and the semantic codes of the batch\'s other items, with label-similarity targets (labelSimilarity; 0 = regression only)' },
  minSteps: { type: 'integer', min: 0, default: CCMH_GAM_DEFAULTS.minSteps, doc: 'fewest optimiser steps of the modality nets on the base session (epochs are raised to reach it; 0 = epochs only; the default applies when --epochs is not given)' },
  minUpdateSteps: { type: 'integer', min: 0, default: CCMH_GAM_DEFAULTS.minUpdateSteps, doc: 'fewest optimiser steps of the modality nets in each increment (update epochs are raised to reach it; 0 = epochs only; the default applies when neither --epochs nor --update-epochs is given)' },
  labelSteps: { type: 'integer', min: 0, default: 300, doc: 'label-net steps of the base session' },
  updateLabelSteps: { type: 'integer', min: 0, default: 60, doc: 'label-net steps of each increment' },
  labelLearningRate: { type: 'number', min: 0, default: 1e-3, doc: 'learning rate of the label net' },
  updateLabelBatch: { type: 'integer', min: 1, default: 256, doc: 'new label vectors sampled per label-net step in an increment (stored codes: twice as many as anchors, as many for the regulariser)' },
  memoryBatch: { type: 'integer', min: 1, default: 32, doc: 'memory items per old session in each step\'s replay batch' },
  replayRows: { type: 'integer', min: 1, default: 128, doc: 'cap on replayed memory rows per step over all old sessions (each gets min(memory-batch, max(1, cap / old sessions)))' },
  replayWeighting: { type: 'enum', values: ['session', 'size'], default: 'session', doc: 'weight of an old session\'s replay: replay, or replay × its training items / the new session\'s' },
  referenceRefresh: { type: 'integer', min: 1, default: 5, flag: 'ref-refresh', doc: 'steps between refreshes of the projection\'s reference gradients' },
  imageLearningRateScale: { type: 'number', min: 0, default: 1, flag: 'image-lr-scale', doc: 'image-net learning rate in increments, × the text net\'s' },
  distillation: { type: 'number', min: 0, default: 1, flag: 'distill', doc: 'weight of distillation of the image net\'s pre-session outputs on replayed memory items (0 = off)' },
  imageShrink: { type: 'number', min: 0, max: 1, default: CCMH_GAM_DEFAULTS.imageShrink, doc: 'shrink and perturb of the image net at each increment, θ ← xθ + (1−x)θ_fresh (1 = off)', tune: [0.7, 1], tuneIn: 'continual' },
  validationFraction: { type: 'number', min: 0, below: 1, default: 0.1, doc: 'share of each session\'s training items held out from the modality nets' },
  weightDecay: { type: 'number', min: 0, default: 0, doc: 'decoupled weight decay (AdamW) of the image and text nets', tune: [0.01, 0.1] },
  heldOut: { type: 'hook', doc: 'rows to hold out instead of carving (joint:ccmh-gam passes every session\'s split)' },
};

/** finetune:ccmh-gam: the same nets trained on each session only (no memory, replay, projection or codebook). */
export const FINETUNE_CCMH_GAM_OPTIONS: OptionSchema = Object.fromEntries(Object.entries(CCMH_GAM_OPTIONS).filter(([k]) =>
  !['memory', 'memoryPerSession', 'projection', 'labelRegulariser', 'replay', 'normalizeMemoryWeights', 'memoryBatch', 'replayRows', 'replayWeighting', 'referenceRefresh', 'distillation', 'refineCodes',
    // shrink-and-perturb and the increment learning-rate scale act only with a codebook (not fine-tune)
    'imageShrink', 'imageLearningRateScale'].includes(k)));

export interface CcmhGamConfig extends Partial<Omit<CcmhGamTrainOptions, keyof TrainOptions>> {
  bits: number;
  /** Hidden width of the image and text nets (default 512). */
  hidden?: number;
  /** Hidden width of the label net (default 256). */
  labelHidden?: number;
  /** Exemplar selection (default 'gradient'; 'random' is the ablation; 'none' keeps no memory). */
  memory?: MemoryMode;
  /** Exemplars kept per session (default 300; how it was chosen: docs/experiments/). */
  memoryPerSession?: number;
  /** Gradient projection on later sessions (default 'gem'). */
  projection?: ProjectionMode;
  /** Weight of the stored-pair regulariser of the label net (default 1; 0 = off). */
  labelRegulariser?: number;
  /** Weight of each old session's memory loss added to each step (default 1, about each session's share of joint's loss; higher weights starve the new classes). */
  replay?: number;
  /** Grow the label net's input for new classes (default true); false makes wider labels an error. */
  growLabels?: boolean;
  /** Keep the codebook of stored (label, code) pairs across sessions (default true; finetune: false). */
  keepCodebook?: boolean;
  /** Refine new label vectors' codes by bit-wise descent against all codes (label-network.ts refineNewCodes; default true). */
  refineCodes?: boolean;
  /** Rescale the gradient memory's NNLS weights to sum to 1 (default false; see greedyMemory). */
  normalizeMemoryWeights?: boolean;
  /**
   * Targets of the label net's pairwise likelihood, of the refinement of new codes and of the
   * optional pairwise term (label-network.ts LabelSimilarity): 'shared' (default; 1 when two label
   * vectors share a class) or 'cosine' (their label cosine, the earlier default). Identical on
   * single-label data. Fixed at creation: the stored codes were made with it.
   */
  labelSimilarity?: LabelSimilarity;
  /** Method name reported (default 'ccmh-gam'). */
  name?: string;
}

/** Options of fit()/update() on top of TrainOptions. */
export interface CcmhGamTrainOptions extends TrainOptions {
  /** Epochs of the modality nets in an update (default max(2, round(epochs · 2/15)) = 4 at 30 base epochs, chosen on the validation score: docs/experiments/). */
  updateEpochs?: number;
  /**
   * Fewest optimiser steps of the modality nets on the base session: the epochs are raised to
   * ⌈minSteps / batches per epoch⌉ when they would give fewer. An epoch count fixed for one data
   * set gives a small session few steps (MIRFlickr photo rows 6,6,6,6: the base session has 86
   * training items, one batch, so 30 epochs are 30 steps; Wikipedia's base session gets 210).
   */
  minSteps?: number;
  /** The same floor for each increment's modality-net steps (see minSteps). */
  minUpdateSteps?: number;
  /**
   * Weight of a pairwise term on the new data's batch (default 0 = the paper's regression only):
   * mean(softplus(Θ) − S⊙Θ) with Θ = ½·u·Tᵀ between each modality's outputs u and the semantic codes
   * T of the batch's items, S their label similarities (labelSimilarity; modalityPairwiseLoss). The regression asks each
   * item for its own label vector's code; on multi-label data with weak features most items cannot
   * hit it, and this term ranks them by how much they share with the others instead.
   */
  pairwise?: number;
  /** Steps of the label net on the base session (default 300). */
  labelSteps?: number;
  /** Steps of the label net in an update (default 60: with random new input rows and the discrete refinement the new codes are separated without 300 steps; 300 steps cost ~0.3 s of a ~1 s increment). */
  updateLabelSteps?: number;
  /** Memory items per old session in each step's merged replay batch (default 32; reference gradients use twice as many). */
  memoryBatch?: number;
  /**
   * Cap on the replayed memory rows of one step across all old sessions (default 128). Each old
   * session replays min(memoryBatch, max(1, ⌊cap / old sessions⌋)) items (its reference gradient
   * twice as many), so up to `cap` old sessions a step's replay stays within `cap` rows instead of
   * growing with the number of sessions: with 32 items per session the replay batch alone was 224
   * rows after 7 sessions, against 128 new ones. With the default memoryBatch (32) the cap does not
   * bind up to 4 old sessions (Wikipedia, MIRFlickr).
   */
  replayRows?: number;
  /**
   * How old sessions' replay losses are weighted against the new session's loss: 'session' (default)
   * gives each old session weight `replay`; 'size' gives it `replay` × (its training items / the new
   * session's), as joint training's mean over all items does — on long streams 'session' makes the
   * old sessions together k times the new one.
   */
  replayWeighting?: 'session' | 'size';
  /** Steps between refreshes of the projection's per-session reference gradients (default 5). */
  referenceRefresh?: number;
  /** Image-net learning rate in increments, × the text net's (default 1). */
  imageLearningRateScale?: number;
  /** Weight of distillation on replayed memory items: the image net keeps its pre-session outputs there (default 1; 0 = off). */
  distillation?: number;
  labelLearningRate?: number;
  /**
   * Label vectors per label-net step in an increment (default 256, the base session's): a step takes
   * up to this many new vectors, twice as many stored codes as anchors and as many stored pairs for
   * the regulariser (a sample when there are more), so a smaller batch estimates the same loss from
   * fewer pairs — the step's cost is about (new)·(new + anchors) pairwise terms.
   */
  updateLabelBatch?: number;
  /** Decoupled weight decay (AdamW) of the image and text nets (default 0 = plain Adam). */
  weightDecay?: number;
  /**
   * Shrink and perturb of the image net at the start of an increment, θ ← λθ + (1−λ)θ_fresh
   * (HashNet.shrinkPerturb; default 0.45, chosen on the validation split of Wikipedia, MIRFlickr 22+2 and 6,6,6,6 and synthetic — docs/experiments/2026-12-ccmh-gam-round3.md; 1 = off): warm-started from the old session, the image net
   * learnt new classes badly; a partial re-initialisation restores its plasticity (docs/experiments/).
   */
  imageShrink?: number;
  /**
   * Share of each session's training items held out from the modality nets (default 0.1; 0 = train on
   * all): the same seeded split as the runner's validationRows() (training-loop.ts sessionValidationSplit),
   * so its validation_map is a held-out score that increment settings can be chosen on. Held-out
   * items still get their semantic (label) codes in the database: those depend on labels only.
   */
  validationFraction?: number;
  /** Rows of the data to hold out instead of carving (joint:ccmh-gam passes every session's split). */
  heldOut?: Uint8Array;
}

/** The rows of a session the modality nets must not train on (see CcmhGamTrainOptions.validationFraction). */
export function heldOutMask(s: TrainingData, index: number, options: Pick<CcmhGamTrainOptions, 'validationFraction' | 'heldOut' | 'seed'>): Uint8Array {
  if (options.heldOut) {
    if (options.heldOut.length !== s.n) throw new InputError(`heldOut mask has ${options.heldOut.length} rows, the data has ${s.n}`);
    return options.heldOut;
  }
  const mask = new Uint8Array(s.n);
  const f = options.validationFraction ?? 0.1;
  const split = f > 0 ? sessionValidationSplit(s, index, options.seed ?? 1, f) : null;
  if (split) for (const i of split.validationIdx) mask[i] = 1;
  return mask;
}

interface MemorySet {
  session: number;
  n: number;
  image: Float32Array;   // standardised
  text: Float32Array;    // standardised
  targets: Float32Array; // n × c, ±1
  weights: Float32Array; // Σ w ≈ 1: the weighted loss approximates the session's mean loss
  trained: number;       // the session's training items (what its memory stands for; NaN if unknown)
}


export class CcmhGam extends TwoTowerHasher<HashNet> implements ContinualHasher {
  readonly method: string;
  readonly bits: number;
  readonly hidden: number;
  readonly labelHidden: number;
  readonly memoryMode: MemoryMode;
  readonly memoryPerSession: number;
  readonly projection: ProjectionMode;
  readonly labelRegulariser: number;
  readonly replay: number;
  readonly growLabels: boolean;
  readonly keepCodebook: boolean;
  readonly refineCodes: boolean;
  readonly normalizeMemoryWeights: boolean;
  readonly labelSimilarity: LabelSimilarity;
  numClasses = 0;
  lastFit: FitSummary | null = null;
  readonly memoryReports: MemorySessionReport[] = [];
  /** Wall seconds (and, suffixed _cpu, process CPU seconds) of each phase of the last fit()/update() (where increment time goes). */
  lastPhaseSeconds: Record<string, number> = {};
  /** The phases of the session being learnt, the increment steps' reference gradients, projection and replay among them (lastPhaseSeconds). */
  private clock = new PhaseClock();
  private labelNet: HashNet | null = null;
  private book = new LabelCodebook();
  private memory: MemorySet[] = [];
  private sessionsSeen = 0;
  private baseEpochs = 30;
  /**
   * Semantic codes (±1) of every training item so far, in training order: the learned database codes
   * the session runner stores. Not checkpointed (n × bits floats; the product's index already holds
   * the stored codes), so after load() they cover the sessions trained since.
   */
  private itemCodes: Float32Array[] = [];
  /** The memory-error measurement of the last session, run untimed by the session runner (runDiagnostics). */
  private pendingDiagnostics: (() => void) | null = null;

  /** The options this model answers to, and training options given when it was built. */
  private readonly schema: OptionSchema;
  private readonly trainDefaults: Record<string, unknown>;

  constructor(config: CcmhGamConfig) {
    super();
    this.bits = checkBits(config.bits);
    // finetune and joint build the nets without memory or codebook: they answer to fewer options
    this.schema = (config.keepCodebook === false && config.memory === 'none' ? FINETUNE_CCMH_GAM_OPTIONS : CCMH_GAM_OPTIONS);
    this.trainDefaults = pickOptions(CCMH_GAM_OPTIONS, config, 'train');
    this.method = config.name ?? 'ccmh-gam';
    this.hidden = config.hidden ?? 512;
    this.labelHidden = config.labelHidden ?? 256;
    this.memoryMode = config.memory ?? 'gradient';
    this.memoryPerSession = config.memoryPerSession ?? 300;
    this.projection = config.projection ?? 'gem';
    this.labelRegulariser = config.labelRegulariser ?? 1;
    this.replay = config.replay ?? 1;
    this.growLabels = config.growLabels ?? true;
    this.keepCodebook = config.keepCodebook ?? true;
    this.refineCodes = config.refineCodes ?? true;
    this.normalizeMemoryWeights = config.normalizeMemoryWeights ?? false;
    this.labelSimilarity = config.labelSimilarity ?? CCMH_GAM_DEFAULTS.labelSimilarity;
    for (const [k, v] of [['hidden', this.hidden], ['labelHidden', this.labelHidden]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new InputError(`${this.method}: ${k} must be a positive integer, got ${v}`);
    }
    if (!['gradient', 'random', 'none'].includes(this.memoryMode)) throw new InputError(`${this.method}: memory must be gradient|random|none, got ${String(this.memoryMode)}`);
    if (!LABEL_SIMILARITIES.includes(this.labelSimilarity)) throw new InputError(`${this.method}: labelSimilarity must be ${LABEL_SIMILARITIES.join('|')}, got ${String(this.labelSimilarity)}`);
    if (!['gem', 'agem', 'none'].includes(this.projection)) throw new InputError(`${this.method}: projection must be gem|agem|none, got ${String(this.projection)}`);
    if (!Number.isInteger(this.memoryPerSession) || this.memoryPerSession < 0) throw new InputError(`${this.method}: memoryPerSession must be a non-negative integer, got ${this.memoryPerSession}`);
  }

  memoryItems(): number { return this.memory.reduce((s, m) => s + m.n, 0); }
  /** Distinct (label vector, code) pairs stored. */
  storedLabelPairs(): number { return this.book.size; }

  /** Options checked before a session changes anything (a bad value must not leave a half-updated model). */
  private checkOptions(options: CcmhGamTrainOptions): void {
    const cap = options.replayRows;
    if (cap !== undefined && !(Number.isInteger(cap) && cap >= 1)) throw new InputError(`${this.method}: replayRows must be a positive integer, got ${String(cap)}`);
    const w = options.replayWeighting;
    if (w !== undefined && w !== 'session' && w !== 'size') throw new InputError(`${this.method}: replayWeighting must be 'session' or 'size', got ${String(w)}`);
  }

  async fit(data: TrainingData, given: CcmhGamTrainOptions): Promise<void> {
    checkOptions(this.method, this.schema, given, COMMON_TRAIN_KEYS, 'train');
    const options: CcmhGamTrainOptions = { ...this.trainDefaults, ...given };
    this.checkOptions(options);
    const session: SessionData = { ...data, index: 0, newClasses: [] };
    checkSession(this.method, session, { base: true });
    if (checkBits(options.bits) !== this.bits) throw new InputError(`${this.method}: options.bits ${options.bits} differs from the model's ${this.bits}`);
    const rng = new Rng(options.seed ?? 1);
    const im = columnStats(data.image, data.n, data.imageDim);
    const tx = columnStats(data.text, data.n, data.textDim);
    this.stats = { imageMean: im.mean, imageInvStd: im.invStd, textMean: tx.mean, textInvStd: tx.invStd };
    this.imageDim = data.imageDim; this.textDim = data.textDim; this.numClasses = data.numClasses;
    this.imageNet = new HashNet(data.imageDim, this.hidden, this.bits, rng.fork());
    this.textNet = new HashNet(data.textDim, this.hidden, this.bits, rng.fork());
    this.labelNet = new HashNet(Math.max(1, data.numClasses), this.labelHidden, this.bits, rng.fork());
    this.book = new LabelCodebook();
    this.memory = [];
    this.itemCodes = [];
    this.pendingDiagnostics = null;
    this.memoryReports.length = 0;
    this.sessionsSeen = 0;
    this.baseEpochs = options.epochs ?? 30;
    await this.learnSession(session, options, this.baseEpochs, rng);
    if (options.validation) this.scoreValidation(options.validation, data);
  }

  /**
   * With a validation split (`cmhash train` carves one; the continual runner passes none and scores
   * its own held-out rows), the kept (last) epoch gets its validation score: the validation items
   * querying the training items, mAP@all both directions, as `--tune` scores a fit. It only measures
   * (the last epoch is kept either way), so `train --json` reports `validation` for CCMH-GAM too.
   */
  private scoreValidation(validation: TrainingData, train: TrainingData): void {
    const fit = this.lastFit;
    const last = fit?.history.at(-1);
    if (!fit || !last || validation.n === 0) return;
    const v = crossModalMap(this, validation, validationDatabase(train));
    last.validation = v; last.improved = true;
    fit.bestScore = (v.i2t + v.t2i) / 2;
  }

  async update(session: SessionData, given: CcmhGamTrainOptions): Promise<void> {
    checkOptions(this.method, this.schema, given, COMMON_TRAIN_KEYS, 'train');
    const options: CcmhGamTrainOptions = { ...this.trainDefaults, ...given };
    if (!this.imageNet) throw new InputError(`${this.method}.update: fit the base session first`);
    this.checkOptions(options);
    if (session.n === 0) { this.lastFit = emptyFit(); this.sessionsSeen++; return; } // nothing new: the model stays as it is
    checkSession(this.method, session, { imageDim: this.imageDim, textDim: this.textDim, numClasses: this.numClasses, grows: this.growLabels });
    if (session.numClasses > this.numClasses) {
      this.labelNet!.growInput(session.numClasses, new Rng((options.seed ?? 1) * 104729 + session.index)); // random new rows: see HashNet.growInput
      this.numClasses = session.numClasses;
    }
    const rng = new Rng((options.seed ?? 1) * 7919 + session.index);
    const epochs = options.updateEpochs ?? Math.max(2, Math.round((options.epochs ?? this.baseEpochs) * CCMH_GAM_DEFAULTS.updateEpochsPerBaseEpoch));
    await this.learnSession(session, options, epochs, rng);
  }

  /** One session: label net, targets, modality nets (with memory), then this session's memory. */
  private async learnSession(s: SessionData, options: CcmhGamTrainOptions, epochs: number, rng: Rng): Promise<void> {
    this.runDiagnostics(); // a measurement not yet taken is taken before the nets move
    const t0 = performance.now();
    const clock = this.clock = new PhaseClock();
    for (const part of ['references', 'projection', 'replay']) clock.add(part, 0, 0); // 0 in a session without them
    const stopSetup = clock.start('setup');
    const c = this.bits, width = this.numClasses;
    // Labels narrower than the model (fewer classes known to the stream) are zero-padded.
    const labels = padLabels(s.labels, s.n, s.numClasses, width);
    if (!this.keepCodebook) this.book = new LabelCodebook();
    const keys: string[] = [];
    const distinctNew: string[] = [];
    const seen = new Map<string, number>(); // new label vector → its position in distinctNew
    const counts: number[] = [];
    for (let i = 0; i < s.n; i++) {
      const k = labelKey(labels, i, width);
      keys.push(k);
      if (this.book.has(k)) continue;
      const at = seen.get(k);
      if (at === undefined) { seen.set(k, distinctNew.length); distinctNew.push(k); counts.push(1); } else counts[at]!++;
    }
    stopSetup();
    const stopLabel = clock.start('label_net');
    const labelLoss = trainLabelNet(this.labelNet!, width, distinctNew, this.book, {
      steps: s.index === 0 ? options.labelSteps ?? 300 : options.updateLabelSteps ?? 60, learningRate: options.labelLearningRate ?? 1e-3, batch: s.index === 0 ? 256 : options.updateLabelBatch ?? 256,
      quantization: 0.5, balance: 0.5, regulariser: this.keepCodebook ? this.labelRegulariser : 0,
      anchorOnStored: this.keepCodebook, similarity: this.labelSimilarity, rng: rng.fork(),
    });
    const fresh = labelCodes(this.labelNet!, width, distinctNew);
    if (this.keepCodebook && this.refineCodes) refineNewCodes(distinctNew, fresh, this.book, 4, { counts, similarity: this.labelSimilarity });
    distinctNew.forEach((k, i) => this.book.add(k, fresh[i]!));
    const targets = new Float32Array(s.n * c);
    for (let i = 0; i < s.n; i++) targets.set(this.book.code(keys[i]!)!, i * c);
    this.itemCodes.push(targets.slice());

    // The modality nets (and the memory) see only the training rows; held-out rows are validation.
    const held = heldOutMask(s, s.index, options);
    const rows: number[] = [];
    for (let i = 0; i < s.n; i++) if (!held[i]) rows.push(i);
    const st = this.stats!;
    const X = standardize(gatherRows(s.image, s.imageDim, rows), s.imageDim, st.imageMean, st.imageInvStd);
    const Y = standardize(gatherRows(s.text, s.textDim, rows), s.textDim, st.textMean, st.textInvStd);
    const T = gatherRows(targets, c, rows);
    // the batch's label rows only feed the optional pairwise term
    const L = (options.pairwise ?? CCMH_GAM_DEFAULTS.pairwise) > 0 ? gatherRows(labels, width, rows) : null;
    const nt = rows.length;
    epochs = epochsForSteps(epochs, nt, options.batchSize ?? 128, stepFloor(options, this.sessionsSeen === 0));
    stopLabel();
    const stopNets = clock.start('modality_nets');
    const fit = await this.trainModalities(X, Y, T, nt, epochs, options, rng, labelLoss, L, width);
    stopNets();
    clock.time('memory_selection', () => {
      if (this.memoryMode !== 'none' && this.memoryPerSession > 0) this.selectMemory(s.index, X, Y, T, nt, rng.fork());
    });
    // wall and CPU seconds of each phase; references, projection and replay are parts of modality_nets
    this.lastPhaseSeconds = clock.report();
    this.sessionsSeen++;
    this.modelVersion++;
    this.lastFit = { ...fit, trainSeconds: (performance.now() - t0) / 1000 };
  }

  /**
   * The learned codes of all training items so far (their semantic codes, fixed when stored): the
   * session runner stores these for database items the method trained on (see runner.ts).
   */
  databaseCodes(): Float32Array | null {
    const n = this.itemCodes.reduce((a, b) => a + b.length, 0);
    if (n === 0) return null;
    const out = new Float32Array(n);
    let o = 0;
    for (const b of this.itemCodes) { out.set(b, o); o += b.length; }
    return out;
  }

  /** Measures the last memory's approximation errors (needs the nets as they are right after training). */
  runDiagnostics(): void {
    const run = this.pendingDiagnostics;
    this.pendingDiagnostics = null;
    run?.();
  }

  private params(): Tensor[] { return [...this.imageNet!.parameters(), ...this.textNet!.parameters()]; }

  /**
   * Per-item loss rows (mean over bits, both modalities), weighted and summed: Σ wᵢℓᵢ. With soft
   * targets S (the previous image net's outputs), ℓᵢ also gets distill·mean_bits(u − S)² on the image side.
   */
  private weightedLoss(x: Float32Array, y: Float32Array, t: Float32Array, m: number, w: Float32Array | null, soft: Float32Array | null = null, distill = 0): Tensor {
    const c = this.bits;
    const u = this.imageNet!.forward(Tensor.wrap(m, this.imageDim, x));
    const v = this.textNet!.forward(Tensor.wrap(m, this.textDim, y));
    const T = Tensor.wrap(m, c, t);
    let per = ops.add(ops.square(ops.sub(u, T)), ops.square(ops.sub(v, T))); // m × c
    if (soft && distill > 0) per = ops.add(per, ops.mulScalar(ops.square(ops.sub(u, Tensor.wrap(m, c, soft))), distill));
    if (!w) return ops.mulScalar(ops.sum(per), 1 / (m * c));
    return ops.mulScalar(ops.sum(ops.mul(per, Tensor.wrap(m, 1, w))), 1 / c);
  }

  private async trainModalities(X: Float32Array, Y: Float32Array, T: Float32Array, n: number, epochs: number, options: CcmhGamTrainOptions,
    rng: Rng, labelLoss: Record<string, number>, labels: Uint8Array | null, width: number): Promise<FitSummary> {
    const pairwise = options.pairwise ?? CCMH_GAM_DEFAULTS.pairwise;
    const params = this.params();
    const memory = this.memory;
    const increment = memory.length > 0;
    const lr = options.learningRate ?? 1e-3;
    // In increments the image net (weak SIFT features, the side that forgets) learns more slowly.
    const imageScale = this.sessionsSeen > 0 && this.keepCodebook ? options.imageLearningRateScale ?? 1 : 1;
    const wd = options.weightDecay ?? 0;
    const opt = new Adam([{ params: this.imageNet!.parameters(), lr: lr * imageScale }, { params: this.textNet!.parameters(), lr }], wd > 0 ? { lr, weightDecay: wd, decoupled: true } : { lr });
    const batchSize = options.batchSize ?? 128;
    const c = this.bits;
    const replay = increment && this.replay > 0;
    const project = increment && this.projection !== 'none';
    const distill = increment && replay ? options.distillation ?? 1 : 0;
    const refreshEvery = Math.max(1, options.referenceRefresh ?? 5);
    const replayCap = options.replayRows ?? CCMH_GAM_DEFAULTS.replayRows;
    const perSession = Math.min(options.memoryBatch ?? 32, Math.max(1, Math.floor(replayCap / Math.max(1, memory.length))));
    const weighting = options.replayWeighting ?? 'session';
    const replayScales = memory.map((m) => (weighting === 'size' && Number.isFinite(m.trained) ? m.trained / n : 1));
    // Soft targets for distillation: the image net's outputs on the memory items before this session.
    const soft = distill > 0 ? memory.map((m) => this.imageNet!.infer(m.image, m.n)) : [];
    // Shrink and perturb the image net (after its distillation targets were taken): see imageShrink.
    if (this.sessionsSeen > 0 && this.keepCodebook) this.imageNet!.shrinkPerturb(options.imageShrink ?? CCMH_GAM_DEFAULTS.imageShrink, rng);
    let refs: PreparedReferences = prepareReferences([], this.projection);
    // With projection the nets' gradients live in one flat vector (bindFlatGrad): the step's backward
    // passes write into it, the projection reads and changes it in place, Adam reads it — no copies.
    // Each old session's reference gradient gets a flat vector of its own, reused at every refresh.
    const gradBuffer = new Float32Array(project ? numel(params) : 0);
    const refBuffers = project ? memory.map(() => new Float32Array(gradBuffer.length)) : [];
    const savedGrads = project ? bindFlatGrad(params, gradBuffer) : null;
    let stepNo = 0;
    // The shared epoch loop without a validation scorer: the last epoch's parameters are kept.
    const runEpoch = (): Record<string, number> => {
      let lossSum = 0, memSum = 0, projected = 0, steps = 0;
      for (const idx of shuffledBatches(n, Math.min(batchSize, n), rng)) {
        const m = idx.length;
        // Reference gradients of the projection (one per old session, on a memory sample) are
        // refreshed every `referenceRefresh` steps, not every step: the nets move little in a few
        // steps, and this is what made an increment cost 1 + (old sessions) backward passes per step.
        if (project && stepNo % refreshEvery === 0) {
          const stopRefs = this.clock.start('references');
          refs = prepareReferences(memory.map((mem, i) => {
            const ref = refBuffers[i]!.fill(0);
            bindFlatGrad(params, ref);
            const mb = memoryBatch(mem, 2 * perSession, rng, null);
            this.weightedLoss(mb.image, mb.text, mb.targets, mb.n, mb.weights).backward();
            return ref;
          }), this.projection);
          bindFlatGrad(params, gradBuffer);
          stopRefs();
        }
        opt.zeroGrad();
        const bx = gatherRows(X, this.imageDim, idx), by = gatherRows(Y, this.textDim, idx), bt = gatherRows(T, c, idx);
        let loss: Tensor;
        if (pairwise > 0 && labels) {
          // the regression of weightedLoss (null weights) and the pairwise term on the same forward pass
          const u = this.imageNet!.forward(Tensor.wrap(m, this.imageDim, bx)), v = this.textNet!.forward(Tensor.wrap(m, this.textDim, by));
          const Tt = Tensor.wrap(m, c, bt);
          const reg = ops.mulScalar(ops.sum(ops.add(ops.square(ops.sub(u, Tt)), ops.square(ops.sub(v, Tt)))), 1 / (m * c));
          const S = labelSimilarities(gatherRows(labels, width, idx), m, width, this.labelSimilarity);
          loss = ops.add(reg, ops.mulScalar(ops.add(modalityPairwiseLoss(u, bt, S), modalityPairwiseLoss(v, bt, S)), pairwise));
        } else loss = this.weightedLoss(bx, by, bt, m, null);
        loss.backward();
        lossSum += loss.item();
        if (project) {
          const stopProjection = this.clock.start('projection');
          // The new-data gradient alone is projected (projecting new + replay never fired: the
          // replay term keeps gᵀg_ref > 0), then the replay gradient accumulates on top.
          if (projectGradient(this.projection, gradBuffer, refs).projected) projected++;
          stopProjection();
        }
        if (replay) {
          const stopReplay = this.clock.start('replay');
          // One merged replay batch: `memoryBatch` items of every old session, weights rescaled so each
          // session's part estimates its weighted memory loss, times `replay`; gradients accumulate.
          // (The loss is scaled, not the weights: a small memory's batch is the stored memory itself.)
          const mb = mergedMemoryBatch(memory, perSession, rng, soft, replayScales);
          const lm = this.weightedLoss(mb.image, mb.text, mb.targets, mb.n, mb.weights, mb.soft, distill);
          ops.mulScalar(lm, this.replay).backward();
          memSum += lm.item() / memory.length;
          stopReplay();
        }
        opt.step();
        steps++; stepNo++;
      }
      return { codes: lossSum / steps, ...(increment ? { memory: memSum / steps, projected_share: projected / steps } : {}), ...prefixed('label_', labelLoss) };
    };
    try {
      return await runEpochs({ epochs, runEpoch, snapshot: () => null, restore: () => undefined, onProgress: options.onProgress });
    } finally {
      if (savedGrads) restoreGrads(params, savedGrads); // the nets keep no view of this session's buffers
    }
  }

  /** Closed-form last-layer gradient embeddings ([h, 1], δ) of each modality for n items. */
  private gradientBlocks(X: Float32Array, Y: Float32Array, T: Float32Array, n: number): GradientBlock[] {
    const c = this.bits;
    const blocks: GradientBlock[] = [];
    for (const [net, feats, dim] of [[this.imageNet!, X, this.imageDim], [this.textNet!, Y, this.textDim]] as const) {
      const hd = net.hidden;
      const a = new Float32Array(n * (hd + 1));
      const d = new Float32Array(n * c);
      noGrad(() => {
        const chunk = 1024;
        for (let r = 0; r < n; r += chunk) {
          const m = Math.min(chunk, n - r);
          const { hidden, out } = net.forwardWithHidden(Tensor.wrap(m, dim, feats.subarray(r * dim, (r + m) * dim)));
          fillGradientEmbedding(hidden.data as Float32Array, out.data as Float32Array, T, r, m, hd, c, a, d);
        }
      });
      blocks.push({ a, aDim: hd + 1, d, dDim: c });
    }
    return blocks;
  }

  /** Flattened gradient of Σ wᵢℓᵢ (w = 1/n for all when `w` is null) over the given rows. */
  private flatLossGradient(X: Float32Array, Y: Float32Array, T: Float32Array, rows: number[], w: number[] | null, total: number): Float32Array {
    const params = this.params();
    for (const p of params) p.zeroGrad();
    const c = this.bits;
    const chunk = 512;
    for (let s = 0; s < rows.length; s += chunk) {
      const idx = rows.slice(s, s + chunk);
      const wt = new Float32Array(idx.length);
      for (let i = 0; i < idx.length; i++) wt[i] = w ? w[s + i]! : 1 / total;
      this.weightedLoss(gatherRows(X, this.imageDim, idx), gatherRows(Y, this.textDim, idx), gatherRows(T, c, idx), idx.length, wt).backward();
    }
    const g = flatGrad(params);
    for (const p of params) p.zeroGrad();
    return g;
  }

  /**
   * Greedy gradient matching; with normalizeMemoryWeights, weights rescaled to sum to 1. At the end of a session the mean gradient
   * is small next to the per-item gradients, so NNLS shrinks the weights (Σw = .40 on Wikipedia
   * session 0): replay then under-weights that session. Rescaling keeps the selection and relative
   * weights but puts the memory loss on the scale of the session's mean loss, as for random memory
   * (Wikipedia s1: BWT −.106 → −.062, session-0 I→T after the last session .381 → .448) — but the
   * new sessions are then learnt worse (3 seeds: final I→T .299 vs .318), so it is off by default.
   */
  private greedyMemory(X: Float32Array, Y: Float32Array, T: Float32Array, n: number, budget: number, rng: Rng): { indices: number[]; weights: number[]; relativeError: number } {
    const r = selectByGradientMatching(this.gradientBlocks(X, Y, T, n), n, { budget, rng });
    const sum = r.weights.reduce((a, b) => a + b, 0);
    return this.normalizeMemoryWeights && sum > 0 ? { indices: r.indices, weights: r.weights.map((w) => w / sum), relativeError: r.relativeError } : r;
  }

  private selectMemory(session: number, X: Float32Array, Y: Float32Array, T: Float32Array, n: number, rng: Rng): void {
    const budget = Math.min(this.memoryPerSession, n);
    if (budget === 0) return;
    // The random ablation does no matching (its time is the time of random selection).
    const greedy = this.memoryMode === 'random' ? null : this.greedyMemory(X, Y, T, n, budget, rng.fork());
    const random = selectRandom(n, budget, rng.fork());
    const chosen = !greedy || greedy.indices.length === 0 ? random : greedy;
    // bound: the matching residual with the NNLS weights; measured/randomMeasured: the kept (rescaled) weights.
    const report: MemorySessionReport = { session, items: chosen.indices.length, bound: greedy ? greedy.relativeError : NaN, measured: NaN, randomMeasured: NaN, weightSum: chosen.weights.reduce((a, b) => a + b, 0) };
    this.memoryReports.push(report);
    // The whole-network gradient errors are a measurement, not training: taken by runDiagnostics()
    // (the runner calls it outside the timed section; learnSession calls it before nets move).
    this.pendingDiagnostics = () => {
      const all = Array.from({ length: n }, (_, i) => i);
      const gFull = this.flatLossGradient(X, Y, T, all, null, n);
      const rel = (sel: { indices: number[]; weights: number[] }) => {
        const gm = this.flatLossGradient(X, Y, T, sel.indices, sel.weights, n);
        let num = 0, den = 0;
        for (let i = 0; i < gFull.length; i++) { num += (gFull[i]! - gm[i]!) ** 2; den += gFull[i]! ** 2; }
        return den > 0 ? Math.sqrt(num / den) : 0;
      };
      report.measured = rel(chosen);
      report.randomMeasured = rel(random);
    };
    const c = this.bits;
    this.memory.push({
      session, n: chosen.indices.length, trained: n,
      image: gatherRows(X, this.imageDim, chosen.indices), text: gatherRows(Y, this.textDim, chosen.indices),
      targets: gatherRows(T, c, chosen.indices), weights: Float32Array.from(chosen.weights),
    });
  }

  protected outputs(net: HashNet, z: Float32Array, rows: number): Float32Array { return net.infer(z, rows); }

  save(path: string): void { saveCheckpoint(path, this.checkpoint()); }

  /** Everything save() writes (Joint embeds it in its own checkpoint). */
  checkpoint(): CheckpointData {
    const tensors: Record<string, Tensor> = { ...this.towerTensors(), ...paramsToTensors('label', this.labelNet!) };
    const c = this.bits;
    if (this.book.size) {
      const codes = new Float32Array(this.book.size * c);
      this.book.codes.forEach((b, i) => codes.set(b, i * c));
      tensors['codebook.codes'] = Tensor.wrap(this.book.size, c, codes);
    }
    this.memory.forEach((m, i) => {
      if (m.n === 0) return;
      tensors[`memory.${i}.image`] = Tensor.wrap(m.n, this.imageDim, m.image);
      tensors[`memory.${i}.text`] = Tensor.wrap(m.n, this.textDim, m.text);
      tensors[`memory.${i}.targets`] = Tensor.wrap(m.n, c, m.targets);
      tensors[`memory.${i}.weights`] = Tensor.wrap(m.n, 1, m.weights);
    });
    return {
      kind: CCMH_GAM_KIND,
      architecture: {
        format: FORMAT, name: this.method, bits: c, hidden: this.hidden, labelHidden: this.labelHidden, imageDim: this.imageDim, textDim: this.textDim,
        numClasses: this.numClasses, memory: this.memoryMode, memoryPerSession: this.memoryPerSession, projection: this.projection,
        labelRegulariser: this.labelRegulariser, replay: this.replay, growLabels: this.growLabels, keepCodebook: this.keepCodebook,
        refineCodes: this.refineCodes, normalizeMemoryWeights: this.normalizeMemoryWeights, labelSimilarity: this.labelSimilarity,
        // training options given at creation (a loaded model's update() uses them again)
        trainOptions: this.trainDefaults,
      },
      tensors,
      meta: { modelVersion: this.modelVersion, sessionsSeen: this.sessionsSeen, baseEpochs: this.baseEpochs, codebookKeys: this.book.keys, memorySessions: this.memory.map((m) => m.session), memoryTrained: this.memory.map((m) => m.trained), memoryReports: this.memoryReports },
    };
  }

  /** Rebuilds a model from a loaded checkpoint (see save()). */
  static fromCheckpoint(ck: { kind: string; architecture: unknown; tensors: Record<string, Tensor>; meta: unknown }, path: string): CcmhGam {
    const a = ck.architecture as Record<string, unknown>;
    if (!a || a.format !== FORMAT) throw new InputError(`${path}: ccmh-gam checkpoint format ${String(a?.format)} is not ${FORMAT}`);
    const num = (k: string) => { const v = a[k]; if (typeof v !== 'number') throw new InputError(`${path}: architecture field "${k}" should be a number, found ${JSON.stringify(v)}`); return v; };
    const m = new CcmhGam({
      bits: num('bits'), hidden: num('hidden'), labelHidden: num('labelHidden'), memory: a.memory as MemoryMode, memoryPerSession: num('memoryPerSession'),
      projection: a.projection as ProjectionMode, labelRegulariser: num('labelRegulariser'), replay: num('replay'), growLabels: a.growLabels as boolean,
      keepCodebook: a.keepCodebook as boolean, name: a.name as string,
      // absent in checkpoints written before these were saved: those models used the defaults
      refineCodes: typeof a.refineCodes === 'boolean' ? a.refineCodes : undefined,
      normalizeMemoryWeights: typeof a.normalizeMemoryWeights === 'boolean' ? a.normalizeMemoryWeights : undefined,
      // absent before the option existed: those models' codes were made with label cosines
      labelSimilarity: typeof a.labelSimilarity === 'string' ? a.labelSimilarity as LabelSimilarity : 'cosine',
      ...(a.trainOptions && typeof a.trainOptions === 'object' ? a.trainOptions as Partial<CcmhGamConfig> : {}),
    });
    const rng = new Rng(0);
    m.imageDim = num('imageDim'); m.textDim = num('textDim'); m.numClasses = num('numClasses');
    m.imageNet = new HashNet(m.imageDim, m.hidden, m.bits, rng);
    m.textNet = new HashNet(m.textDim, m.hidden, m.bits, rng);
    m.labelNet = new HashNet(Math.max(1, m.numClasses), m.labelHidden, m.bits, rng);
    const take = (key: string, rows: number, cols: number): Float32Array => {
      const t = ck.tensors[key];
      if (!t || t.rows !== rows || t.cols !== cols) throw new InputError(`${path}: tensor "${key}" should be ${rows}×${cols}, found ${t ? `${t.rows}×${t.cols}` : 'nothing'}`);
      return Float32Array.from(t.data);
    };
    m.loadTowers(ck, path);
    tensorsToParams(ck, path, 'label', m.labelNet);
    const meta = (ck.meta ?? {}) as { modelVersion?: number; sessionsSeen?: number; baseEpochs?: number; codebookKeys?: string[]; memorySessions?: number[]; memoryTrained?: number[]; memoryReports?: MemorySessionReport[] };
    const keys = meta.codebookKeys ?? [];
    if (keys.length) {
      const codes = take('codebook.codes', keys.length, m.bits);
      keys.forEach((k, i) => m.book.add(k, codes.slice(i * m.bits, (i + 1) * m.bits)));
    }
    (meta.memorySessions ?? []).forEach((session, i) => {
      const t = ck.tensors[`memory.${i}.weights`];
      if (!t) return;
      const n = t.rows;
      // NaN when the checkpoint predates memoryTrained: 'size' weighting then falls back to 'session'
      m.memory.push({ session, n, trained: meta.memoryTrained?.[i] ?? NaN, image: take(`memory.${i}.image`, n, m.imageDim), text: take(`memory.${i}.text`, n, m.textDim), targets: take(`memory.${i}.targets`, n, m.bits), weights: take(`memory.${i}.weights`, n, 1) });
    });
    m.memoryReports.push(...(meta.memoryReports ?? []));
    m.modelVersion = meta.modelVersion ?? 1;
    m.sessionsSeen = meta.sessionsSeen ?? 1;
    m.baseEpochs = meta.baseEpochs ?? 30;
    return m;
  }
}

/** Label cosines of m label rows (width w) against each other, m × m (a zero row has cosine 0). */
export function labelCosines(labels: Uint8Array, m: number, w: number): Float32Array {
  const norm = new Float64Array(m);
  for (let i = 0; i < m; i++) { let k = 0; for (let j = 0; j < w; j++) k += labels[i * w + j]!; norm[i] = Math.sqrt(k); }
  const S = new Float32Array(m * m);
  for (let i = 0; i < m; i++) for (let j = i; j < m; j++) {
    if (!norm[i] || !norm[j]) continue;
    let dot = 0; for (let k = 0; k < w; k++) dot += labels[i * w + k]! & labels[j * w + k]!;
    S[i * m + j] = S[j * m + i] = dot / (norm[i]! * norm[j]!);
  }
  return S;
}

/** Label similarities of m label rows (width w) against each other, m × m (LabelSimilarity; a zero row has 0). */
export function labelSimilarities(labels: Uint8Array, m: number, w: number, kind: LabelSimilarity): Float32Array {
  const S = labelCosines(labels, m, w);
  if (kind === 'shared') for (let i = 0; i < S.length; i++) S[i] = S[i]! > 0 ? 1 : 0;
  return S;
}

/**
 * The pairwise term of CcmhGamTrainOptions.pairwise: mean over the m × m pairs of
 * softplus(Θ) − S⊙Θ, Θ = ½·u·Tᵀ (u: m × c net outputs, T: m × c semantic codes, constants; S: m × m targets).
 */
export function modalityPairwiseLoss(u: Tensor, T: Float32Array, S: Float32Array): Tensor {
  const m = u.rows;
  const theta = ops.mulScalar(ops.matmul(u, Tensor.wrap(m, u.cols, T), false, true), 0.5);
  return ops.pairwiseLikelihood(theta, Tensor.wrap(m, m, S));
}

/**
 * The step floor of a session (CcmhGamTrainOptions.minSteps / minUpdateSteps). The default floor
 * applies only where the epochs are the defaults too: epochs (base) or updateEpochs / epochs
 * (increment) given explicitly are honoured as given unless a floor is given explicitly as well.
 */
export function stepFloor(o: Pick<CcmhGamTrainOptions, 'minSteps' | 'minUpdateSteps' | 'epochs' | 'updateEpochs'>, base: boolean): number {
  if (base) return o.minSteps ?? (o.epochs === undefined ? CCMH_GAM_DEFAULTS.minSteps : 0);
  return o.minUpdateSteps ?? (o.epochs === undefined && o.updateEpochs === undefined ? CCMH_GAM_DEFAULTS.minUpdateSteps : 0);
}


/**
 * Rows r..r+m−1 of the last-layer gradient embedding from a chunk's hidden activations h and tanh
 * outputs u: a = [h, 1], δ = (2/c)(u − t)(1 − u²). (A top-level function: the JIT optimises it
 * on its first long loop, where a closure inside the method ran unoptimised once per session.)
 */
function fillGradientEmbedding(h: Float32Array, u: Float32Array, T: Float32Array, r: number, m: number, hd: number, c: number, a: Float32Array, d: Float32Array): void {
  for (let i = 0; i < m; i++) {
    a.set(h.subarray(i * hd, (i + 1) * hd), (r + i) * (hd + 1));
    a[(r + i) * (hd + 1) + hd] = 1;
    for (let k = 0; k < c; k++) {
      const ui = u[i * c + k]!, t = T[(r + i) * c + k]!;
      d[(r + i) * c + k] = (2 / c) * (ui - t) * (1 - ui * ui);
    }
  }
}

/** Replayed items with their loss weights and, for distillation, the image net's pre-session outputs. */
interface ReplayBatch { n: number; image: Float32Array; text: Float32Array; targets: Float32Array; weights: Float32Array; soft: Float32Array | null }

/** A sample of `size` items of one session's memory, weights rescaled (an unbiased estimate of its weighted loss) and × `scale`. */
function memoryBatch(mem: MemorySet, size: number, rng: Rng, soft: Float32Array | null, scale = 1): ReplayBatch {
  if (mem.n <= size) return { n: mem.n, image: mem.image, text: mem.text, targets: mem.targets, weights: scale === 1 ? mem.weights : mem.weights.map((w) => w * scale), soft };
  const idx = rng.permutation(mem.n).subarray(0, size);
  const c = mem.targets.length / mem.n;
  const weights = new Float32Array(size);
  for (let i = 0; i < size; i++) weights[i] = mem.weights[idx[i]!]! * (mem.n / size) * scale;
  return {
    n: size, image: gatherRows(mem.image, mem.image.length / mem.n, idx), text: gatherRows(mem.text, mem.text.length / mem.n, idx),
    targets: gatherRows(mem.targets, c, idx), weights, soft: soft ? gatherRows(soft, c, idx) : null,
  };
}

/** One batch holding a sample of every old session's memory (their weighted losses add up). */
function mergedMemoryBatch(memory: MemorySet[], perSession: number, rng: Rng, soft: Float32Array[], scales: number[]): ReplayBatch {
  const parts = memory.map((mem, i) => memoryBatch(mem, perSession, rng, soft[i] ?? null, scales[i]));
  if (parts.length === 1) return parts[0]!;
  const cat = (xs: Float32Array[]) => concatArrays(xs);
  return {
    n: parts.reduce((a, p) => a + p.n, 0), image: cat(parts.map((p) => p.image)), text: cat(parts.map((p) => p.text)),
    targets: cat(parts.map((p) => p.targets)), weights: cat(parts.map((p) => p.weights)), soft: soft.length ? cat(parts.map((p) => p.soft!)) : null,
  };
}

function prefixed(p: string, o: Record<string, number>): Record<string, number> {
  const r: Record<string, number> = {};
  for (const [k, v] of Object.entries(o)) r[p + k] = v;
  return r;
}

export function emptyFit(): FitSummary {
  return { epochsRun: 0, bestEpoch: 0, bestScore: null, stoppedEarly: false, trainSeconds: 0, history: [] };
}

/** Labels n × from (from ≤ to) zero-padded to n × to. */
export function padLabels(labels: Uint8Array, n: number, from: number, to: number): Uint8Array {
  if (from === to) return labels;
  const out = new Uint8Array(n * to);
  for (let i = 0; i < n; i++) out.set(labels.subarray(i * from, (i + 1) * from), i * to);
  return out;
}
