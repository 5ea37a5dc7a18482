// DLCMH — Deep Lifelong Cross-modal Hashing (Xu et al., arXiv 2304.13357, TCSVT 2024).
//
// Original phase (fit, session 0): a label net g (C → labelHidden → c), an image net F and a text net
// G (MLPs → c, tanh). Similarity is the multi-label cosine S_ij = cos(l_i, l_j). Losses:
//   label net:  mean (S − ReLU(cos(H_i, H_j)))² + γ·mean(B_L − H)² + η·‖mean_rows H‖²/c,  B_L = sign(H)
//   image net:  mean (S − ReLU(cos(F_i, L_j)))² + γ·mean(B_x − F)² + η·‖mean_rows F‖²/c, B_x = sign(2F + L)
//   text net:   the same with G and B_y = sign(2G + L)
// (L = g(l), the label net's outputs, are the anchors; B_x, B_y are updated once per epoch.)
// The stored database codes of the training items are B = sign(F + G + L).
//
// Incremental phase (update): the stored codes B_old of earlier items are frozen. The nets are
// fine-tuned on the session's new items plus replayed old items, against a sampled budget (default
// 2,000) of old codes and labels, with the asymmetric lifelong loss
//   mean(u·B_oldᵀ/c − S_old)² + mean(u·B_newᵀ/c − S_new)² + α'·mean(B − u)² + β'·‖mean u‖²/c
// where B is the row's target code: B_new for new items, the frozen stored code for replayed old
// items. The replay memory keeps the features of at most `budget` old items (a uniform reservoir over
// every item seen); each epoch replays as many of them as the session has new items. Without it
// (the previous version, old codes only) the old-code term only pushed *new* items away from old
// codes — nothing held old-class items on their codes and the nets forgot exactly as fine-tune did
// (Wikipedia 4+3+3, seed 1: R[2][0] I→T .175 vs fine-tune .201, joint .342; reencode stability .04).
// The new items' codes B_new are learned bit by bit by discrete cyclic coordinate descent on
//   Σ_{m∈{x,y}} ‖U_m·B_newᵀ − c·S_new‖² + α·‖B_new − U_m‖² − 2c·w·Σᵢⱼ S(lᵢ, l_old,j)·bᵢ·b_old,j
// (closed form per bit: b_k = −sign(2·B̂·P̂_k + q_k), P = Σ U_mᵀU_m, Q = −2c·SᵀΣU_m − 2α·ΣU_m − 2c·w·S_{new,old}·B_old).
// The last term (`oldPull`, default 0.5; oldCodePull) draws a new item's code toward the stored codes
// of old items sharing its labels; it is zero when a session's items share no label with old ones.
// Both pairwise terms of the nets' loss enter each distinct (code, label row) of their sample once,
// weighted by its count, and the DCC step sums S·U per label pattern: the same objective up to
// rounding at a fraction of the cost (parts/code-groups.ts; docs/experiments/2026-12-dlcmh-continual-bars.md).
// The paper's weights (γ = η = 10, α = 10, β = 100) are for unnormalised sums; we use per-entry means so
// learning rates do not depend on n or c, and keep α = 10 in the DCC step (where it is unnormalised).
//
// Fixes over the public reference code: the old-code sample is drawn from the stored codes by index
// into the same arrays as their labels (no sample/database index mismatch, never an empty sample when
// old items exist, no assumption that seen classes come first — labels are keyed by class id), and the
// epoch kept is chosen on a validation split carved from the session's training items (never test mAP).
import { InputError } from '../util/errors.js';
import { Rng } from '../util/rng.js';
import { Tensor, noGrad } from '../tensor/tensor.js';
import * as ops from '../tensor/ops.js';
import { Adam } from '../nn/optim-adam.js';
import { saveCheckpoint, type CheckpointData } from '../nn/checkpoint.js';
import { PackedCodes } from '../codes/packed-codes.js';
import { meanAveragePrecision } from '../eval/metrics.js';
import { gatherBlock, gatherRows } from '../data/dataset.js';
import type { ContinualHasher, FitSummary, SessionData, TrainingData, TrainOptions, TrainProgress } from './hasher.js';
import { checkBits, columnStats, epochsForSteps, runEpochs, sessionValidationSplit, shuffledBatches, standardize } from './training-loop.js';
import { makeValidator } from './validation.js';
import { HashNet } from './parts/hash-net.js';
import { checkSession } from './parts/session-checks.js';
import { emptyFit, padLabels } from './ccmh-gam.js';
import { checkOptions, pickOptions, COMMON_TRAIN_KEYS, type OptionSchema } from './options.js';
import { TwoTowerHasher } from './two-tower.js';
import { paramsToTensors, tensorsToParams } from './checkpoint-io.js';
import { concatArrays } from '../util/arrays.js';
import { PhaseClock } from './parts/phase-clock.js';
import { groupCodes, scaleColumns, scaledGroupCodes, type CodeGroups } from './parts/code-groups.js';

export const DLCMH_KIND = 'cmhash/dlcmh';
const FORMAT = 1;

/** DLCMH's options (methods/options.ts): the registry, the CLI and fit()/update() check against this. */
export const DLCMH_OPTIONS: OptionSchema = {
  hidden: { type: 'integer', min: 1, default: 512, at: 'model', doc: 'hidden width of the image and text nets', tune: [256, 1024] },
  labelHidden: { type: 'integer', min: 1, default: 256, at: 'model', doc: 'hidden width of the label net' },
  budget: { type: 'integer', min: 1, default: 2000, at: 'model', doc: 'old codes sampled per increment epoch, and the size of the old-item replay memory' },
  gamma: { type: 'number', min: 0, default: 1, doc: 'quantization weight (per-entry mean)' },
  eta: { type: 'number', min: 0, default: 1, doc: 'bit-balance weight' },
  alpha: { type: 'number', min: 0, default: 10, doc: 'DCC quantization weight of the code update' },
  alphaNet: { type: 'number', min: 0, default: 0.5, doc: 'net quantization weight in the lifelong loss' },
  beta: { type: 'number', min: 0, default: 1, doc: 'net balance weight in the lifelong loss' },
  oldWeight: { type: 'number', min: 0, default: 1, doc: 'weight of the old-code term ‖u·B_oldᵀ/c − S_old‖²', tune: [0.5, 2], tuneIn: 'continual' },
  oldPull: { type: 'number', min: 0, default: 0.5, doc: 'pull of the sampled old codes on the new items\' codes in the DCC step, −2c·S_{new,old}·B_old (relative to one modality\'s outputs; 0 = off)' },
  updateEpochs: { type: 'integer', min: 1, defaultText: 'max(2, round(epochs/6))', doc: 'epochs of each increment' },
  minUpdateSteps: { type: 'integer', min: 0, default: 0, doc: 'fewest optimiser steps of each net in an increment (update epochs are raised to reach it; 0 = epochs only)' },
  labelSteps: { type: 'integer', min: 0, default: 300, doc: 'label-net steps of the base session' },
  labelLearningRate: { type: 'number', min: 0, default: 1e-3, doc: 'learning rate of the label net' },
  validationFraction: { type: 'number', min: 0, below: 1, default: 0.1, doc: 'share of each session\'s training items held out for model selection' },
  replayItems: { type: 'integer', min: 0, defaultText: 'the session\'s new items', doc: 'old memory items replayed per increment epoch' },
  imageShrink: { type: 'number', min: 0, max: 1, default: 0.7, doc: 'shrink and perturb of the image net at each increment, θ ← xθ + (1−x)θ_fresh (1 = off)', tune: [0.5, 1], tuneIn: 'continual' },
};

/** finetune:dlcmh trains DLCMH's nets on each session only: no old codes, no replay memory. */
export const FINETUNE_DLCMH_OPTIONS: OptionSchema = Object.fromEntries(Object.entries(DLCMH_OPTIONS)
  .filter(([k]) => !['budget', 'oldWeight', 'replayItems', 'oldPull'].includes(k))
  .map(([k, v]) => [k, k === 'imageShrink' ? { ...v, default: 1 } : v]));

export interface DlcmhConfig extends Partial<Omit<DlcmhTrainOptions, keyof TrainOptions>> {
  bits: number;
  hidden?: number;       // default 512
  labelHidden?: number;  // default 256
  /** Old codes sampled per epoch in the incremental phase, and the size of the replay memory of old items' features (default 2,000). */
  budget?: number;
  /** Use the frozen old codes in the incremental loss (default true; false = the finetune:dlcmh baseline). */
  lifelong?: boolean;
  /** Method name reported (default 'dlcmh'). */
  name?: string;
}

export interface DlcmhTrainOptions extends TrainOptions {
  imageShrink?: number;    // shrink and perturb of the image net at each increment (default 0.7; finetune:dlcmh 1 = off)
  gamma?: number;          // quantization weight (per-entry mean), default 1
  eta?: number;            // balance weight, default 1
  alpha?: number;          // DCC quantization weight (unnormalised), default 10
  alphaNet?: number;       // net quantization weight in the lifelong loss, default 0.5
  beta?: number;           // net balance weight in the lifelong loss, default 1
  // Default max(2, round(epochs / 6)) (= 5 at 30 epochs): the setting with the best validation score
  // (runner detail.validation_map, held-out training items of every session) among those whose
  // increment CPU time stays ≤ 15 % of joint retraining's (docs/continual.md, "DLCMH: update epochs").
  updateEpochs?: number;
  /**
   * Fewest optimiser steps of each net in an increment: the update epochs are raised to
   * ⌈minUpdateSteps / batches per epoch⌉ (the batches cover the new items and the replayed ones).
   * A small increment (MIRFlickr photo rows 22+2: 161 training items + 161 replayed, 3 batches) gets
   * 15 steps from 5 epochs, after shrink and perturb has reset 30% of the image net. Default 0.
   */
  minUpdateSteps?: number;
  labelSteps?: number;     // default 300
  labelLearningRate?: number; // default 1e-3
  validationFraction?: number; // default 0.1
  /** Memory items replayed per epoch in the incremental phase (default: as many as the session's new items). */
  replayItems?: number;
  /** Weight of the old-code term ‖u·B_oldᵀ/c − S_old‖² (per-entry mean, like the new-code term; default 1). */
  oldWeight?: number;
  /** Weight of the old codes' pull on B_new in the DCC step (oldCodePull; default 0.5, 0 = off). */
  oldPull?: number;
}


/**
 * Cosine similarity of 0/1 label rows a (i-th of A, width wa) and b (j-th of B, width wb); widths may
 * differ (zero-padded). Computed once per pair of *distinct* label rows and then gathered: an epoch's
 * old-code matrix is ~1,200 × 2,000 pairs but Wikipedia has 10 distinct label rows (MIRFlickr 22+2 a
 * few hundred), and the per-pair loop over classes was a fifth of a DLCMH increment. When most rows
 * are distinct (dense multi-label data) the table would be as large as the result, so every pair is
 * computed directly; both give the same values.
 */
export function labelCosMatrix(A: Uint8Array, na: number, wa: number, B: Uint8Array, nb: number, wb: number): Float32Array {
  const pa = distinctRows(A, na, wa), pb = distinctRows(B, nb, wb);
  const ka = pa.first.length, kb = pb.first.length;
  if (2 * ka * kb > na * nb) return cosineOfRows(A, allRows(na), wa, B, allRows(nb), wb);
  return gatherBlock(cosineOfRows(A, pa.first, wa, B, pb.first, wb), kb, pa.id, pb.id);
}

const allRows = (n: number) => Int32Array.from({ length: n }, (_, i) => i);

/** Label cosines of rows `ra` of A against rows `rb` of B (each row's class count taken once). */
function cosineOfRows(A: Uint8Array, ra: ArrayLike<number>, wa: number, B: Uint8Array, rb: ArrayLike<number>, wb: number): Float32Array {
  const w = Math.min(wa, wb);
  const ca = rowSums(A, ra, wa), cb = rowSums(B, rb, wb);
  const out = new Float32Array(ra.length * rb.length);
  for (let x = 0; x < ra.length; x++) {
    if (!ca[x]) continue;
    const io = ra[x]! * wa;
    for (let y = 0; y < rb.length; y++) {
      if (!cb[y]) continue;
      const jo = rb[y]! * wb;
      let s = 0;
      for (let k = 0; k < w; k++) s += A[io + k]! & B[jo + k]!;
      if (s) out[x * rb.length + y] = s / Math.sqrt(ca[x]! * cb[y]!);
    }
  }
  return out;
}

function rowSums(M: Uint8Array, rows: ArrayLike<number>, w: number): Float64Array {
  const out = new Float64Array(rows.length);
  for (let x = 0; x < rows.length; x++) { let s = 0; const o = rows[x]! * w; for (let k = 0; k < w; k++) s += M[o + k]!; out[x] = s; }
  return out;
}

/** Distinct rows of a 0/1 matrix: each row's pattern id, and the first row of each pattern. */
function distinctRows(M: Uint8Array, n: number, w: number): { id: Int32Array; first: number[] } {
  const id = new Int32Array(n), first: number[] = [];
  const seen = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const key = M.subarray(i * w, (i + 1) * w).join(',');
    let p = seen.get(key);
    if (p === undefined) { p = first.length; seen.set(key, p); first.push(i); }
    id[i] = p;
  }
  return { id, first };
}

/**
 * Label cosines of rows A against rows B by distinct label row: S[i][j] = table[idA[i]][idB[j]]
 * (table ka × kb). What the DCC step reads instead of the n × |Ω| matrix.
 */
export interface LabelPatterns { idA: Int32Array; idB: Int32Array; table: Float32Array; ka: number; kb: number; firstA: number[] }

export function labelPatterns(A: Uint8Array, na: number, wa: number, B: Uint8Array, nb: number, wb: number): LabelPatterns {
  const pa = distinctRows(A, na, wa), pb = distinctRows(B, nb, wb);
  return { idA: pa.id, idB: pb.id, table: cosineOfRows(A, pa.first, wa, B, pb.first, wb), ka: pa.first.length, kb: pb.first.length, firstA: pa.first };
}

/**
 * One sweep of discrete cyclic coordinate descent on B_new (n × c, in place) given both nets' outputs
 * Ux, Uy on the new items, the sampled items Ω and S_nΩ (as label patterns: S depends only on the two
 * label rows). P = Σ_m U_mΩᵀ U_mΩ (c × c); Q = −2c·S_nΩ·(ΣU_mΩ) − 2α·ΣU_m; bit k of every code is set
 * to sign(−(2·B_{:,≠k}·P_{≠k,k} + Q_{:,k})). S_nΩ·(ΣU_mΩ) is summed per label pattern —
 * Σ_ℓ cos(lᵢ, ℓ)·Σ_{r∈Ω: l_r = ℓ} ΣU_m,r, computed once per distinct lᵢ — the same sum as over every
 * (i, r) pair (up to rounding) at a fraction of the cost when rows share labels (Wikipedia: 3 patterns
 * in a session of ~500 items). (A top-level function: the JIT optimises it on its first long loop; as
 * a closure in update() it ran unoptimised for most of an increment's epochs.)
 */
export function dccSweep(Bnew: Float32Array, Ux: Float32Array, Uy: Float32Array, omega: Int32Array, S: LabelPatterns, n: number, c: number, alpha: number, pull?: Float64Array): void {
  const P = new Float64Array(c * c);
  const Usum = new Float32Array(omega.length * c);
  for (let r = 0; r < omega.length; r++) {
    const i = omega[r]!;
    accumulateGram(P, Usum, Ux, i, r, c);
    accumulateGram(P, Usum, Uy, i, r, c);
  }
  const { ka, kb, table } = S;
  const V = new Float64Array(kb * c); // Σ of ΣU_m over Ω rows of each label pattern
  for (let r = 0; r < omega.length; r++) { const o = S.idB[r]! * c; for (let k = 0; k < c; k++) V[o + k] += Usum[r * c + k]!; }
  const Qlab = new Float64Array(ka * c);
  for (let a = 0; a < ka; a++) {
    for (let b = 0; b < kb; b++) {
      const s = table[a * kb + b]!;
      if (s === 0) continue;
      for (let k = 0; k < c; k++) Qlab[a * c + k] -= 2 * c * s * V[b * c + k]!;
    }
  }
  if (pull) for (let x = 0; x < ka * c; x++) Qlab[x] += pull[x]!;
  const Q = new Float64Array(n * c);
  for (let i = 0; i < n; i++) {
    const o = S.idA[i]! * c;
    for (let k = 0; k < c; k++) Q[i * c + k] = Qlab[o + k]! - 2 * alpha * (Ux[i * c + k]! + Uy[i * c + k]!);
  }
  for (let k = 0; k < c; k++) {
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let l = 0; l < c; l++) if (l !== k) s += Bnew[i * c + l]! * P[l * c + k]!;
      Bnew[i * c + k] = -(2 * s + Q[i * c + k]!) >= 0 ? 1 : -1;
    }
  }
}

/**
 * The old codes' pull on the new items' codes in the DCC step (option `oldPull`, weight w): the term
 * −2c·w·Σᵢ Σⱼ S(lᵢ, lⱼ)·bᵢ·b_old,j over the epoch's sampled old codes is added to the code objective,
 * i.e. Q −= 2c·w·S_{new,old}·B_old, so a new item's code is drawn toward the stored codes of old items
 * that share its labels. Without it B_new was fitted to the new items alone (S_new, and the nets'
 * outputs through α): on multi-label streams the new items share labels with old ones, and their
 * codes need not agree with those items' stored codes. It is the linear part of the asymmetric term
 * ‖B_new·B_oldᵀ − c·S_{new,old}‖²; its quadratic part Σ(bᵢ·bⱼ)² is left out: it would push every new
 * code toward orthogonality with every old code, whether they share labels or not (not measured).
 * On single-label streams whose sessions bring new classes only
 * (Wikipedia) S_{new,old} = 0 and the pull is exactly zero. Returned per label pattern of the new
 * items (LabelPatterns.firstA); the old codes are summed per distinct label row first.
 * w = oldPull·|Ω| / (sampled old codes): at 1 the old codes weigh as much in total as one modality's
 * outputs on Ω do in the S_new term.
 */
export function oldCodePull(newLabels: Uint8Array, newPatternFirst: ArrayLike<number>, width: number, codes: Float32Array, labels: Uint8Array, rows: ArrayLike<number>, c: number, w: number): Float64Array {
  const L = gatherRows(labels, width, rows);
  const pb = distinctRows(L, rows.length, width);
  const kb = pb.first.length, ka = newPatternFirst.length;
  const V = new Float64Array(kb * c); // Σ of old codes per distinct label row
  for (let r = 0; r < rows.length; r++) { const o = pb.id[r]! * c, q = rows[r]! * c; for (let k = 0; k < c; k++) V[o + k] += codes[q + k]!; }
  const T = cosineOfRows(newLabels, newPatternFirst, width, L, pb.first, width); // ka × kb
  const Qlab = new Float64Array(ka * c);
  for (let a = 0; a < ka; a++) {
    for (let b = 0; b < kb; b++) {
      const sv = T[a * kb + b]!;
      if (sv === 0) continue;
      const f = -2 * c * w * sv;
      for (let k = 0; k < c; k++) Qlab[a * c + k] += f * V[b * c + k]!;
    }
  }
  return Qlab;
}

/** P += uᵢuᵢᵀ and Usum[r] += uᵢ for row i of U (c columns). */
function accumulateGram(P: Float64Array, Usum: Float32Array, U: Float32Array, i: number, r: number, c: number): void {
  for (let a = 0; a < c; a++) {
    const ua = U[i * c + a]!;
    Usum[r * c + a] += ua;
    for (let b = 0; b < c; b++) P[a * c + b] += ua * U[i * c + b]!;
  }
}

function signInto(v: ArrayLike<number>): Float32Array { const o = new Float32Array(v.length); for (let i = 0; i < v.length; i++) o[i] = v[i]! >= 0 ? 1 : -1; return o; }

export class Dlcmh extends TwoTowerHasher<HashNet> implements ContinualHasher {
  readonly method: string;
  readonly lifelong: boolean;
  readonly bits: number;
  readonly hidden: number;
  readonly labelHidden: number;
  readonly budget: number;
  numClasses = 0;
  lastFit: FitSummary | null = null;
  /** Wall seconds (and, suffixed _cpu, process CPU seconds) of each phase of the last fit()/update(): where increment time goes (report.json phase_seconds). */
  lastPhaseSeconds: Record<string, number> = {};
  private labelNet: HashNet | null = null;
  /** Frozen codes (±1) of all training items so far and their labels (width numClasses, zero-padded). */
  private storedCodes: Float32Array = new Float32Array(0);
  private storedLabels: Uint8Array = new Uint8Array(0);
  private storedN = 0;
  private baseEpochs = 30;
  /** Replay memory: raw features of at most `budget` old items (uniform reservoir over every item
   *  seen), with their row in the stored codes/labels. Lets the nets keep mapping old-class items
   *  onto their frozen codes. Empty for the finetune variant. */
  private memImage: Float32Array = new Float32Array(0);
  private memText: Float32Array = new Float32Array(0);
  private memRows: Int32Array = new Int32Array(0);
  private seenN = 0;

  /** The options this model answers to, and training options given when it was built. */
  private readonly schema: OptionSchema;
  private readonly trainDefaults: Record<string, unknown>;

  constructor(config: DlcmhConfig) {
    super();
    this.bits = checkBits(config.bits);
    this.schema = (config.lifelong === false ? FINETUNE_DLCMH_OPTIONS : DLCMH_OPTIONS);
    const { name: _n, lifelong: _l, ...given } = config;
    checkOptions(config.name ?? 'dlcmh', DLCMH_OPTIONS, given, ['bits']);
    this.trainDefaults = pickOptions(this.schema, given, 'train');
    this.hidden = config.hidden ?? 512;
    this.labelHidden = config.labelHidden ?? 256;
    this.budget = config.budget ?? 2000;
    this.lifelong = config.lifelong ?? true;
    this.method = config.name ?? 'dlcmh';
    if (!Number.isInteger(this.budget) || this.budget < 1) throw new InputError(`dlcmh: budget must be a positive integer, got ${config.budget}`);
  }

  /** DLCMH keeps no old features: its memory is the stored codes and labels of old items. */
  memoryItems(): number { return this.memRows.length; }

  /**
   * Reservoir-samples rows `only` (default all) of d — stored rows base..base+d.n−1 — into the replay
   * memory; held-out rows must never enter it.
   */
  private remember(d: TrainingData, base: number, rng: Rng, only?: ArrayLike<number>): void {
    if (!this.lifelong) return;
    const cap = this.budget, di = d.imageDim, dt = d.textDim;
    if (this.memImage.length !== cap * di) {
      const im = new Float32Array(cap * di); im.set(this.memImage.subarray(0, Math.min(this.memImage.length, im.length))); this.memImage = im;
      const tx = new Float32Array(cap * dt); tx.set(this.memText.subarray(0, Math.min(this.memText.length, tx.length))); this.memText = tx;
    }
    const rows = Array.from(this.memRows);
    const count = only ? only.length : d.n;
    for (let k = 0; k < count; k++) {
      const i = only ? only[k]! : k;
      this.seenN++;
      let slot = -1;
      if (rows.length < cap) { slot = rows.length; rows.push(0); } else { const r = rng.int(this.seenN); if (r < cap) slot = r; }
      if (slot < 0) continue;
      rows[slot] = base + i;
      this.memImage.set(d.image.subarray(i * di, (i + 1) * di), slot * di);
      this.memText.set(d.text.subarray(i * dt, (i + 1) * dt), slot * dt);
    }
    this.memRows = Int32Array.from(rows);
  }

  private standardized(d: TrainingData): { X: Float32Array; Y: Float32Array } {
    const s = this.stats!;
    return { X: standardize(d.image, d.imageDim, s.imageMean, s.imageInvStd), Y: standardize(d.text, d.textDim, s.textMean, s.textInvStd) };
  }

  async fit(data: TrainingData, given: DlcmhTrainOptions): Promise<void> {
    checkOptions(this.method, this.schema, given, COMMON_TRAIN_KEYS, 'train');
    const options: DlcmhTrainOptions = { ...this.trainDefaults, ...given };
    checkSession('dlcmh', { ...data, index: 0, newClasses: [] }, { base: true });
    if (checkBits(options.bits) !== this.bits) throw new InputError(`dlcmh: options.bits ${options.bits} differs from the model's ${this.bits}`);
    const rng = new Rng(options.seed ?? 1);
    const clock = new PhaseClock();
    const stopSetup = clock.start('setup');
    const c = this.bits;
    const gamma = options.gamma ?? 1, eta = options.eta ?? 1;
    this.baseEpochs = options.epochs ?? 30;
    const im = columnStats(data.image, data.n, data.imageDim), tx = columnStats(data.text, data.n, data.textDim);
    this.stats = { imageMean: im.mean, imageInvStd: im.invStd, textMean: tx.mean, textInvStd: tx.invStd };
    this.imageDim = data.imageDim; this.textDim = data.textDim; this.numClasses = data.numClasses;
    this.imageNet = new HashNet(data.imageDim, this.hidden, c, rng.fork());
    this.textNet = new HashNet(data.textDim, this.hidden, c, rng.fork());
    this.labelNet = new HashNet(data.numClasses, this.labelHidden, c, rng.fork());
    const split = options.validation === undefined ? sessionValidationSplit(data, 0, options.seed ?? 1, options.validationFraction ?? 0.1) : null;
    const train = split ? split.train : data;
    const validation = options.validation ?? split?.validation;
    const n = train.n, C = train.numClasses;
    const { X, Y } = this.standardized(train);

    stopSetup();
    // 1. Label net on all training label rows (sampled batches vs sampled anchors).
    const Lf = new Float32Array(train.labels);
    const labelNet = this.labelNet;
    clock.time('label_net', () => {
      const labOpt = new Adam(labelNet.parameters(), { lr: options.labelLearningRate ?? 1e-3 });
      for (let step = 0; step < (options.labelSteps ?? 300); step++) {
        const idx = n <= 256 ? Int32Array.from({ length: n }, (_, i) => i) : rng.permutation(n).subarray(0, 256);
        const m = idx.length;
        labOpt.zeroGrad();
        const H = labelNet.forward(Tensor.wrap(m, C, gatherRows(Lf, C, idx)));
        const S = Tensor.wrap(m, m, labelCosMatrix(gatherRows(train.labels, C, idx), m, C, gatherRows(train.labels, C, idx), m, C));
        const sim = ops.mean(ops.square(ops.sub(S, ops.relu(ops.cosineSimilarity(H, H)))));
        const quant = ops.mean(ops.square(ops.sub(Tensor.wrap(m, c, signInto(H.data)), H)));
        const bal = ops.mulScalar(ops.sum(ops.square(ops.mean(H, 0))), 1 / c);
        ops.add(ops.add(sim, ops.mulScalar(quant, gamma)), ops.mulScalar(bal, eta)).backward();
        labOpt.step();
      }
    });
    const L = this.labelNet.infer(Lf, n);

    // 2. Image and text nets against the label codes, B_x = sign(2F + L), B_y = sign(2G + L).
    const F = this.imageNet.infer(X, n), G = this.textNet.infer(Y, n);
    const Bx = new Float32Array(n * c), By = new Float32Array(n * c);
    const updateB = () => { for (let i = 0; i < n * c; i++) { Bx[i] = 2 * F[i]! + L[i]! >= 0 ? 1 : -1; By[i] = 2 * G[i]! + L[i]! >= 0 ? 1 : -1; } };
    updateB();
    const params = [...this.imageNet.parameters(), ...this.textNet.parameters()];
    const optF = new Adam(this.imageNet.parameters(), { lr: options.learningRate ?? 1e-3 });
    const optG = new Adam(this.textNet.parameters(), { lr: options.learningRate ?? 1e-3 });
    const batchSize = options.batchSize ?? 128;
    const anchorsMax = 1000;
    const half = (net: HashNet, opt: Adam, feats: Float32Array, dim: number, own: Float32Array, B: Float32Array) => {
      let total = 0, steps = 0;
      for (const idx of shuffledBatches(n, Math.min(batchSize, n), rng)) {
        const m = idx.length;
        const anchors = n <= anchorsMax ? Int32Array.from({ length: n }, (_, i) => i) : rng.permutation(n).subarray(0, anchorsMax);
        const S = Tensor.wrap(m, anchors.length, labelCosMatrix(gatherRows(train.labels, C, idx), m, C, gatherRows(train.labels, C, anchors), anchors.length, C));
        opt.zeroGrad();
        const out = net.forward(Tensor.wrap(m, dim, gatherRows(feats, dim, idx)));
        const sim = ops.mean(ops.square(ops.sub(S, ops.relu(ops.cosineSimilarity(out, Tensor.wrap(anchors.length, c, gatherRows(L, c, anchors)))))));
        const quant = ops.mean(ops.square(ops.sub(Tensor.wrap(m, c, gatherRows(B, c, idx)), out)));
        const bal = ops.mulScalar(ops.sum(ops.square(ops.mean(out, 0))), 1 / c);
        const loss = ops.add(ops.add(sim, ops.mulScalar(quant, gamma)), ops.mulScalar(bal, eta));
        loss.backward();
        opt.step();
        for (let r = 0; r < m; r++) own.set(out.data.subarray(r * c, (r + 1) * c), idx[r]! * c);
        total += loss.item(); steps++;
      }
      return total / Math.max(1, steps);
    };
    const validator = validation ? makeValidator(this, train, validation) : undefined;
    const validate = validator ? () => clock.time('validation', () => noGrad(validator)) : undefined;
    this.lastFit = await runEpochs({
      epochs: this.baseEpochs, patience: options.patience, onProgress: options.onProgress,
      runEpoch: () => {
        const a = clock.time('image_net', () => half(this.imageNet!, optF, X, train.imageDim, F, Bx));
        const b = clock.time('text_net', () => half(this.textNet!, optG, Y, train.textDim, G, By));
        updateB();
        return { image: a, text: b };
      },
      validate,
      snapshot: () => params.map((p) => p.data.slice()),
      restore: (s) => params.forEach((p, i) => p.data.set((s as Float32Array[])[i]!)),
    });
    // 3. Frozen database codes of every training item (validation items included): B = sign(F + G + L).
    const stopStore = clock.start('store');
    const all = this.standardized(data);
    const Fa = this.imageNet.infer(all.X, data.n), Ga = this.textNet.infer(all.Y, data.n), La = this.labelNet.infer(new Float32Array(data.labels), data.n);
    this.storedCodes = new Float32Array(data.n * c);
    for (let i = 0; i < data.n * c; i++) this.storedCodes[i] = Fa[i]! + Ga[i]! + La[i]! >= 0 ? 1 : -1;
    this.storedLabels = data.labels.slice();
    this.storedN = data.n;
    this.memRows = new Int32Array(0); this.seenN = 0;
    this.remember(data, 0, rng.fork(), split?.trainIdx);
    this.modelVersion++;
    stopStore();
    this.lastPhaseSeconds = clock.report();
  }

  async update(session: SessionData, given: DlcmhTrainOptions): Promise<void> {
    checkOptions(this.method, this.schema, given, COMMON_TRAIN_KEYS, 'train');
    const options: DlcmhTrainOptions = { ...this.trainDefaults, ...given };
    if (!this.imageNet) throw new InputError('dlcmh.update: fit the base session first');
    if (session.n === 0) { this.lastFit = emptyFit(); this.lastPhaseSeconds = {}; return; }
    checkSession('dlcmh', session, { imageDim: this.imageDim, textDim: this.textDim });
    const t0 = performance.now();
    const clock = new PhaseClock();
    const stopSetup = clock.start('setup');
    const c = this.bits;
    const rng = new Rng((options.seed ?? 1) * 7919 + session.index);
    const alpha = options.alpha ?? 10, alphaNet = options.alphaNet ?? 0.5, beta = options.beta ?? 1, oldWeight = options.oldWeight ?? 1;
    // default 0.5: on the validation split it raised MIRFlickr 22+2, 6,6,6,6 and synthetic and left Wikipedia
    // unchanged ({0, .25, .5, 1}; docs/experiments/2026-12-dlcmh-continual-bars.md)
    const oldPull = this.lifelong ? options.oldPull ?? 0.5 : 0;
    const baseUpdateEpochs = options.updateEpochs ?? Math.max(2, Math.round((options.epochs ?? this.baseEpochs) / 6));
    // Label width grows with new classes: old labels are zero-padded (classes keyed by id, not by position).
    const width = Math.max(this.numClasses, session.numClasses);
    const oldLabels = padLabels(this.storedLabels, this.storedN, this.numClasses, width);
    const sessLabels = padLabels(session.labels, session.n, session.numClasses, width);
    this.numClasses = width;
    const full: TrainingData = { ...session, labels: sessLabels, numClasses: width };
    const split = sessionValidationSplit(full, session.index, options.seed ?? 1, options.validationFraction ?? 0.1);
    const train = split ? split.train : full;
    const n = train.n;
    const { X, Y } = this.standardized(train);
    // The finetune variant trains against the new items only (no old codes in loss or validation).
    const nOld = this.lifelong ? this.storedN : 0;
    const Bold = this.storedCodes;
    // Ω: sampled new items whose outputs enter the pairwise terms (all when n ≤ 2,000).
    const omega = n <= 2000 ? Int32Array.from({ length: n }, (_, i) => i) : rng.permutation(n).subarray(0, 2000).slice();
    const Snew = labelCosMatrix(train.labels, n, width, gatherRows(train.labels, width, omega), omega.length, width); // n × |Ω|
    // Warm start of B_new from the current nets.
    const imageNet = this.imageNet, textNet = this.textNet!;
    let Ux = imageNet.infer(X, n), Uy = textNet.infer(Y, n);
    const Bnew = new Float32Array(n * c);
    for (let i = 0; i < n * c; i++) Bnew[i] = Ux[i]! + Uy[i]! >= 0 ? 1 : -1;

    // Shrink and perturb of the image net (HashNet.shrinkPerturb), after B_new's warm start: the
    // lifelong default 0.7 had the best validation score of {1, .7, .5} (docs/experiments/). The
    // fine-tune baseline keeps plain fine-tuning (1).
    imageNet.shrinkPerturb(options.imageShrink ?? (this.lifelong ? 0.7 : 1), rng);
    const params = [...imageNet.parameters(), ...textNet.parameters()];
    const optF = new Adam(imageNet.parameters(), { lr: options.learningRate ?? 1e-3 });
    const optG = new Adam(textNet.parameters(), { lr: options.learningRate ?? 1e-3 });
    const batchSize = options.batchSize ?? 128;
    // Replay memory (lifelong only): standardized features of the kept old items; their targets are
    // their frozen stored codes, so the nets keep mapping old-class items onto the old codes.
    const memN = this.lifelong ? this.memRows.length : 0;
    const memX = memN ? standardize(this.memImage.subarray(0, memN * this.imageDim), this.imageDim, this.stats!.imageMean, this.stats!.imageInvStd) : new Float32Array(0);
    const memY = memN ? standardize(this.memText.subarray(0, memN * this.textDim), this.textDim, this.stats!.textMean, this.stats!.textInvStd) : new Float32Array(0);
    const replayN = Math.min(memN, options.replayItems ?? n);
    const epochs = epochsForSteps(baseUpdateEpochs, n + replayN, batchSize, options.minUpdateSteps ?? 0);
    const omegaLabels = gatherRows(train.labels, width, omega);
    const Spat = labelPatterns(train.labels, n, width, omegaLabels, omega.length, width); // S_nΩ by label pattern, for the DCC step
    // Both pairwise terms enter each distinct (code, label row) of their sample once, weighted by its
    // count (parts/code-groups.ts: the same loss up to rounding, fewer columns per step).
    const netPass = (net: HashNet, opt: Adam, feats: Float32Array, memFeats: Float32Array, dim: number, ep: EpochSet) => {
      const N = n + ep.rows.length;
      const mOld = ep.oldGroups ? ep.oldGroups.first.length : 0;
      const BoldT = mOld ? Tensor.wrap(mOld, c, ep.oldCodes) : null;
      const oldScale = mOld ? oldWeight * mOld / ep.oldGroups!.total : 0;
      const newGroups = ep.newGroups;
      const K = newGroups ? newGroups.first.length : omega.length, newScale = K / omega.length;
      const BnewT = Tensor.wrap(K, c, ep.newCodes);
      const all = ep.rows.length ? concatArrays([feats, gatherRows(memFeats, dim, ep.rows)]) : feats;
      const target = ep.target;
      let total = 0, steps = 0;
      for (const idx of shuffledBatches(N, Math.min(batchSize, N), rng)) {
        const m = idx.length;
        opt.zeroGrad();
        const u = net.forward(Tensor.wrap(m, dim, gatherRows(all, dim, idx)));
        const sN = new Float32Array(m * K);
        for (let r = 0; r < m; r++) {
          const i = idx[r]!;
          const row = i < n ? Snew.subarray(i * omega.length, (i + 1) * omega.length) : ep.Snew.subarray((i - n) * omega.length, (i - n + 1) * omega.length);
          if (!newGroups) { sN.set(row, r * K); continue; }
          for (let j = 0; j < K; j++) sN[r * K + j] = row[newGroups.first[j]!]! * newGroups.sqrtCount[j]!;
        }
        let loss = ops.pairwiseSquaredError(ops.matmul(u, BnewT, false, true), 1 / c, Tensor.wrap(m, K, sN));
        if (newScale !== 1) loss = ops.mulScalar(loss, newScale);
        if (BoldT) {
          const sO = new Float32Array(m * mOld);
          for (let r = 0; r < m; r++) sO.set(ep.Sold.subarray(idx[r]! * mOld, (idx[r]! + 1) * mOld), r * mOld);
          loss = ops.add(loss, ops.mulScalar(ops.pairwiseSquaredError(ops.matmul(u, BoldT, false, true), 1 / c, Tensor.wrap(m, mOld, sO)), oldScale));
        }
        loss = ops.add(loss, ops.mulScalar(ops.mean(ops.square(ops.sub(Tensor.wrap(m, c, gatherRows(target, c, idx)), u))), alphaNet));
        loss = ops.add(loss, ops.mulScalar(ops.sum(ops.square(ops.mean(u, 0))), beta / c));
        loss.backward();
        opt.step();
        total += loss.item(); steps++;
      }
      return total / Math.max(1, steps);
    };

    // Validation: held-out new items query [sampled old codes; B_new] with their labels (codes only).
    const validation = split?.validation;
    const valOld = nOld <= 2000 ? Int32Array.from({ length: nOld }, (_, i) => i) : rng.fork().permutation(nOld).subarray(0, 2000).slice();
    const vStd = validation ? this.standardized(validation) : null; // once, not every epoch
    const validate = validation ? () => clock.time('validation', () => {
      const v = vStd!;
      const db = PackedCodes.fromSigns(concatArrays([gatherRows(Bold, c, valOld), Bnew]), valOld.length + n, c);
      const dbl = concatArrays([gatherRows(oldLabels, width, valOld), train.labels]);
      const score = (q: Float32Array) => meanAveragePrecision({ queries: PackedCodes.fromReal(q, validation.n, c), database: db, queryLabels: validation.labels, databaseLabels: dbl, classes: width });
      return { i2t: score(this.imageNet!.infer(v.X, validation.n)), t2i: score(this.textNet!.infer(v.Y, validation.n)) };
    }) : undefined;
    stopSetup();
    // The epoch's old codes by distinct (code, label row), each scaled by √count (parts/code-groups.ts),
    // where that leaves at most GROUPED_BELOW as many columns; computed once when every old code is sampled.
    let oldSampleAll: OldSample | null = null;
    const oldSampleOf = (oldIdx: Int32Array): OldSample => {
      if (oldSampleAll) return oldSampleAll;
      let o: OldSample;
      if (oldIdx.length === 0) o = { oldGroups: null, oldCodes: new Float32Array(0), groupRows: new Int32Array(0), grouped: false };
      else {
        const g = groupCodes(Bold, c, oldIdx, oldLabels, width);
        o = g.first.length <= GROUPED_BELOW * oldIdx.length
          ? { oldGroups: g, oldCodes: scaledGroupCodes(Bold, c, oldIdx, g), groupRows: Int32Array.from(g.first, (p) => oldIdx[p]!), grouped: true }
          : { oldGroups: ungrouped(oldIdx.length), oldCodes: gatherRows(Bold, c, oldIdx), groupRows: oldIdx, grouped: false };
      }
      if (nOld <= this.budget) oldSampleAll = o;
      return o;
    };
    // The old codes' pull on B_new (oldCodePull); computed once when every old code is sampled each epoch.
    let pullAll: Float64Array | null = null;
    const pullOf = (oldIdx: Int32Array): Float64Array | null => {
      if (!(oldPull > 0) || oldIdx.length === 0) return null;
      if (pullAll) return pullAll;
      const p = oldCodePull(train.labels, Spat.firstA, width, Bold, oldLabels, oldIdx, c, oldPull * omega.length / oldIdx.length);
      if (nOld <= this.budget) pullAll = p;
      return p;
    };
    const history: TrainProgress[] = [];
    const fitSummary = await runEpochs({
      epochs, patience: options.patience,
      onProgress: (p) => { history.push(p); options.onProgress?.(p); },
      runEpoch: () => {
        const ep = clock.time('similarities', () => {
          // A fresh sample of the frozen old codes each epoch (indices into codes and labels alike).
          const oldIdx = nOld <= this.budget ? Int32Array.from({ length: nOld }, (_, i) => i) : rng.permutation(nOld).subarray(0, this.budget).slice();
          // Replayed memory items this epoch: features (by memory slot), frozen codes and labels (by stored row).
          const rows = replayN >= memN ? Int32Array.from({ length: memN }, (_, i) => i) : rng.permutation(memN).subarray(0, replayN).slice();
          const memStored = Int32Array.from(rows, (r) => this.memRows[r]!);
          const repLabels = gatherRows(oldLabels, width, memStored);
          const allLabels = concatArrays([train.labels, repLabels]), N = n + rows.length;
          const { oldGroups, oldCodes, groupRows, grouped } = oldSampleOf(oldIdx);
          // B_new's Ω codes as both nets' passes see them (B_new changes only in the DCC step after
          // them): grouped only where it pays (few groups), otherwise every Ω code is a column
          const g = groupCodes(Bnew, c, omega, train.labels, width);
          const newGroups = g.first.length <= GROUPED_BELOW * omega.length ? g : null;
          const codes = gatherRows(Bold, c, memStored);
          const ep: EpochSet = {
            rows, codes, target: rows.length ? concatArrays([Bnew, codes]) : Bnew,
            newGroups, newCodes: newGroups ? scaledGroupCodes(Bnew, c, omega, newGroups) : gatherRows(Bnew, c, omega),
            // the pull of this epoch's old codes on B_new (the same every epoch when all old codes are sampled)
            pull: pullOf(oldIdx),
            Snew: labelCosMatrix(repLabels, rows.length, width, omegaLabels, omega.length, width),
            oldGroups, oldCodes,
            Sold: oldGroups ? labelCosMatrix(allLabels, N, width, gatherRows(oldLabels, width, groupRows), groupRows.length, width) : new Float32Array(0),
          };
          if (grouped) scaleColumns(ep.Sold, oldGroups!.sqrtCount); // each group's similarity column × √count
          return ep;
        });
        const a = clock.time('image_net', () => netPass(this.imageNet!, optF, X, memX, train.imageDim, ep));
        const b = clock.time('text_net', () => netPass(this.textNet!, optG, Y, memY, train.textDim, ep));
        clock.time('code_update', () => {
          Ux = this.imageNet!.infer(X, n); Uy = this.textNet!.infer(Y, n);
          dccSweep(Bnew, Ux, Uy, omega, Spat, n, c, alpha, ep.pull ?? undefined);
        });
        return { image: a, text: b };
      },
      validate,
      snapshot: () => ({ p: params.map((p) => p.data.slice()), b: Bnew.slice() }),
      restore: (s) => { const o = s as { p: Float32Array[]; b: Float32Array }; params.forEach((p, i) => p.data.set(o.p[i]!)); Bnew.set(o.b); },
    });
    // Append the new items' codes (validation items get the nets' codes) — old codes untouched.
    const stopStore = clock.start('store');
    const addCodes = new Float32Array(full.n * c);
    const addLabels = new Uint8Array(full.n * width);
    const trainIdx = split ? split.trainIdx : Int32Array.from({ length: full.n }, (_, i) => i);
    trainIdx.forEach((row, i) => { addCodes.set(Bnew.subarray(i * c, (i + 1) * c), row * c); });
    if (split) {
      const v = vStd!;
      const fx = imageNet.infer(v.X, split.validation.n), gy = textNet.infer(v.Y, split.validation.n);
      split.validationIdx.forEach((row, i) => { for (let k = 0; k < c; k++) addCodes[row * c + k] = fx[i * c + k]! + gy[i * c + k]! >= 0 ? 1 : -1; });
    }
    addLabels.set(sessLabels);
    this.storedCodes = concatArrays([this.storedCodes, addCodes]);
    this.storedLabels = concatArrays([oldLabels, addLabels]);
    this.remember(full, this.storedN, rng.fork(), split?.trainIdx);
    this.storedN += full.n;
    this.modelVersion++;
    stopStore();
    this.lastPhaseSeconds = clock.report();
    this.lastFit = { ...fitSummary, trainSeconds: (performance.now() - t0) / 1000 };
  }

  /** Frozen ±1 codes of all training items so far (row order: base session, then each update). */
  databaseCodes(): Float32Array | null { return this.storedN ? this.storedCodes : null; }

  protected outputs(net: HashNet, z: Float32Array, rows: number): Float32Array { return net.infer(z, rows); }

  save(path: string): void { saveCheckpoint(path, this.checkpoint()); }

  /** Everything save() writes (Joint embeds it in its own checkpoint). */
  checkpoint(): CheckpointData {
    const tensors: Record<string, Tensor> = { ...this.towerTensors(), ...paramsToTensors('label', this.labelNet!) };
    if (this.storedN) {
      tensors['stored.codes'] = Tensor.wrap(this.storedN, this.bits, this.storedCodes);
      tensors['stored.labels'] = Tensor.fromArray(this.storedN, this.numClasses, this.storedLabels);
    }
    const memN = this.memRows.length;
    if (memN) {
      tensors['memory.image'] = Tensor.wrap(memN, this.imageDim, this.memImage.slice(0, memN * this.imageDim));
      tensors['memory.text'] = Tensor.wrap(memN, this.textDim, this.memText.slice(0, memN * this.textDim));
      tensors['memory.rows'] = Tensor.wrap(1, memN, Float32Array.from(this.memRows));
    }
    const labelIn = this.labelNet!.inDim;
    return {
      kind: DLCMH_KIND,
      architecture: { format: FORMAT, name: this.method, lifelong: this.lifelong, bits: this.bits, hidden: this.hidden, labelHidden: this.labelHidden, budget: this.budget, imageDim: this.imageDim, textDim: this.textDim, numClasses: this.numClasses, labelIn, trainOptions: this.trainDefaults },
      tensors,
      meta: { modelVersion: this.modelVersion, storedN: this.storedN, baseEpochs: this.baseEpochs, memoryN: memN, seenN: this.seenN },
    };
  }

  static fromCheckpoint(ck: { kind: string; architecture: unknown; tensors: Record<string, Tensor>; meta: unknown }, path: string): Dlcmh {
    const a = ck.architecture as Record<string, number>;
    if (!a || a.format !== FORMAT) throw new InputError(`${path}: dlcmh checkpoint format ${String(a?.format)} is not ${FORMAT}`);
    const named = ck.architecture as { name?: string; lifelong?: boolean };
    const trainOptions = (ck.architecture as { trainOptions?: Partial<DlcmhConfig> }).trainOptions ?? {};
    const m = new Dlcmh({ ...trainOptions, bits: a.bits!, hidden: a.hidden, labelHidden: a.labelHidden, budget: a.budget, name: named.name, lifelong: named.lifelong });
    const rng = new Rng(0);
    m.imageDim = a.imageDim!; m.textDim = a.textDim!; m.numClasses = a.numClasses!;
    m.imageNet = new HashNet(m.imageDim, m.hidden, m.bits, rng); m.textNet = new HashNet(m.textDim, m.hidden, m.bits, rng);
    m.labelNet = new HashNet(a.labelIn!, m.labelHidden, m.bits, rng);
    const take = (key: string, rows: number, cols: number) => {
      const t = ck.tensors[key];
      if (!t || t.rows !== rows || t.cols !== cols) throw new InputError(`${path}: tensor "${key}" should be ${rows}×${cols}, found ${t ? `${t.rows}×${t.cols}` : 'nothing'}`);
      return t.data;
    };
    m.loadTowers(ck, path);
    tensorsToParams(ck, path, 'label', m.labelNet);
    const meta = (ck.meta ?? {}) as { modelVersion?: number; storedN?: number; baseEpochs?: number; memoryN?: number; seenN?: number };
    m.storedN = meta.storedN ?? 0;
    if (m.storedN) { m.storedCodes = Float32Array.from(take('stored.codes', m.storedN, m.bits)); m.storedLabels = Uint8Array.from(take('stored.labels', m.storedN, m.numClasses)); }
    m.modelVersion = meta.modelVersion ?? 1; m.baseEpochs = meta.baseEpochs ?? 30;
    const memN = meta.memoryN ?? 0;
    if (memN) {
      // Buffers sized to the budget so later sessions can fill free slots (remember() reallocates otherwise).
      m.memImage = new Float32Array(Math.max(m.budget, memN) * m.imageDim); m.memImage.set(take('memory.image', memN, m.imageDim));
      m.memText = new Float32Array(Math.max(m.budget, memN) * m.textDim); m.memText.set(take('memory.text', memN, m.textDim));
      m.memRows = Int32Array.from(take('memory.rows', 1, memN));
      if (m.memRows.some((r) => r < 0 || r >= m.storedN)) throw new InputError(`${path}: tensor "memory.rows" points outside the ${m.storedN} stored codes`);
    }
    m.seenN = meta.seenN ?? m.storedN;
    return m;
  }
}

/**
 * Group the pairwise terms' codes only when there are at most half as many groups as codes: with
 * most pairs distinct (seed 1: MIRFlickr 22+2, 405 groups of 478 old codes; 6,6,6,6, 61–71 %) the
 * key building and gathers would cost about what the columns save, and the term is computed over
 * every code as before. Wikipedia's old codes group to 30–42 %; its DCC codes fall from 90 % of the
 * items in the first epoch to 1–6 % by the last (the sweeps settle each label pattern on a few codes).
 */
const GROUPED_BELOW = 0.5;

/** An epoch's sampled old codes as the old-code term uses them (grouped, or one column each). */
interface OldSample { oldGroups: CodeGroups | null; oldCodes: Float32Array; groupRows: Int32Array; grouped: boolean }

/** Every row its own group (count 1). */
function ungrouped(n: number): CodeGroups {
  return { first: Int32Array.from({ length: n }, (_, i) => i), sqrtCount: new Float32Array(n).fill(1), total: n };
}

/** One epoch's replayed memory items and the label similarities of every training row. */
interface EpochSet {
  rows: Int32Array; codes: Float32Array; Snew: Float32Array;
  /** The nets' regression targets: B_new, then the replayed items' frozen codes. */
  target: Float32Array;
  /** B_new's Ω codes by (code, label row) when that groups them (null: one column per Ω code), and those columns (√count-scaled when grouped). */
  newGroups: CodeGroups | null; newCodes: Float32Array;
  /** The old codes' pull on B_new per label pattern of the new items (oldCodePull), null when off. */
  pull: Float64Array | null;
  /** The sampled old codes grouped by (code, label row); their √count-scaled codes (groups × c) and label similarities of every training row (N × groups, columns scaled alike). */
  oldGroups: CodeGroups | null; oldCodes: Float32Array; Sold: Float32Array;
}


