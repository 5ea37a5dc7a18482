// AVX-512 micro-kernel: MR×32 tile of C in 2·MR zmm accumulators; per k step two 16-float loads of
// the B panel and MR broadcasts of A feed 2·MR independent FMAs. Edge tiles use masked loads/stores,
// so odd m and n cost no scalar clean-up.
#include <immintrin.h>
#include <cstdlib>
#include "gemm.h"
#include "gemm_pack.h"

namespace cmh {

/** Writes the MR×32 accumulators to C: C = alpha·acc (+ beta·C unless beta == 0), masked at edges. */
template <int MR>
CMH_TARGET_AVX512 __attribute__((always_inline)) static inline void storeTile(const __m512* c0, const __m512* c1, float* C, long ldc, int mr, int nr,
                                               float alpha, float beta) {
  const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
  if (mr == MR && nr == 32) {
#pragma GCC unroll 16
    for (int i = 0; i < MR; i++) {
      float* c = C + i * ldc;
      __m512 r0 = _mm512_mul_ps(va, c0[i]), r1 = _mm512_mul_ps(va, c1[i]);
      if (beta != 0.0f) {
        r0 = _mm512_fmadd_ps(vb, _mm512_loadu_ps(c), r0);
        r1 = _mm512_fmadd_ps(vb, _mm512_loadu_ps(c + 16), r1);
      }
      _mm512_storeu_ps(c, r0);
      _mm512_storeu_ps(c + 16, r1);
    }
    return;
  }
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

template <int MR>
CMH_TARGET_AVX512 static void ukrAvx512(long kc, const float* CMH_RESTRICT A, const float* CMH_RESTRICT B, float* C,
                                        long ldc, int mr, int nr, float alpha, float beta) {
  __m512 c0[MR], c1[MR];
#pragma GCC unroll 16
  for (int i = 0; i < MR; i++) { c0[i] = _mm512_setzero_ps(); c1[i] = _mm512_setzero_ps(); }
#pragma GCC unroll 2
  for (long p = 0; p < kc; p++) {
    const __m512 b0 = _mm512_load_ps(B);
    const __m512 b1 = _mm512_load_ps(B + 16);
#pragma GCC unroll 16
    for (int i = 0; i < MR; i++) {
      const __m512 a = _mm512_set1_ps(A[i]);
      c0[i] = _mm512_fmadd_ps(a, b0, c0[i]);
      c1[i] = _mm512_fmadd_ps(a, b1, c1[i]);
    }
    A += MR;
    B += 32;
  }
  storeTile<MR>(c0, c1, C, ldc, mr, nr, alpha, beta);
}

// The same tile with op(A) read in place from row-major A (no packing): row i of the tile is
// A + i·lda, read sequentially, one broadcast per k step. Rows past mr read row 0 again (their
// results are not stored). Each C element gets exactly the FMA sequence of the packed kernel, so
// results are bit-identical; it saves transposing A into panels, which is a large share of the
// work when n is small (each A element is used only n times).
template <int MR>
CMH_TARGET_AVX512 static void ukrAvx512DirectA(long kc, const float* A, long lda, const float* CMH_RESTRICT B, float* C,
                                               long ldc, int mr, int nr, float alpha, float beta) {
  __m512 c0[MR], c1[MR];
  const float* a[MR];
#pragma GCC unroll 16
  for (int i = 0; i < MR; i++) {
    c0[i] = _mm512_setzero_ps(); c1[i] = _mm512_setzero_ps();
    a[i] = A + (i < mr ? i : 0) * lda;
  }
#pragma GCC unroll 2
  for (long p = 0; p < kc; p++) {
    const __m512 b0 = _mm512_load_ps(B);
    const __m512 b1 = _mm512_load_ps(B + 16);
#pragma GCC unroll 16
    for (int i = 0; i < MR; i++) {
      const __m512 av = _mm512_set1_ps(a[i][p]);
      c0[i] = _mm512_fmadd_ps(av, b0, c0[i]);
      c1[i] = _mm512_fmadd_ps(av, b1, c1[i]);
    }
    B += 32;
  }
  storeTile<MR>(c0, c1, C, ldc, mr, nr, alpha, beta);
}

// ukrAvx512DirectA for the first tile of a 32-column panel of a row-major B, which it packs as it
// goes: each k step loads the B row's 32 floats straight from B (stride ldb), stores them into the
// panel Bp for the panel's other tiles, and prefetches the row 8 k steps ahead. Reading B inside the
// FMA loop lets those FMAs hide the latency of B's rows (each in another page when B is wide, and
// with a power-of-two ldb all in the same few L2 sets, so rows prefetched a whole panel ahead were
// evicted before use). Same FMA sequence per C element as the other kernels.
template <int MR>
CMH_TARGET_AVX512 static void ukrAvx512DirectAPackB(long kc, const float* A, long lda, const float* B, long ldb, float* CMH_RESTRICT Bp,
                                                    float* C, long ldc, int mr, float alpha, float beta) {
  constexpr long kAhead = 8;
  __m512 c0[MR], c1[MR];
  const float* a[MR];
#pragma GCC unroll 16
  for (int i = 0; i < MR; i++) {
    c0[i] = _mm512_setzero_ps(); c1[i] = _mm512_setzero_ps();
    a[i] = A + (i < mr ? i : 0) * lda;
  }
  for (long p = 0; p < kc; p++) {
    if (p + kAhead < kc) {
      _mm_prefetch(reinterpret_cast<const char*>(B + kAhead * ldb), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(B + kAhead * ldb + 16), _MM_HINT_T0);
    }
    const __m512 b0 = _mm512_loadu_ps(B);
    const __m512 b1 = _mm512_loadu_ps(B + 16);
    _mm512_store_ps(Bp, b0);
    _mm512_store_ps(Bp + 16, b1);
#pragma GCC unroll 16
    for (int i = 0; i < MR; i++) {
      const __m512 av = _mm512_set1_ps(a[i][p]);
      c0[i] = _mm512_fmadd_ps(av, b0, c0[i]);
      c1[i] = _mm512_fmadd_ps(av, b1, c1[i]);
    }
    B += ldb;
    Bp += 32;
  }
  storeTile<MR>(c0, c1, C, ldc, mr, 32, alpha, beta);
}

// 16×16 transpose in registers: unpack ps, unpack pd, then two 128-bit lane shuffles (64 shuffles
// for 256 floats, against one scalar store per float for a strided copy).
CMH_TARGET_AVX512 static inline void transpose16(__m512 r[16]) {
  __m512 t[16], u[16];
  for (int i = 0; i < 8; i++) {
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  for (int g = 0; g < 4; g++) {
    const __m512d a = _mm512_castps_pd(t[4 * g]), b = _mm512_castps_pd(t[4 * g + 1]);
    const __m512d c = _mm512_castps_pd(t[4 * g + 2]), d = _mm512_castps_pd(t[4 * g + 3]);
    u[4 * g + 0] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
    u[4 * g + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
    u[4 * g + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
    u[4 * g + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
  }
  // u[4g+c] lane L now holds rows 4g..4g+3 of column 4L+c; gather lane L of each group.
  for (int c = 0; c < 4; c++) {
    const __m512 v0 = _mm512_shuffle_f32x4(u[c], u[4 + c], 0x44), v1 = _mm512_shuffle_f32x4(u[c], u[4 + c], 0xEE);
    const __m512 v2 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0x44), v3 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0xEE);
    r[c] = _mm512_shuffle_f32x4(v0, v2, 0x88);
    r[4 + c] = _mm512_shuffle_f32x4(v0, v2, 0xDD);
    r[8 + c] = _mm512_shuffle_f32x4(v1, v3, 0x88);
    r[12 + c] = _mm512_shuffle_f32x4(v1, v3, 0xDD);
  }
}

/** dst[p*R + col0 + r] = src[r*ld + p] for r < rows (<= 16), p < len; rows..15 (within R) get 0. */
CMH_TARGET_AVX512 static void transposeRows(const float* src, long ld, int rows, long len, float* dst, int R, int col0) {
  const int width = R - col0 < 16 ? R - col0 : 16;
  const __mmask16 store = static_cast<__mmask16>((1u << width) - 1);
  long p = 0;
  for (; p + 16 <= len; p += 16) {
    __m512 r[16];
    for (int i = 0; i < 16; i++) r[i] = i < rows ? _mm512_loadu_ps(src + i * ld + p) : _mm512_setzero_ps();
    transpose16(r);
    for (int j = 0; j < 16; j++) _mm512_mask_storeu_ps(dst + (p + j) * R + col0, store, r[j]);
  }
  for (; p < len; p++) {
    float* d = dst + p * R + col0;
    for (int i = 0; i < width; i++) d[i] = i < rows ? src[i * ld + p] : 0.0f;
  }
}

template <int MR>
CMH_TARGET_AVX512 static void packAAvx512(bool transA, const float* A, long lda, long mc, long kc, float* out) {
  for (long i = 0; i < mc; i += MR, out += MR * kc) {
    const int mr = static_cast<int>(mc - i < MR ? mc - i : MR);
    if (transA) {
      const __mmask16 m = static_cast<__mmask16>((1u << mr) - 1);  // MR <= 16; padding rows load as 0
      for (long p = 0; p < kc; p++) _mm512_mask_storeu_ps(out + p * MR, static_cast<__mmask16>((1u << MR) - 1),
                                                         _mm512_maskz_loadu_ps(m, A + p * lda + i));
    } else {
      transposeRows(A + i * lda, lda, mr, kc, out, MR, 0);
    }
  }
}

CMH_TARGET_AVX512 static void packBAvx512(bool transB, const float* B, long ldb, long kc, long nc, float* out) {
  for (long j = 0; j < nc; j += 32, out += 32 * kc) {
    const int nr = static_cast<int>(nc - j < 32 ? nc - j : 32);
    if (!transB) {
      const __mmask16 m0 = nr >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << nr) - 1);
      const __mmask16 m1 = nr >= 32 ? static_cast<__mmask16>(0xFFFF)
                           : nr > 16 ? static_cast<__mmask16>((1u << (nr - 16)) - 1) : static_cast<__mmask16>(0);
      for (long p = 0; p < kc; p++) {
        const float* src = B + p * ldb + j;
        _mm512_store_ps(out + p * 32, _mm512_maskz_loadu_ps(m0, src));
        _mm512_store_ps(out + p * 32 + 16, _mm512_maskz_loadu_ps(m1, src + 16));
      }
    } else {
      transposeRows(B + j * ldb, ldb, nr < 16 ? nr : 16, kc, out, 32, 0);
      transposeRows(B + (j + 16) * ldb, ldb, nr > 16 ? nr - 16 : 0, kc, out, 32, 16);
    }
  }
}

template <int MR>
static GemmKernel makeKernel(const char* name, long mcRows, long kc, long nc) {
  return GemmKernel{name, MR, 32, (mcRows + MR - 1) / MR * MR, kc, nc, &ukrAvx512<MR>, &packAAvx512<MR>, &packBAvx512, &ukrAvx512DirectA<MR>, &ukrAvx512DirectAPackB<MR>};
}

GemmKernel avx512KernelForTile(int mr, long mcRows, long kc, long nc) {
  switch (mr) {
    case 14: return makeKernel<14>("avx512 14x32", mcRows, kc, nc);
    case 12: return makeKernel<12>("avx512 12x32", mcRows, kc, nc);
    default: return makeKernel<8>("avx512 8x32", mcRows, kc, nc);
  }
}

CMH_TARGET_AVX512 double fmaLoopAvx512(long iters) {
  // 12 independent chains hide the 4-cycle FMA latency at 2 FMA ports (AVX-512 needs >= 8).
  __m512 acc[12];
  const __m512 x = _mm512_set1_ps(0.999999f), y = _mm512_set1_ps(1e-7f);
  for (int i = 0; i < 12; i++) acc[i] = _mm512_set1_ps(static_cast<float>(i));
  for (long it = 0; it < iters; it++) {
#pragma GCC unroll 12
    for (int i = 0; i < 12; i++) acc[i] = _mm512_fmadd_ps(acc[i], x, y);
  }
  __m512 s = acc[0];
  for (int i = 1; i < 12; i++) s = _mm512_add_ps(s, acc[i]);
  return _mm512_reduce_add_ps(s);
}

}  // namespace cmh
