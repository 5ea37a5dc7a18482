// SGEMM (C = alpha·op(A)·op(B) + beta·C, row-major) in the GotoBLAS/BLIS shape: op(B) is packed in
// KC×NC blocks, op(A) in MC×KC blocks, both into micro-panels (zero-padded), and a register-blocked
// micro-kernel computes MR×NR tiles of C. One micro-kernel per instruction-set variant.
#pragma once
#include <string>
#include "isa.h"

namespace cmh {

/** Tile of C: C[0..mr)[0..nr) = alpha·Ap·Bp + beta·C (beta == 0: C is not read, BLAS-style). */
using MicroKernel = void (*)(long kc, const float* Ap, const float* Bp, float* C, long ldc, int mr, int nr,
                             float alpha, float beta);
/** Packs op(A)[0..mc)[0..kc) (A already offset) into MR-row micro-panels laid out [p][MR]. */
using PackA = void (*)(bool transA, const float* A, long lda, long mc, long kc, float* out);
/** Packs op(B)[0..kc)[0..nc) (B already offset) into NR-column micro-panels laid out [p][NR]. */
using PackB = void (*)(bool transB, const float* B, long ldb, long kc, long nc, float* out);
/** As MicroKernel, but op(A) = A (not transposed) is read in place: row i of the tile at A + i·lda. */
using MicroKernelDirectA = void (*)(long kc, const float* A, long lda, const float* Bp, float* C, long ldc, int mr, int nr,
                                    float alpha, float beta);

struct GemmKernel {
  const char* name;
  int mr, nr;          // register tile
  long mc, kc, nc;     // cache blocks (mc a multiple of mr, nc of nr)
  MicroKernel ukr;
  PackA packA;
  PackB packB;
  MicroKernelDirectA ukrDirectA = nullptr;  // optional (avx512, avx2): skips packing a non-transposed A
  /** Optional (avx512, avx2): ukrDirectA on a full NR-column tile of row-major B (stride ldb), packing that
   *  B panel into Bp (kc × NR) as it goes. */
  void (*ukrDirectAPackB)(long kc, const float* A, long lda, const float* B, long ldb, float* Bp, float* C, long ldc, int mr,
                          float alpha, float beta) = nullptr;
  /** ukrDirectA is used only when C has at most this many columns (packing A pays off past it). */
  long directAMaxN = 1L << 40;
  /** m <= mc with A packed: true = the one-row-block path (B panel by panel), false = the blocked path. */
  bool oneBlockPackedA = true;
  /** The weight-gradient GEMM with Adam fused in (gemm_adam.cc): true = gradient blocks of whole rows up
   *  to 4096 columns (packed B in L3), so the update streams x, m, v in long runs; false = blocks that
   *  keep the packed B and the gradient block in L2. */
  bool fusedAdamLongRows = false;
};

const GemmKernel& gemmKernelAvx512();
/** The AVX-512 kernel with an MR×32 tile (MR = 8, 12 or 14) and the given blocks (mc rounded up to MR). */
GemmKernel avx512KernelForTile(int mr, long mcRows, long kc, long nc);
/** What the AVX-512 kernel choice was and why (cache sizes, blocks, measured tile rates). */
std::string gemmChoiceReport();
bool mallocRetained();
const GemmKernel& gemmKernelAvx2();
/** The AVX2 kernel's blocks and paths, and why they are what they are. */
std::string gemmChoiceReportAvx2();
const GemmKernel& gemmKernelGeneric();
const GemmKernel& gemmKernel(Isa isa);

/** C = beta·C (beta 0: zeros, without reading C): what a product with k = 0 or alpha = 0 leaves. */
void scaleC(long m, long n, float beta, float* C, long ldc);
/** Full SGEMM; splits C among up to `threads` threads when the product is large enough. */
void sgemm(Isa isa, bool transA, bool transB, long m, long n, long k, float alpha, const float* A, long lda,
           const float* B, long ldb, float beta, float* C, long ldc, int threads);

/** Pure FMA loop on `threads` threads for about `seconds`; returns total GFLOP/s. */
double fmaPeak(Isa isa, double seconds, int threads);
double fmaLoopAvx512(long iters);   // returns a value that depends on every FMA (keeps it alive)
double fmaLoopAvx2(long iters);
double fmaLoopGeneric(long iters);
/** FLOPs done by one iteration of the loops above. */
double fmaFlopsPerIter(Isa isa);

}  // namespace cmh
