// AVX-512 VPOPCNTDQ Hamming kernels. 64-bit codes: 32 codes per step (4 zmm), distances compared
// in registers against the current k-th distance, so the scalar top-k is touched only by the rare
// candidates that can enter it. W = 2, 4, 8 words: XOR + popcount on whole vectors, then an
// even/odd permute-add tree folds each code's word counts into one lane.
#include <immintrin.h>
#include "hamming.h"

namespace cmh {

#define T CMH_TARGET_AVX512POP

T static inline __m512i foldPairs(__m512i a, __m512i b) {
  const __m512i even = _mm512_set_epi64(14, 12, 10, 8, 6, 4, 2, 0);
  const __m512i odd = _mm512_set_epi64(15, 13, 11, 9, 7, 5, 3, 1);
  return _mm512_add_epi64(_mm512_permutex2var_epi64(a, even, b), _mm512_permutex2var_epi64(a, odd, b));
}

T static void distancesAvx512(const uint64_t* q, const uint64_t* db, long n, int W, uint32_t* out) {
  long i = 0;
  if (W == 1 || W == 2 || W == 4 || W == 8) {
    alignas(64) uint64_t pattern[8];
    for (int j = 0; j < 8; j++) pattern[j] = load64(q + j % W);
    const __m512i qv = _mm512_load_si512(pattern);
    for (; i + 8 <= n; i += 8) {
      const uint64_t* p = db + i * W;
      __m512i v[8];
      for (int j = 0; j < W; j++) v[j] = _mm512_popcnt_epi64(_mm512_xor_si512(_mm512_loadu_si512(p + 8 * j), qv));
      for (int width = W; width > 1; width /= 2)
        for (int j = 0; j < width / 2; j++) v[j] = foldPairs(v[2 * j], v[2 * j + 1]);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), _mm512_cvtepi64_epi32(v[0]));
    }
  }
  // General width (and the tail): one code at a time, 8 words per masked vector.
  for (; i < n; i++) {
    const uint64_t* p = db + i * W;
    __m512i acc = _mm512_setzero_si512();
    for (int w = 0; w < W; w += 8) {
      const __mmask8 m = W - w >= 8 ? static_cast<__mmask8>(0xFF) : static_cast<__mmask8>((1u << (W - w)) - 1);
      const __m512i x = _mm512_xor_si512(_mm512_maskz_loadu_epi64(m, p + w), _mm512_maskz_loadu_epi64(m, q + w));
      acc = _mm512_add_epi64(acc, _mm512_popcnt_epi64(x));
    }
    out[i] = static_cast<uint32_t>(_mm512_reduce_add_epi64(acc));
  }
}

T static void selectAvx512(const uint32_t* d, long n, long base, TopK& top) {
  long i = 0;
  __m512i bnd = _mm512_set1_epi32(static_cast<int>(top.bound()));
  for (; i + 16 <= n; i += 16) {
    unsigned m = _mm512_cmplt_epu32_mask(_mm512_loadu_si512(d + i), bnd);
    if (!m) continue;
    for (; m; m &= m - 1) {
      const int j = __builtin_ctz(m);
      if (d[i + j] < top.bound()) top.insert(d[i + j], static_cast<int32_t>(base + i + j));
    }
    bnd = _mm512_set1_epi32(static_cast<int>(top.bound()));
  }
  for (; i < n; i++) if (d[i] < top.bound()) top.insert(d[i], static_cast<int32_t>(base + i));
}

T static void knn64Avx512(uint64_t q, const uint64_t* db, long n, TopK& top) {
  const __m512i qv = _mm512_set1_epi64(static_cast<long long>(q));
  __m512i bnd = _mm512_set1_epi64(top.bound());
  alignas(64) uint64_t dv[32];
  long i = 0;
  for (; i + 32 <= n; i += 32) {
    const uint64_t* p = db + i;
    const __m512i d0 = _mm512_popcnt_epi64(_mm512_xor_si512(_mm512_loadu_si512(p), qv));
    const __m512i d1 = _mm512_popcnt_epi64(_mm512_xor_si512(_mm512_loadu_si512(p + 8), qv));
    const __m512i d2 = _mm512_popcnt_epi64(_mm512_xor_si512(_mm512_loadu_si512(p + 16), qv));
    const __m512i d3 = _mm512_popcnt_epi64(_mm512_xor_si512(_mm512_loadu_si512(p + 24), qv));
    const unsigned m0 = _mm512_cmplt_epu64_mask(d0, bnd), m1 = _mm512_cmplt_epu64_mask(d1, bnd);
    const unsigned m2 = _mm512_cmplt_epu64_mask(d2, bnd), m3 = _mm512_cmplt_epu64_mask(d3, bnd);
    unsigned m = m0 | (m1 << 8) | (m2 << 16) | (m3 << 24);
    if (__builtin_expect(m == 0, 1)) continue;
    _mm512_store_si512(dv, d0); _mm512_store_si512(dv + 8, d1);
    _mm512_store_si512(dv + 16, d2); _mm512_store_si512(dv + 24, d3);
    for (; m; m &= m - 1) {
      const int j = __builtin_ctz(m);
      if (dv[j] < top.bound()) top.insert(static_cast<uint32_t>(dv[j]), static_cast<int32_t>(i + j));
    }
    bnd = _mm512_set1_epi64(top.bound());
  }
  for (; i < n; i += 8) {
    const long left = n - i;
    const __mmask8 valid = left >= 8 ? static_cast<__mmask8>(0xFF) : static_cast<__mmask8>((1u << left) - 1);
    const __m512i d = _mm512_popcnt_epi64(_mm512_xor_si512(_mm512_maskz_loadu_epi64(valid, db + i), qv));
    _mm512_store_si512(dv, d);
    for (unsigned m = _mm512_mask_cmplt_epu64_mask(valid, d, bnd); m; m &= m - 1) {
      const int j = __builtin_ctz(m);
      if (dv[j] < top.bound()) top.insert(static_cast<uint32_t>(dv[j]), static_cast<int32_t>(i + j));
    }
    bnd = _mm512_set1_epi64(top.bound());
  }
}

// W = 2, 4, 8: 8 codes per step, folded to 8 distances in one vector and compared in registers.
template <int W>
T static void knnFoldedAvx512(const uint64_t* q, const uint64_t* db, long n, TopK& top) {
  alignas(64) uint64_t pattern[8];
  for (int j = 0; j < 8; j++) pattern[j] = load64(q + j % W);
  const __m512i qv = _mm512_load_si512(pattern);
  __m512i bnd = _mm512_set1_epi64(top.bound());
  alignas(64) uint64_t dv[8];
  long i = 0;
  for (; i + 8 <= n; i += 8) {
    const uint64_t* p = db + i * W;
    __m512i v[W];
#pragma GCC unroll 8
    for (int j = 0; j < W; j++) v[j] = _mm512_popcnt_epi64(_mm512_xor_si512(_mm512_loadu_si512(p + 8 * j), qv));
#pragma GCC unroll 4
    for (int width = W; width > 1; width /= 2)
#pragma GCC unroll 4
      for (int j = 0; j < width / 2; j++) v[j] = foldPairs(v[2 * j], v[2 * j + 1]);
    unsigned m = _mm512_cmplt_epu64_mask(v[0], bnd);
    if (__builtin_expect(m == 0, 1)) continue;
    _mm512_store_si512(dv, v[0]);
    for (; m; m &= m - 1) {
      const int j = __builtin_ctz(m);
      if (dv[j] < top.bound()) top.insert(static_cast<uint32_t>(dv[j]), static_cast<int32_t>(i + j));
    }
    bnd = _mm512_set1_epi64(top.bound());
  }
  if (i < n) {
    uint32_t rest[8];
    distancesAvx512(q, db + i * W, n - i, W, rest);
    for (long j = 0; j < n - i; j++) if (rest[j] < top.bound()) top.insert(rest[j], static_cast<int32_t>(i + j));
  }
}

T static bool knnSmallAvx512(const uint64_t* q, const uint64_t* db, long n, int W, TopK& top) {
  switch (W) {
    case 1: knn64Avx512(load64(q), db, n, top); return true;
    case 2: knnFoldedAvx512<2>(q, db, n, top); return true;
    case 4: knnFoldedAvx512<4>(q, db, n, top); return true;
    case 8: knnFoldedAvx512<8>(q, db, n, top); return true;
    default: return false;
  }
}

#undef T

const HammingKernels& hammingKernelsAvx512() {
  static const HammingKernels k{"avx512-vpopcntdq", &distancesAvx512, &selectAvx512, &knnSmallAvx512};
  return k;
}

}  // namespace cmh
