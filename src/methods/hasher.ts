// The method interface: the spine of cmhash. The session runner, CLI, service and benchmarks talk
// only to this, so a new method is one new file.
import type { Rng } from '../util/rng.js';

export type Modality = 'image' | 'text';

/** A block of paired training data (rows aligned across the three matrices). */
export interface TrainingData {
  n: number;
  imageDim: number;
  textDim: number;
  image: Float32Array;   // n × imageDim, row-major
  text: Float32Array;    // n × textDim, row-major
  labels: Uint8Array;    // n × numClasses, 0/1 (unsupervised methods ignore it)
  numClasses: number;
}

/** Progress reported once per epoch (and at the end). */
export interface TrainProgress {
  epoch: number;
  epochs: number;
  loss: Record<string, number>;   // named loss terms, averaged over the epoch
  elapsedSeconds: number;
  validation?: { i2t: number; t2i: number };
  /** True when this epoch's parameters became the kept (best-so-far) model. */
  improved?: boolean;
}

export interface TrainOptions {
  bits: number;              // code length, multiple of 8
  epochs?: number;
  batchSize?: number;
  learningRate?: number;
  seed?: number;
  threads?: number;
  /**
   * Carved from the training data (never the query set, see training-loop.ts carveValidation); used
   * for early stopping / model selection. Without it the last epoch is kept.
   */
  validation?: TrainingData;
  /** Epochs without a validation improvement before stopping (default: never stop early). */
  patience?: number;
  onProgress?: (p: TrainProgress) => void;
}

/** Real-valued outputs before sign(); codes are sign with 0 → +1 (see codes/packed-codes.ts). */
export interface EncodedBatch { rows: number; bits: number; values: Float32Array }

/** What one fit() did: how many epochs ran, which one was kept (by the validation split) and why. */
export interface FitSummary {
  epochsRun: number;
  /** 1-based epoch whose parameters the model kept (the best validation score, or the last epoch). */
  bestEpoch: number;
  /** Validation score of the kept epoch (mean of I→T and T→I mAP@all, or −loss); null without validation. */
  bestScore: number | null;
  stoppedEarly: boolean;
  trainSeconds: number;
  history: TrainProgress[];
}

/** The part of a fit that travels with the checkpoint. */
export interface TrainInfo { seed: number; trainSeconds: number; epochsRun: number; bestEpoch: number; trainItems: number }

export interface Hasher {
  readonly method: string;
  readonly bits: number;
  /** Feature widths the model was built for (0 before fit); encode() rejects other widths. */
  readonly imageDim?: number;
  readonly textDim?: number;
  /** Increases with every fit/update; stored with every code the model makes. */
  readonly modelVersion: number;
  fit(data: TrainingData, options: TrainOptions): Promise<void>;
  /** Real-valued code-layer outputs for `rows` feature vectors of one modality. */
  encode(modality: Modality, features: Float32Array, rows: number): EncodedBatch;
  /** Binary codes the method learned for its training items (±1 values, n × bits), if it keeps them. */
  databaseCodes?(): Float32Array | null;
  save(path: string): void;
  /** Summary of the last fit()/update(), null for a model loaded from disk or not yet trained. */
  readonly lastFit?: FitSummary | null;
  /** How the model was trained (kept in its checkpoint, so `cmhash eval` can report it). */
  readonly trainInfo?: TrainInfo | null;
}

/** A continual method also learns from new sessions without the full history. */
export interface ContinualHasher extends Hasher {
  /** Learn from a new session's data plus whatever memory the method keeps. */
  update(session: SessionData, options: TrainOptions): Promise<void>;
  /** Items kept in memory for later sessions (0 for methods with none). */
  memoryItems(): number;
  // Optional hooks the session runner reads when a method has them:
  /** Work that measures rather than trains (e.g. memory approximation errors): run outside the timed section. */
  runDiagnostics?(): void;
  /** Seconds per training phase of the last fit()/update(), kept in report.json detail. */
  readonly lastPhaseSeconds?: Record<string, number>;
  /** One report per session's memory selection (CCMH-GAM's gradient-matching errors). */
  readonly memoryReports?: readonly MemorySessionReport[];
}

/** How well a session's memory stands for the session (gradient-matching errors). */
export interface MemorySessionReport {
  session: number;
  items: number;
  /** ‖g_full − g_mem‖/‖g_full‖ of the last-layer gradient: the residual the greedy matching controls. */
  bound: number;
  /** The same ratio for the whole network's flattened gradient, measured with autograd. */
  measured: number;
  /** Measured error of a random memory of the same size (uniform weights), for comparison. */
  randomMeasured: number;
  /** Σ wⱼ of the kept memory (1 = its weighted loss is on the scale of the session's mean loss). */
  weightSum?: number;
}

export interface SessionData extends TrainingData {
  index: number;            // 0 = base session
  newClasses: number[];     // class ids first seen in this session
}

export type RngLike = Rng;
