// Mixed-precision GEMM for training on cores with AVX512_BF16: C = alpha·op(A)·op(B) + beta·C with
// op(A) and op(B) rounded to bfloat16 (round to nearest even, by the CPU's vcvtneps2bf16) while they
// are packed, products summed in float32 by vdpbf16ps (two products per lane per instruction, so
// twice the FLOPs of an fp32 FMA), C kept in float32. The caller's arrays stay float32.
//
// Same GotoBLAS shape as the fp32 path (gemm_driver.cc); the only differences are the panel
// element (a uint32 holding the bf16 pair (k = 2q, k = 2q + 1) of one row or column, low half
// first, which is vdpbf16ps's operand layout) and the k block (KC counts k values, even).
#include <immintrin.h>
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <vector>
#include "gemm.h"
#include "gemm_bf16.h"
#include "thread_pool.h"
#include "gemm_split.h"
#include "thread_scratch.h"

#define CMH_TARGET_BF16 __attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,avx512bf16,avx2,fma,popcnt")))

namespace cmh {

bool bf16Supported() {
  static const bool ok = isaSupported(Isa::Avx512) && __builtin_cpu_supports("avx512bf16");
  return ok;
}

namespace {

constexpr int kNR = 32;

/** 16 float32 → 16 bf16 in the low halves of 16 uint32 lanes. */
CMH_TARGET_BF16 inline __m512i bf16Lo(__m512 x) { return _mm512_cvtepu16_epi32((__m256i)_mm512_cvtneps_pbh(x)); }

/** Lanes j: (lo[j], hi[j]) as one bf16 pair. */
CMH_TARGET_BF16 inline __m512i pairRows(__m512 lo, __m512 hi) {
  return _mm512_or_si512(bf16Lo(lo), _mm512_slli_epi32(bf16Lo(hi), 16));
}

/** 32 consecutive floats (masked: n valid, rest 0) → 16 pairs. */
CMH_TARGET_BF16 inline __m512i pairsOf(const float* src, long n) {
  const __mmask16 m0 = n >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << (n > 0 ? n : 0)) - 1);
  const __mmask16 m1 = n >= 32 ? static_cast<__mmask16>(0xFFFF) : n > 16 ? static_cast<__mmask16>((1u << (n - 16)) - 1) : static_cast<__mmask16>(0);
  const __m512 v0 = _mm512_maskz_loadu_ps(m0, src), v1 = _mm512_maskz_loadu_ps(m1, src + 16);
  return (__m512i)_mm512_cvtne2ps_pbh(v1, v0);
}

// 16×16 transpose of 32-bit lanes (same network as gemm_avx512.cc's, on integer vectors).
CMH_TARGET_BF16 inline void transpose16i(__m512i r[16]) {
  __m512i t[16], u[16];
  for (int i = 0; i < 8; i++) {
    t[2 * i] = _mm512_unpacklo_epi32(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_epi32(r[2 * i], r[2 * i + 1]);
  }
  for (int g = 0; g < 4; g++) {
    u[4 * g + 0] = _mm512_unpacklo_epi64(t[4 * g], t[4 * g + 2]);
    u[4 * g + 1] = _mm512_unpackhi_epi64(t[4 * g], t[4 * g + 2]);
    u[4 * g + 2] = _mm512_unpacklo_epi64(t[4 * g + 1], t[4 * g + 3]);
    u[4 * g + 3] = _mm512_unpackhi_epi64(t[4 * g + 1], t[4 * g + 3]);
  }
  for (int c = 0; c < 4; c++) {
    const __m512i v0 = _mm512_shuffle_i32x4(u[c], u[4 + c], 0x44), v1 = _mm512_shuffle_i32x4(u[c], u[4 + c], 0xEE);
    const __m512i v2 = _mm512_shuffle_i32x4(u[8 + c], u[12 + c], 0x44), v3 = _mm512_shuffle_i32x4(u[8 + c], u[12 + c], 0xEE);
    r[c] = _mm512_shuffle_i32x4(v0, v2, 0x88);
    r[4 + c] = _mm512_shuffle_i32x4(v0, v2, 0xDD);
    r[8 + c] = _mm512_shuffle_i32x4(v1, v3, 0x88);
    r[12 + c] = _mm512_shuffle_i32x4(v1, v3, 0xDD);
  }
}

/**
 * Rows whose k values are contiguous in memory (src[r*ld + p], r < rows <= 16, p < len): writes
 * dst[q*R + col0 + r] = pair(src[r][2q], src[r][2q+1]) for q < ceil(len/2); rows..width-1 get 0.
 */
CMH_TARGET_BF16 void transposePairRows(const float* src, long ld, int rows, long len, uint32_t* dst, int R, int col0) {
  const int width = R - col0 < 16 ? R - col0 : 16;
  const __mmask16 store = static_cast<__mmask16>((1u << width) - 1);
  const long q2 = (len + 1) / 2;
  for (long q = 0; q < q2; q += 16) {
    __m512i r[16];
    const long rem = len - 2 * q;
    for (int i = 0; i < 16; i++) r[i] = i < rows ? pairsOf(src + i * ld + 2 * q, rem) : _mm512_setzero_si512();
    transpose16i(r);
    const long qn = q2 - q < 16 ? q2 - q : 16;
    for (long j = 0; j < qn; j++) _mm512_mask_storeu_epi32(dst + (q + j) * R + col0, store, r[j]);
  }
}

/**
 * Rows of k (src[p*ld + c], c < cols <= 16 valid): dst[q*R + col0 + c] = pair(src[2q][c], src[2q+1][c]),
 * R - col0 >= 16 lanes written (cols..15 are 0), k = len odd: the last pair's high half is 0.
 */
CMH_TARGET_BF16 void interleaveRowPairs(const float* src, long ld, int cols, long len, uint32_t* dst, int R, int col0) {
  const int width = R - col0 < 16 ? R - col0 : 16;
  const __mmask16 store = static_cast<__mmask16>((1u << width) - 1);
  const __mmask16 m = cols >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << cols) - 1);
  long q = 0;
  for (long p = 0; p + 1 < len; p += 2, q++) {
    const __m512 lo = _mm512_maskz_loadu_ps(m, src + p * ld), hi = _mm512_maskz_loadu_ps(m, src + (p + 1) * ld);
    _mm512_mask_storeu_epi32(dst + q * R + col0, store, pairRows(lo, hi));
  }
  if (len & 1) {
    const __m512 lo = _mm512_maskz_loadu_ps(m, src + (len - 1) * ld);
    _mm512_mask_storeu_epi32(dst + q * R + col0, store, bf16Lo(lo));
  }
}

template <int MR>
CMH_TARGET_BF16 void packA(bool transA, const float* A, long lda, long mc, long kc, uint32_t* out) {
  const long kc2 = (kc + 1) / 2;
  for (long i = 0; i < mc; i += MR, out += MR * kc2) {
    const int mr = static_cast<int>(mc - i < MR ? mc - i : MR);
    if (transA) interleaveRowPairs(A + i, lda, mr, kc, out, MR, 0);
    else transposePairRows(A + i * lda, lda, mr, kc, out, MR, 0);
  }
}

CMH_TARGET_BF16 void packB(bool transB, const float* B, long ldb, long kc, long nc, uint32_t* out) {
  const long kc2 = (kc + 1) / 2;
  for (long j = 0; j < nc; j += kNR, out += kNR * kc2) {
    const int nr = static_cast<int>(nc - j < kNR ? nc - j : kNR);
    if (!transB) {
      interleaveRowPairs(B + j, ldb, nr < 16 ? nr : 16, kc, out, kNR, 0);
      interleaveRowPairs(B + j + 16, ldb, nr > 16 ? nr - 16 : 0, kc, out, kNR, 16);
    } else {
      transposePairRows(B + j * ldb, ldb, nr < 16 ? nr : 16, kc, out, kNR, 0);
      transposePairRows(B + (j + 16) * ldb, ldb, nr > 16 ? nr - 16 : 0, kc, out, kNR, 16);
    }
  }
}

template <int MR>
CMH_TARGET_BF16 void ukr(long kc2, const uint32_t* CMH_RESTRICT A, const uint32_t* CMH_RESTRICT B, float* C, long ldc,
                         int mr, int nr, float alpha, float beta) {
  __m512 c0[MR], c1[MR];
#pragma GCC unroll 16
  for (int i = 0; i < MR; i++) { c0[i] = _mm512_setzero_ps(); c1[i] = _mm512_setzero_ps(); }
#pragma GCC unroll 2
  for (long q = 0; q < kc2; q++) {
    const __m512bh b0 = (__m512bh)_mm512_load_si512(B);
    const __m512bh b1 = (__m512bh)_mm512_load_si512(B + 16);
#pragma GCC unroll 16
    for (int i = 0; i < MR; i++) {
      const __m512bh a = (__m512bh)_mm512_set1_epi32(static_cast<int>(A[i]));
      c0[i] = _mm512_dpbf16_ps(c0[i], a, b0);
      c1[i] = _mm512_dpbf16_ps(c1[i], a, b1);
    }
    A += MR;
    B += kNR;
  }
  const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
  const __mmask16 m0 = nr >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << nr) - 1);
  const __mmask16 m1 = nr >= 32 ? static_cast<__mmask16>(0xFFFF)
                       : nr > 16 ? static_cast<__mmask16>((1u << (nr - 16)) - 1) : static_cast<__mmask16>(0);
#pragma GCC unroll 16
  for (int i = 0; i < MR; i++) {
    if (i >= mr) break;
    float* c = C + i * ldc;
    __m512 r0 = _mm512_mul_ps(va, c0[i]), r1 = _mm512_mul_ps(va, c1[i]);
    if (beta != 0.0f) {
      r0 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m0, c), r0);
      r1 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m1, c + 16), r1);
    }
    _mm512_mask_storeu_ps(c, m0, r0);
    _mm512_mask_storeu_ps(c + 16, m1, r1);
  }
}

inline void prefetchTileC(const float* c, long ldc, long rows, long cols) {
  for (long i = 0; i < rows; i++)
    for (long j = 0; j < cols; j += 16) __builtin_prefetch(c + i * ldc + j, 1, 3);
}

struct Bf16Scratch;
/** Per-thread packing buffers of bf16 pairs (0: B, 1: A). */
uint32_t* scratchU32(int which, size_t n) { return threadScratch<Bf16Scratch, uint32_t, 2>(which, n); }

constexpr int kMR = 8;

Bf16Blocking makeBlocking() {
  // KC counts k values (pairs = KC/2); the B micro-panel KC/2 × 32 × 4 B = 32 KiB at KC = 512, the
  // same L1 footprint as the fp32 kernel's 256 × 32 floats. MC/NC as the fp32 path's.
  const GemmKernel& K = gemmKernelAvx512();
  Bf16Blocking b{kMR, kNR, (K.mc + kMR - 1) / kMR * kMR, 512, K.nc};
  if (const char* s = std::getenv("CMHASH_BF16_KC")) { long v = std::atol(s); if (v >= 2) b.kc = v / 2 * 2; }
  return b;
}

void serial(const Bf16Blocking& K, bool ta, bool tb, long m, long n, long k, float alpha, const float* A, long lda,
            const float* B, long ldb, float beta, float* C, long ldc) {
  const long MR = K.mr, NR = K.nr;
  const long kcMax = std::min(K.kc, k), kc2Max = (kcMax + 1) / 2;
  const long ncMax = std::min(K.nc, (n + NR - 1) / NR * NR);
  const long mcMax = std::min(K.mc, (m + MR - 1) / MR * MR);
  uint32_t* Ap = scratchU32(1, static_cast<size_t>(kc2Max) * ((mcMax + MR - 1) / MR * MR));
  if (m <= K.mc) {
    uint32_t* Bp = scratchU32(0, static_cast<size_t>(kc2Max) * NR);
    for (long pc = 0; pc < k; pc += K.kc) {
      const long kc = std::min(K.kc, k - pc), kc2 = (kc + 1) / 2;
      const float betaBlock = pc == 0 ? beta : 1.0f;
      packA<kMR>(ta, ta ? A + pc * lda : A + pc, lda, m, kc, Ap);
      const long tilesM = (m + MR - 1) / MR;
      for (long jr = 0; jr < n; jr += NR) {
        const int nr = static_cast<int>(std::min(NR, n - jr));
        packB(tb, tb ? B + jr * ldb + pc : B + pc * ldb + jr, ldb, kc, nr, Bp);
        // the same prefetches as the fp32 path (gemm_driver.cc): next tile's C, next B panel's rows
        const long jn = jr + NR, nrNext = std::min(NR, n - jn);
        const long bRows = jn < n ? (tb ? nrNext : kc) : 0, bBytes = (tb ? kc : nrNext) * 4;
        for (long ir = 0, t = 0; ir < m; ir += MR, t++) {
          const int mr = static_cast<int>(std::min(MR, m - ir));
          if (betaBlock != 0.0f && ir + MR < m) prefetchTileC(C + (ir + MR) * ldc + jr, ldc, std::min(MR, m - ir - MR), nr);
          for (long r = bRows * t / tilesM, r1 = bRows * (t + 1) / tilesM; r < r1; r++) {
            const char* row = reinterpret_cast<const char*>(tb ? B + (jn + r) * ldb + pc : B + (pc + r) * ldb + jn);
            for (long off = 0; off < bBytes; off += 64) __builtin_prefetch(row + off, 0, 2);
          }
          ukr<kMR>(kc2, Ap + ir * kc2, Bp, C + ir * ldc + jr, ldc, mr, nr, alpha, betaBlock);
        }
      }
    }
    return;
  }
  uint32_t* Bp = scratchU32(0, static_cast<size_t>(kc2Max) * ((ncMax + NR - 1) / NR * NR));
  for (long jc = 0; jc < n; jc += K.nc) {
    const long nc = std::min(K.nc, n - jc);
    for (long pc = 0; pc < k; pc += K.kc) {
      const long kc = std::min(K.kc, k - pc), kc2 = (kc + 1) / 2;
      const float betaBlock = pc == 0 ? beta : 1.0f;
      packB(tb, tb ? B + jc * ldb + pc : B + pc * ldb + jc, ldb, kc, nc, Bp);
      for (long ic = 0; ic < m; ic += K.mc) {
        const long mc = std::min(K.mc, m - ic);
        packA<kMR>(ta, ta ? A + pc * lda + ic : A + ic * lda + pc, lda, mc, kc, Ap);
        for (long jr = 0; jr < nc; jr += NR) {
          const int nr = static_cast<int>(std::min(NR, nc - jr));
          const uint32_t* bPanel = Bp + jr * kc2;
          for (long ir = 0; ir < mc; ir += MR) {
            const int mr = static_cast<int>(std::min(MR, mc - ir));
            if (betaBlock != 0.0f && ir + MR < mc) prefetchTileC(C + (ic + ir + MR) * ldc + jc + jr, ldc, std::min(MR, mc - ir - MR), nr);
            ukr<kMR>(kc2, Ap + ir * kc2, bPanel, C + (ic + ir) * ldc + jc + jr, ldc, mr, nr, alpha, betaBlock);
          }
        }
      }
    }
  }
}

CMH_TARGET_BF16 double dpLoop(long iters) {
  __m512 acc[12];
  const __m512bh x = (__m512bh)_mm512_set1_epi32(0x3F803F80);  // (1.0, 1.0)
  const __m512bh y = (__m512bh)_mm512_set1_epi32(0x33D633D6);  // (1e-7, 1e-7)
  for (int i = 0; i < 12; i++) acc[i] = _mm512_set1_ps(static_cast<float>(i));
  for (long it = 0; it < iters; it++) {
#pragma GCC unroll 12
    for (int i = 0; i < 12; i++) acc[i] = _mm512_dpbf16_ps(acc[i], x, y);
  }
  __m512 s = acc[0];
  for (int i = 1; i < 12; i++) s = _mm512_add_ps(s, acc[i]);
  return _mm512_reduce_add_ps(s);
}

}  // namespace

const Bf16Blocking& bf16Blocking() {
  static const Bf16Blocking b = makeBlocking();
  return b;
}

const Bf16Panels& bf16Panels() {
  static const Bf16Panels p{kMR, kNR, bf16Blocking().kc, &packA<kMR>, &packB, &ukr<kMR>};
  return p;
}

void sgemmBf16(bool ta, bool tb, long m, long n, long k, float alpha, const float* A, long lda, const float* B, long ldb,
               float beta, float* C, long ldc, int threads) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0 || alpha == 0.0f) { scaleC(m, n, beta, C, ldc); return; }
  const Bf16Blocking& K = bf16Blocking();
  gemmAcrossThreads(K.mr, K.nr, ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc, threads,
                    [&K](bool ta_, bool tb_, long m_, long n_, long k_, float alpha_, const float* A_, long lda_, const float* B_,
                         long ldb_, float beta_, float* C_, long ldc_) { serial(K, ta_, tb_, m_, n_, k_, alpha_, A_, lda_, B_, ldb_, beta_, C_, ldc_); });
}

double bf16Peak(double seconds, int threads) {
  threads = std::max(1, threads);
  std::vector<double> best(threads, 0.0), sink(threads, 0.0);
  const long burst = 200000;
  const double flopsPerIter = 12 * 16 * 4;  // 12 instructions × 16 lanes × 2 products × 2 FLOPs
  ThreadPool::instance().run(threads, [&](int t) {
    using clk = std::chrono::steady_clock;
    const auto start = clk::now();
    for (;;) {
      const auto b0 = clk::now();
      sink[t] += dpLoop(burst);
      const auto b1 = clk::now();
      const double s = std::chrono::duration<double>(b1 - b0).count();
      if (s > 0) best[t] = std::max(best[t], flopsPerIter * burst / s / 1e9);
      if (std::chrono::duration<double>(b1 - start).count() >= seconds) break;
    }
  });
  double total = 0, s = 0;
  for (int t = 0; t < threads; t++) { total += best[t]; s += sink[t]; }
  if (s == 12345.678) total += 1e-12;
  return total;
}

}  // namespace cmh
