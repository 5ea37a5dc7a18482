// The kernel interface every backend implements. Ops in tensor/ and the index in index/ call only
// these; backends (native addon, portable TypeScript) only supply kernels (tfjs-core's split).
//
// Conventions: matrices are row-major Float32Arrays; packed binary codes are Uint32Array views of
// 64-bit little-endian words (`words64` 64-bit words per code = 2*words64 uint32 per code).

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
}
