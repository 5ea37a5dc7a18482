// bf16 GEMM (AVX512_BF16): inputs rounded to bfloat16 while packed, float32 accumulation and C.
#pragma once
#include <cstdint>

namespace cmh {

struct Bf16Blocking { long mr, nr, mc, kc, nc; };

/** The CPU runs the AVX-512 variant and has AVX512_BF16 (vdpbf16ps, vcvtneps2bf16). */
bool bf16Supported();
const Bf16Blocking& bf16Blocking();
/** C = alpha·bf16(op(A))·bf16(op(B)) + beta·C; only call when bf16Supported(). */
void sgemmBf16(bool transA, bool transB, long m, long n, long k, float alpha, const float* A, long lda, const float* B,
               long ldb, float beta, float* C, long ldc, int threads);
/**
 * The bf16 kernel's packing and micro-kernel, for a driver other than sgemmBf16 (gemm_adam.cc).
 * Panels hold uint32 bf16 pairs: a k block of kc values is (kc + 1) / 2 pairs long.
 */
struct Bf16Panels {
  long mr, nr, kc;
  void (*packA)(bool transA, const float* A, long lda, long mc, long kc, uint32_t* out);
  void (*packB)(bool transB, const float* B, long ldb, long kc, long nc, uint32_t* out);
  void (*ukr)(long kcPairs, const uint32_t* Ap, const uint32_t* Bp, float* C, long ldc, int mr, int nr, float alpha, float beta);
};
/** Only call when bf16Supported(). */
const Bf16Panels& bf16Panels();
/** vdpbf16ps loop on `threads` threads for about `seconds`: GFLOP/s (2 FLOPs per product). */
double bf16Peak(double seconds, int threads);

}  // namespace cmh
