// How one GEMM is split across the kernel threads, shared by the fp32 (gemm_driver.cc) and bf16
// (gemm_bf16.cc) drivers: each thread gets a range of whole register tiles along n or m.
#pragma once
#include <algorithm>
#include "thread_pool.h"

namespace cmh {

// Products below this many FLOPs per thread are not worth waking another thread for (a woken
// thread on a busy 2-core machine can take a scheduler slice to start).
constexpr double kGemmMinFlopsPerThread = 4e6;

/**
 * C = alpha·op(A)·op(B) + beta·C by `serial(ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc)`
 * on up to `threads` threads, each a block of whole mr × nr register tiles. It splits the dimension
 * whose split duplicates less packing (splitting n re-packs A per thread, splitting m re-packs B),
 * unless that dimension has too few tiles to go round.
 */
template <class Serial>
void gemmAcrossThreads(long mr, long nr, bool ta, bool tb, long m, long n, long k, float alpha, const float* A, long lda,
                       const float* B, long ldb, float beta, float* C, long ldc, int threads, Serial serial) {
  const double flops = 2.0 * m * n * k;
  int nt = std::max(1, std::min(threads, static_cast<int>(flops / kGemmMinFlopsPerThread)));
  const long nTiles = (n + nr - 1) / nr, mTiles = (m + mr - 1) / mr;
  bool splitN = m <= n;
  if (splitN && nTiles < nt && mTiles > nTiles) splitN = false;
  else if (!splitN && mTiles < nt && nTiles > mTiles) splitN = true;
  const long tiles = splitN ? nTiles : mTiles;
  nt = static_cast<int>(std::min<long>(nt, std::max<long>(1, tiles)));
  if (nt <= 1) { serial(ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc); return; }
  ThreadPool::instance().run(nt, [&](int t) {
    const long t0 = tiles * t / nt, t1 = tiles * (t + 1) / nt;
    if (t0 >= t1) return;
    if (splitN) {
      const long j0 = t0 * nr, j1 = std::min(n, t1 * nr);
      serial(ta, tb, m, j1 - j0, k, alpha, A, lda, tb ? B + j0 * ldb : B + j0, ldb, beta, C + j0, ldc);
    } else {
      const long i0 = t0 * mr, i1 = std::min(m, t1 * mr);
      serial(ta, tb, i1 - i0, n, k, alpha, ta ? A + i0 : A + i0 * lda, lda, B, ldb, beta, C + i0 * ldc, ldc);
    }
  });
}

}  // namespace cmh
