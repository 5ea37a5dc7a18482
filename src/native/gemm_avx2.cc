// AVX2+FMA micro-kernel: 6×16 tile in 12 ymm accumulators (the classic Haswell shape); edge tiles
// are computed into a scratch tile and merged.
#include <immintrin.h>
#include "gemm.h"
#include "gemm_pack.h"

namespace cmh {

constexpr int kMr2 = 6, kNr2 = 16;

CMH_TARGET_AVX2 static void ukrAvx2(long kc, const float* CMH_RESTRICT A, const float* CMH_RESTRICT B, float* C, long ldc,
                                    int mr, int nr, float alpha, float beta) {
  __m256 c0[kMr2], c1[kMr2];
#pragma GCC unroll 8
  for (int i = 0; i < kMr2; i++) { c0[i] = _mm256_setzero_ps(); c1[i] = _mm256_setzero_ps(); }
#pragma GCC unroll 2
  for (long p = 0; p < kc; p++) {
    const __m256 b0 = _mm256_load_ps(B), b1 = _mm256_load_ps(B + 8);
#pragma GCC unroll 8
    for (int i = 0; i < kMr2; i++) {
      const __m256 a = _mm256_broadcast_ss(A + i);
      c0[i] = _mm256_fmadd_ps(a, b0, c0[i]);
      c1[i] = _mm256_fmadd_ps(a, b1, c1[i]);
    }
    A += kMr2;
    B += kNr2;
  }
  if (mr == kMr2 && nr == kNr2) {
    const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
#pragma GCC unroll 8
    for (int i = 0; i < kMr2; i++) {
      float* c = C + i * ldc;
      __m256 r0 = _mm256_mul_ps(va, c0[i]), r1 = _mm256_mul_ps(va, c1[i]);
      if (beta != 0.0f) {
        r0 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(c), r0);
        r1 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(c + 8), r1);
      }
      _mm256_storeu_ps(c, r0);
      _mm256_storeu_ps(c + 8, r1);
    }
    return;
  }
  alignas(32) float tile[kMr2 * kNr2];
  for (int i = 0; i < kMr2; i++) { _mm256_store_ps(tile + i * kNr2, c0[i]); _mm256_store_ps(tile + i * kNr2 + 8, c1[i]); }
  mergeTile<kNr2>(tile, C, ldc, mr, nr, alpha, beta);
}

const GemmKernel& gemmKernelAvx2() {
  static const GemmKernel k{"avx2 6x16", kMr2, kNr2, 144, 256, 4096, &ukrAvx2, &packAPanels<kMr2>, &packBPanels<kNr2>};
  return k;
}

CMH_TARGET_AVX2 double fmaLoopAvx2(long iters) {
  __m256 acc[12];
  const __m256 x = _mm256_set1_ps(0.999999f), y = _mm256_set1_ps(1e-7f);
  for (int i = 0; i < 12; i++) acc[i] = _mm256_set1_ps(static_cast<float>(i));
  for (long it = 0; it < iters; it++) {
#pragma GCC unroll 12
    for (int i = 0; i < 12; i++) acc[i] = _mm256_fmadd_ps(acc[i], x, y);
  }
  __m256 s = acc[0];
  for (int i = 1; i < 12; i++) s = _mm256_add_ps(s, acc[i]);
  alignas(32) float v[8];
  _mm256_store_ps(v, s);
  double r = 0;
  for (float f : v) r += f;
  return r;
}

}  // namespace cmh
