// The kernel interface every backend implements. Ops in tensor/ and the index in index/ call only
// these; backends (native addon, portable TypeScript) only supply kernels (tfjs-core's split).
//
// Conventions: matrices are row-major Float32Arrays; packed binary codes are Uint32Array views of
// 64-bit little-endian words (`words64` 64-bit words per code = 2*words64 uint32 per code).

/**
 * One substring table of a multi-index (built by src/index/multi-index.ts; read by the kernels).
 * Substring = bits [offset, offset + length) of each code (length 1..32, bit order as in codes.ts).
 */
export interface MihTableData {
  offset: number;
  length: number;
  /** Bucket b holds items[starts[b] .. starts[b+1]). Direct tables: b = substring value (2^length + 1 entries). */
  starts: Uint32Array;
  /** Database positions in bucket order (increasing within a bucket). */
  items: Int32Array;
  /** The codes in bucket order (items[j]'s code at j·2·words64): a probe reads them sequentially. */
  codes: Uint32Array;
  /**
   * Hashed tables only (both empty for direct ones): open addressing with
   * slot = imul(value, 0x9e3779b1) >>> shift over a power-of-two `slots` (bucket or -1), keys[bucket] = value.
   */
  slots: Int32Array;
  keys: Uint32Array;
  shift: number;
}

/** A multi-index's tables over n codes of words64 64-bit words. Treated as immutable once built. */
export interface MihTables { n: number; words64: number; tables: MihTableData[] }

/** Input and outputs of the fused ranking-metric kernel (one block of queries against the database). */
export interface RankingBlock {
  queries: Uint32Array; nq: number;
  db: Uint32Array; n: number;
  words64: number;
  /** Histogram range: distances 0..bits. */
  bits: number;
  /** Label bitmasks, labelWords uint32 per row. */
  qLabels: Uint32Array; dLabels: Uint32Array; labelWords: number;
  /** mAP@K cut-offs and P@N cut-offs (may be empty). */
  topK: Int32Array; cutoffs: Int32Array;
  /** Out: per query, counts of key 2·distance + relevant (2·(bits+1) each). */
  hist: Int32Array;
  /** Out: per query, Σ over relevant items in database order of (#relevant ranked up to it)/(rank). */
  apSum: Float64Array;
  /** Out: per query × topK, the same sum over relevant items ranked < K, and their number. */
  apKSum: Float64Array; relInK: Int32Array;
  /** Out: per query × cutoffs, relevant items ranked < N. */
  relAtCut: Int32Array;
}

export interface Backend {
  readonly name: 'native' | 'js';
  /** Human-readable kernel variant in use (e.g. "avx512", "avx2", "generic", "typescript"). */
  readonly variant: string;
  /**
   * C[m×n] = alpha · op(A) · op(B) + beta · C, in place on `c`. op(A) is m×k (A stored k×m when
   * transA), op(B) is k×n (B stored n×k when transB). lda/ldb/ldc are row strides of the stored arrays.
   */
  sgemm(
    transA: boolean, transB: boolean, m: number, n: number, k: number,
    alpha: number, a: Float32Array, lda: number, b: Float32Array, ldb: number,
    beta: number, c: Float32Array, ldc: number,
  ): void;
  /**
   * sgemm with op(A) and op(B) rounded to bfloat16 (round to nearest even) and products summed in
   * float32 (AVX512_BF16 vdpbf16ps); C stays float32. Present only when the CPU has it (native backend).
   */
  sgemmBf16?(
    transA: boolean, transB: boolean, m: number, n: number, k: number,
    alpha: number, a: Float32Array, lda: number, b: Float32Array, ldb: number,
    beta: number, c: Float32Array, ldc: number,
  ): void;
  /**
   * One fused Adam update over n float32 parameters, in place on x, m, v (see nn/optim-adam.ts):
   * g' = g + wd·x (or x −= lrWd·x when decoupled); m = b1·m + (1−b1)·g'; v = b2·v + (1−b2)·g'²;
   * x −= stepSize · m / (√v · invSqrtC2 + eps).
   */
  adamStep(x: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, n: number, p: AdamStepParams): void;
  /**
   * adamStep on x, m, v (m × n, row-major) with the gradient alpha·op(A)·op(B), computed and applied
   * block by block so the gradient never exists in full (native: src/native/gemm_adam.cc). Same
   * bits as sgemm with beta = 0 followed by adamStep. Optional: a backend without it is never asked.
   */
  gemmAdam?(
    transA: boolean, transB: boolean, m: number, n: number, k: number,
    alpha: number, a: Float32Array, lda: number, b: Float32Array, ldb: number,
    x: Float32Array, mState: Float32Array, vState: Float32Array, p: AdamStepParams,
  ): void;
  /** gemmAdam with the gradient from sgemmBf16 (same bits as sgemmBf16 + adamStep); only beside sgemmBf16. */
  gemmAdamBf16?(
    transA: boolean, transB: boolean, m: number, n: number, k: number,
    alpha: number, a: Float32Array, lda: number, b: Float32Array, ldb: number,
    x: Float32Array, mState: Float32Array, vState: Float32Array, p: AdamStepParams,
  ): void;
  /**
   * Weights kept in the GEMM kernel's own B-panel layout (native: src/native/gemm_panel.cc), so the
   * forward product reads them without packing and the fused Adam update writes them in place.
   * Optional; tensor/panel-weight.ts decides when a weight uses it.
   */
  panels?: PanelKernels;
  /** y[i] = x[i] > 0 ? x[i] : 0 for i < n. */
  relu(x: Float32Array, y: Float32Array, n: number): void;
  /** ga[i] += x[i] > 0 ? g[i] : 0 for i < n (ReLU's backward, x its input). */
  reluBackward(x: Float32Array, g: Float32Array, ga: Float32Array, n: number): void;
  /** g[i] = 0 + (y[i] > 0 ? g[i] : 0) for i < n: ReLU's backward in place, y its output (tensor/ops-matmul.ts affineRelu). */
  reluMask(y: Float32Array, g: Float32Array, n: number): void;
  /** dst[j] += g[i·cols + j] for each row i in order, j < cols: a bias gradient, each column summed in float32 row after row. */
  addColumnSums(dst: Float32Array, g: Float32Array, rows: number, cols: number): void;
  /** Σ a[i]·b[i] over i < n, accumulated in float64 in index order (so every backend agrees bit for bit). */
  dot(a: Float32Array, b: Float32Array, n: number): number;
  /** out[j] = dot(a, bs[j], n) for every j, each summed as `dot` sums it (several chains share one pass over a). */
  dots(a: Float32Array, bs: readonly Float32Array[], n: number, out: Float64Array): void;
  /** y[i] = float32(y[i] + s·x[i]) with the product and sum in float64, for i < n. */
  axpy(y: Float32Array, s: number, x: Float32Array, n: number): void;
  /** Threads used by large kernels (small products always run on one thread). */
  setThreads(n: number): void;
  getThreads(): number;
  /** out[i] = Hamming distance between `query` (one code) and database code i, for i < n. */
  hammingDistances(query: Uint32Array, db: Uint32Array, n: number, words64: number, out: Uint16Array): void;
  /**
   * Exact k-NN for nq queries (packed back to back): writes the k nearest database positions per
   * query to outIds[q*k..] and their distances to outDist[q*k..], ordered by (distance, position).
   * When n < k the tail is filled with id -1 and distance -1.
   */
  hammingKnn(
    queries: Uint32Array, nq: number, db: Uint32Array, n: number, words64: number, k: number,
    outIds: Int32Array, outDist: Int32Array,
  ): void;
  /** Database positions with distance <= r, in position order (distances in the same order). */
  hammingRange(query: Uint32Array, db: Uint32Array, n: number, words64: number, r: number): { ids: Int32Array; dist: Int32Array };
  /**
   * Multi-index k-NN (exact; same answers and tie order as hammingKnn): per query q, hits go to
   * outIds/outDist[q*k ..] ordered by (distance, position), only those with distance <= maxDistance;
   * outCount[q] = number of hits, or -1 when the query's work (bucket probes + candidates) exceeded
   * `budget` and nothing was written (the caller then scans).
   */
  mihKnn?(tables: MihTables, queries: Uint32Array, nq: number, k: number, maxDistance: number, budget: number,
    outIds: Int32Array, outDist: Int32Array, outCount: Int32Array): void;
  /** Multi-index range search (d <= r, position order), or null when over `budget`. */
  mihRange?(tables: MihTables, query: Uint32Array, r: number, budget: number): { ids: Int32Array; dist: Int32Array } | null;
  /** Fused distances + relevance + stable-rank AP sums for a block of queries (see RankingBlock). */
  rankingBlock?(block: RankingBlock): void;
}

/** Scalars of one Adam step (bias corrections folded in by the optimiser). */
export interface AdamStepParams {
  b1: number; b2: number; stepSize: number; invSqrtC2: number; eps: number;
  wd: number; lrWd: number; decoupled: boolean;
}

/**
 * The panel layout of a rows × cols weight (cols a multiple of nr): blocks of kc rows (the last one
 * shorter), each block its nr-column panels one after another, each panel row-major (block rows) × nr.
 * Every product below gives the same bits as its row-major counterpart (sgemm, gemmAdam).
 */
export interface PanelKernels {
  readonly nr: number;
  readonly kc: number;
  /** True where the layout was measured to pay (the AVX2 kernel); weights then use it by default. */
  readonly preferred: boolean;
  /** A zeroed array of n floats whose data starts on a 64-byte boundary (the kernels read panels aligned). */
  alloc(n: number): Float32Array;
  pack(rows: number, cols: number, w: Float32Array, p: Float32Array): void;
  unpack(rows: number, cols: number, p: Float32Array, w: Float32Array): void;
  /** C (m × n) = alpha·A·W + beta·C, A m × k row-major (stride lda), W k × n in panels. */
  sgemm(m: number, n: number, k: number, alpha: number, a: Float32Array, lda: number, w: Float32Array, beta: number,
    c: Float32Array, ldc: number): void;
  /** gemmAdam (transB false) with x, m, v (rows × n) in panels. */
  gemmAdam(transA: boolean, rows: number, n: number, k: number, alpha: number, a: Float32Array, lda: number, b: Float32Array,
    ldb: number, x: Float32Array, mState: Float32Array, vState: Float32Array, p: AdamStepParams): void;
}
