// Blocking, packing buffers and thread partitioning around the micro-kernels.
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <vector>
#include "gemm.h"
#include <cstdio>
#include <string>
#include "cache_info.h"
#include "thread_pool.h"
#include "gemm_split.h"
#include "thread_scratch.h"

namespace cmh {

void scaleC(long m, long n, float beta, float* C, long ldc) {
  for (long i = 0; i < m; i++) {
    float* c = C + i * ldc;
    if (beta == 0.0f) std::fill(c, c + n, 0.0f);
    else if (beta != 1.0f) for (long j = 0; j < n; j++) c[j] *= beta;
  }
}

const GemmKernel& gemmKernel(Isa isa) {
  switch (isa) {
    case Isa::Avx512: return gemmKernelAvx512();
    case Isa::Avx2: return gemmKernelAvx2();
    default: return gemmKernelGeneric();
  }
}

namespace {

struct DriverScratch;
/** Per-thread packing buffers (0: B, 1: A). */
float* scratch(int which, size_t floats) { return threadScratch<DriverScratch, float, 2>(which, floats); }

// CMHASH_GEMM_PREFETCH=0 turns the software prefetches off (for A/B measurements).
const bool kPrefetch = [] { const char* e = std::getenv("CMHASH_GEMM_PREFETCH"); return !(e && e[0] == '0'); }();
// CMHASH_GEMM_DIRECT_A=0 packs A even where the kernel could read it in place (A/B measurements).
const bool kDirectA = [] { const char* e = std::getenv("CMHASH_GEMM_DIRECT_A"); return !(e && e[0] == '0'); }();
// CMHASH_GEMM_FUSED_B=0 packs each B panel in a pass of its own instead of in its first tile.
const bool kFusedB = [] { const char* e = std::getenv("CMHASH_GEMM_FUSED_B"); return !(e && e[0] == '0'); }();

inline void prefetchTileC(const float* c, long ldc, long rows, long cols) {
  for (long i = 0; i < rows; i++)
    for (long j = 0; j < cols; j += 16) __builtin_prefetch(c + i * ldc + j, 1, 3);
}


void sgemmSerial(const GemmKernel& K, bool ta, bool tb, long m, long n, long k, float alpha, const float* A, long lda,
                 const float* B, long ldb, float beta, float* C, long ldc) {
  const long MR = K.mr, NR = K.nr;
  const long kcMax = std::min(K.kc, k);
  const long ncMax = std::min(K.nc, (n + NR - 1) / NR * NR);
  const long mcMax = std::min(K.mc, (m + MR - 1) / MR * MR);
  float* Ap = scratch(1, static_cast<size_t>(kcMax) * ((mcMax + MR - 1) / MR * MR));
  // A not transposed: the kernel can read its rows in place (no packing at all). A kernel may send
  // one block of rows with A packed to the blocked path (oneBlockPackedA: AVX2, whose B packing
  // reads each row once there; see gemm_avx2.cc).
  const bool directA = !ta && kDirectA && K.ukrDirectA && n <= K.directAMaxN;
  if (m <= K.mc && (directA || K.oneBlockPackedA)) {
    // One block of rows (the training shapes: batch 128): pack A once per k block and each B
    // micro-panel just before its column of tiles, so the panel is still in L1 for every tile
    // instead of round-tripping a KC×NC block through L2/L3.
    float* Bp = scratch(0, static_cast<size_t>(kcMax) * NR);
    for (long pc = 0; pc < k; pc += K.kc) {
      const long kc = std::min(K.kc, k - pc);
      const float betaBlock = pc == 0 ? beta : 1.0f;
      if (!directA) K.packA(ta, ta ? A + pc * lda : A + pc, lda, m, kc, Ap);
      const long tilesM = (m + MR - 1) / MR;
      for (long jr = 0; jr < n; jr += NR) {
        const int nr = static_cast<int>(std::min(NR, n - jr));
        // Row-major B with A read in place: the panel's first tile packs it (ukrDirectAPackB).
        const bool fusedB = directA && !tb && nr == NR && kFusedB && K.ukrDirectAPackB;
        if (!fusedB) K.packB(tb, tb ? B + jr * ldb + pc : B + pc * ldb + jr, ldb, kc, nr, Bp);
        // Prefetch (no effect on results): the next tile's C rows (for writing: with beta 0 too, the
        // lines are fetched for ownership anyway; +4-6% at 4096x128x1024-At on AVX2), and a slice of
        // the next B panel's rows per tile (when B is wide each row is in another page, which the
        // hardware prefetchers do not follow).
        const long jn = jr + NR, nrNext = std::min(NR, n - jn);
        const long bRows = kPrefetch && !fusedB && jn < n ? (tb ? nrNext : kc) : 0, bBytes = (tb ? kc : nrNext) * 4;
        for (long ir = 0, t = 0; ir < m; ir += MR, t++) {
          const int mr = static_cast<int>(std::min(MR, m - ir));
          if (kPrefetch) {
            if (ir + MR < m) prefetchTileC(C + (ir + MR) * ldc + jr, ldc, std::min(MR, m - ir - MR), nr);
            for (long r = bRows * t / tilesM, r1 = bRows * (t + 1) / tilesM; r < r1; r++) {
              const char* row = reinterpret_cast<const char*>(tb ? B + (jn + r) * ldb + pc : B + (pc + r) * ldb + jn);
              for (long off = 0; off < bBytes; off += 64) __builtin_prefetch(row + off, 0, 2);
            }
          }
          if (fusedB && ir == 0) K.ukrDirectAPackB(kc, A + pc, lda, B + pc * ldb + jr, ldb, Bp, C + jr, ldc, mr, alpha, betaBlock);
          else if (directA) K.ukrDirectA(kc, A + ir * lda + pc, lda, Bp, C + ir * ldc + jr, ldc, mr, nr, alpha, betaBlock);
          else K.ukr(kc, Ap + ir * kc, Bp, C + ir * ldc + jr, ldc, mr, nr, alpha, betaBlock);
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
            if (kPrefetch && ir + MR < mc)
              prefetchTileC(C + (ic + ir + MR) * ldc + jc + jr, ldc, std::min(MR, mc - ir - MR), nr);
            K.ukr(kc, Ap + ir * kc, bPanel, C + (ic + ir) * ldc + jc + jr, ldc, mr, nr, alpha, betaBlock);
          }
        }
      }
    }
  }
}

// ---- AVX-512 kernel choice: blocks from the OS's cache sizes, register tile by measurement ----
//
// KC (the k block) is the only blocking parameter that changes results: each k block is summed in
// registers and then added to C, so its boundaries fix the float32 summation order. It stays 256
// on every CPU (its B micro-panel, 256 × 32 floats = 32 KiB, fits a 48 KiB L1d with room for the A
// micro-panel; CMHASH_GEMM_KC overrides it for experiments). MC, NC and MR only reorder independent
// tiles, so fp32 results are bit-identical whatever they are:
//  - MC: the packed A block (MC × KC floats) takes about 40% of L2;
//  - NC: the packed B block (KC × NC floats) at most half of L3, capped at 4096 columns;
//  - MR: 8, 12 or 14 rows per tile, whichever runs a small in-L2 product (128×256×512, the
//    training shapes' one-row-block path, packing included) fastest here, best of short bursts so
//    a burst that lost the core does not decide. A tile must beat 8×32 by 3% to replace it.
static std::string choiceReport;

static GemmKernel chooseAvx512Tuned() {
  const CacheInfo& c = cacheInfo();
  const char* kcs = std::getenv("CMHASH_GEMM_KC");
  const char* mcs = std::getenv("CMHASH_GEMM_MC");
  const char* ncs = std::getenv("CMHASH_GEMM_NC");
  const char* ts = std::getenv("CMHASH_GEMM_TILE");
  const long kc = kcs ? std::max(1L, std::atol(kcs)) : 256;
  long mc = std::max(32L, std::min(1024L, c.l2 * 2 / 5 / (kc * 4)));
  long nc = 4096;
  if (c.l3 > 0) nc = std::max(512L, std::min(4096L, c.l3 / 2 / (kc * 4) / 32 * 32));
  std::string why = "caches (" + c.source + "): L1d " + std::to_string(c.l1d / 1024) + " KiB, L2 " + std::to_string(c.l2 / 1024) +
                    " KiB, L3 " + (c.l3 > 0 ? std::to_string(c.l3 / 1024) + " KiB" : std::string("unknown")) +
                    "; KC=" + std::to_string(kc) + (kcs ? " (CMHASH_GEMM_KC)" : " (fixed: it sets the fp32 summation order)") +
                    ", MC from 40% of L2, NC from half of L3 (max 4096)";
  if (mcs) { mc = std::max(1L, std::atol(mcs)); why += "; MC=CMHASH_GEMM_MC"; }
  if (ncs) { nc = std::max(32L, std::atol(ncs)); why += "; NC=CMHASH_GEMM_NC"; }
  int mr = 8;
  if (ts) {
    mr = std::atoi(ts);
    if (mr != 12 && mr != 14) mr = 8;
    why += "; tile MR=" + std::to_string(mr) + " from CMHASH_GEMM_TILE";
  } else {
    // Measure the candidate tiles on the one-row-block path.
    const long m = 128, k = 256, n = 512;
    std::vector<float> A(m * k), B(k * n), C(m * n);
    for (size_t i = 0; i < A.size(); i++) A[i] = static_cast<float>((i * 7919) % 97) / 97.0f - 0.5f;
    for (size_t i = 0; i < B.size(); i++) B[i] = static_cast<float>((i * 104729) % 89) / 89.0f - 0.5f;
    double best = 0, base = 0;
    std::string rates;
    for (int cand : {8, 12, 14}) {
      const GemmKernel K = avx512KernelForTile(cand, mc, kc, nc);
      double rate = 0;
      for (int burst = 0; burst < 7; burst++) {
        const auto t0 = std::chrono::steady_clock::now();
        for (int r = 0; r < 4; r++) sgemmSerial(K, false, false, m, n, k, 1.0f, A.data(), k, B.data(), n, 0.0f, C.data(), n);
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (burst > 0 && s > 0) rate = std::max(rate, 4 * 2.0 * m * n * k / s / 1e9);  // burst 0 warms up
      }
      if (cand == 8) { base = rate; best = rate; }
      else if (rate > best && rate > base * 1.03) { best = rate; mr = cand; }
      char buf[64];
      std::snprintf(buf, sizeof buf, "%s%dx32 %.0f GFLOP/s", rates.empty() ? "" : ", ", cand, rate);
      rates += buf;
    }
    why += "; tile measured on 128x256x512 (" + rates + "): " + std::to_string(mr) + "x32";
  }
  const GemmKernel K = avx512KernelForTile(mr, mc, kc, nc);
  why += "; chosen " + std::string(K.name) + " MC=" + std::to_string(K.mc) + " KC=" + std::to_string(K.kc) + " NC=" + std::to_string(K.nc);
  choiceReport = why;
  return K;
}

}  // namespace

const GemmKernel& gemmKernelAvx512() {
  static const GemmKernel k = chooseAvx512Tuned();
  return k;
}

std::string gemmChoiceReport() {
  if (!isaSupported(Isa::Avx512)) return "avx512 not supported by this CPU";
  gemmKernelAvx512();
  return choiceReport;
}

void sgemm(Isa isa, bool ta, bool tb, long m, long n, long k, float alpha, const float* A, long lda, const float* B,
           long ldb, float beta, float* C, long ldc, int threads) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0 || alpha == 0.0f) { scaleC(m, n, beta, C, ldc); return; }
  const GemmKernel& K = gemmKernel(isa);
  gemmAcrossThreads(K.mr, K.nr, ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc, threads,
                    [&K](bool ta_, bool tb_, long m_, long n_, long k_, float alpha_, const float* A_, long lda_, const float* B_,
                         long ldb_, float beta_, float* C_, long ldc_) { sgemmSerial(K, ta_, tb_, m_, n_, k_, alpha_, A_, lda_, B_, ldb_, beta_, C_, ldc_); });
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
