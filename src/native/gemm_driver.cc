// Blocking, packing buffers and thread partitioning around the micro-kernels.
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <vector>
#include "gemm.h"
#include "thread_pool.h"

namespace cmh {

const GemmKernel& gemmKernel(Isa isa) {
  switch (isa) {
    case Isa::Avx512: return gemmKernelAvx512();
    case Isa::Avx2: return gemmKernelAvx2();
    default: return gemmKernelGeneric();
  }
}

namespace {

struct AlignedFree { void operator()(float* p) const { std::free(p); } };

/** Per-thread packing buffer, grown on demand (64-byte aligned for the panel loads). */
float* scratch(int which, size_t floats) {
  thread_local std::unique_ptr<float, AlignedFree> buf[2];
  thread_local size_t cap[2] = {0, 0};
  if (cap[which] < floats) {
    size_t bytes = (floats * sizeof(float) + 63) / 64 * 64;
    buf[which].reset(static_cast<float*>(std::aligned_alloc(64, bytes)));
    if (!buf[which]) throw std::bad_alloc();
    cap[which] = floats;
  }
  return buf[which].get();
}

void scaleC(long m, long n, float beta, float* C, long ldc) {
  for (long i = 0; i < m; i++) {
    float* c = C + i * ldc;
    if (beta == 0.0f) std::fill(c, c + n, 0.0f);
    else if (beta != 1.0f) for (long j = 0; j < n; j++) c[j] *= beta;
  }
}

void sgemmSerial(const GemmKernel& K, bool ta, bool tb, long m, long n, long k, float alpha, const float* A, long lda,
                 const float* B, long ldb, float beta, float* C, long ldc) {
  const long MR = K.mr, NR = K.nr;
  const long kcMax = std::min(K.kc, k);
  const long ncMax = std::min(K.nc, (n + NR - 1) / NR * NR);
  const long mcMax = std::min(K.mc, (m + MR - 1) / MR * MR);
  float* Ap = scratch(1, static_cast<size_t>(kcMax) * ((mcMax + MR - 1) / MR * MR));
  if (m <= K.mc) {
    // One block of rows (the training shapes: batch 128): pack A once per k block and each B
    // micro-panel just before its column of tiles, so the panel is still in L1 for every tile
    // instead of round-tripping a KC×NC block through L2/L3.
    float* Bp = scratch(0, static_cast<size_t>(kcMax) * NR);
    for (long pc = 0; pc < k; pc += K.kc) {
      const long kc = std::min(K.kc, k - pc);
      const float betaBlock = pc == 0 ? beta : 1.0f;
      K.packA(ta, ta ? A + pc * lda : A + pc, lda, m, kc, Ap);
      for (long jr = 0; jr < n; jr += NR) {
        const int nr = static_cast<int>(std::min(NR, n - jr));
        K.packB(tb, tb ? B + jr * ldb + pc : B + pc * ldb + jr, ldb, kc, nr, Bp);
        for (long ir = 0; ir < m; ir += MR) {
          const int mr = static_cast<int>(std::min(MR, m - ir));
          K.ukr(kc, Ap + ir * kc, Bp, C + ir * ldc + jr, ldc, mr, nr, alpha, betaBlock);
        }
      }
    }
    return;
  }
  float* Bp = scratch(0, static_cast<size_t>(kcMax) * ((ncMax + NR - 1) / NR * NR));
  for (long jc = 0; jc < n; jc += K.nc) {
    const long nc = std::min(K.nc, n - jc);
    for (long pc = 0; pc < k; pc += K.kc) {
      const long kc = std::min(K.kc, k - pc);
      const float betaBlock = pc == 0 ? beta : 1.0f;  // later k blocks accumulate onto the first
      K.packB(tb, tb ? B + jc * ldb + pc : B + pc * ldb + jc, ldb, kc, nc, Bp);
      for (long ic = 0; ic < m; ic += K.mc) {
        const long mc = std::min(K.mc, m - ic);
        K.packA(ta, ta ? A + pc * lda + ic : A + ic * lda + pc, lda, mc, kc, Ap);
        for (long jr = 0; jr < nc; jr += NR) {
          const int nr = static_cast<int>(std::min(NR, nc - jr));
          const float* bPanel = Bp + jr * kc;
          for (long ir = 0; ir < mc; ir += MR) {
            const int mr = static_cast<int>(std::min(MR, mc - ir));
            K.ukr(kc, Ap + ir * kc, bPanel, C + (ic + ir) * ldc + jc + jr, ldc, mr, nr, alpha, betaBlock);
          }
        }
      }
    }
  }
}

// Products below this many FLOPs per thread are not worth waking another thread for (a woken
// thread on a busy 2-core machine can take a scheduler slice to start).
constexpr double kMinFlopsPerThread = 4e6;

}  // namespace

void sgemm(Isa isa, bool ta, bool tb, long m, long n, long k, float alpha, const float* A, long lda, const float* B,
           long ldb, float beta, float* C, long ldc, int threads) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0 || alpha == 0.0f) { scaleC(m, n, beta, C, ldc); return; }
  const GemmKernel& K = gemmKernel(isa);
  const double flops = 2.0 * m * n * k;
  int nt = std::max(1, std::min(threads, static_cast<int>(flops / kMinFlopsPerThread)));
  // Split the dimension whose split duplicates less packing (splitting n re-packs A per thread,
  // splitting m re-packs B), unless it has too few register tiles to go round.
  const long nTiles = (n + K.nr - 1) / K.nr, mTiles = (m + K.mr - 1) / K.mr;
  bool splitN = m <= n;
  if (splitN && nTiles < nt && mTiles > nTiles) splitN = false;
  else if (!splitN && mTiles < nt && nTiles > mTiles) splitN = true;
  const long tiles = splitN ? nTiles : mTiles;
  nt = static_cast<int>(std::min<long>(nt, std::max<long>(1, tiles)));
  if (nt <= 1) { sgemmSerial(K, ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc); return; }
  ThreadPool::instance().run(nt, [&](int t) {
    const long t0 = tiles * t / nt, t1 = tiles * (t + 1) / nt;
    if (t0 >= t1) return;
    if (splitN) {
      const long j0 = t0 * K.nr, j1 = std::min(n, t1 * K.nr);
      sgemmSerial(K, ta, tb, m, j1 - j0, k, alpha, A, lda, tb ? B + j0 * ldb : B + j0, ldb, beta, C + j0, ldc);
    } else {
      const long i0 = t0 * K.mr, i1 = std::min(m, t1 * K.mr);
      sgemmSerial(K, ta, tb, i1 - i0, n, k, alpha, ta ? A + i0 : A + i0 * lda, lda, B, ldb, beta, C + i0 * ldc, ldc);
    }
  });
}

double fmaFlopsPerIter(Isa isa) {
  switch (isa) {
    case Isa::Avx512: return 12 * 16 * 2;
    case Isa::Avx2: return 12 * 8 * 2;
    default: return 4 * 8 * 2;
  }
}

static double fmaLoop(Isa isa, long iters) {
  switch (isa) {
    case Isa::Avx512: return fmaLoopAvx512(iters);
    case Isa::Avx2: return fmaLoopAvx2(iters);
    default: return fmaLoopGeneric(iters);
  }
}

double fmaPeak(Isa isa, double seconds, int threads) {
  // Each thread runs short bursts and keeps its best burst rate: a burst that lost the core to
  // another process does not drag the peak down.
  threads = std::max(1, threads);
  std::vector<double> best(threads, 0.0);
  std::vector<double> sink(threads, 0.0);
  const long burst = 200000;
  ThreadPool::instance().run(threads, [&](int t) {
    using clk = std::chrono::steady_clock;
    const auto start = clk::now();
    for (;;) {
      const auto b0 = clk::now();
      sink[t] += fmaLoop(isa, burst);
      const auto b1 = clk::now();
      const double s = std::chrono::duration<double>(b1 - b0).count();
      if (s > 0) best[t] = std::max(best[t], fmaFlopsPerIter(isa) * burst / s / 1e9);
      if (std::chrono::duration<double>(b1 - start).count() >= seconds) break;
    }
  });
  double total = 0, s = 0;
  for (int t = 0; t < threads; t++) { total += best[t]; s += sink[t]; }
  if (s == 12345.678) total += 1e-12;  // uses the sink so the loops cannot be dropped
  return total;
}

}  // namespace cmh
