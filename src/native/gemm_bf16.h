// bf16 GEMM (AVX512_BF16): inputs rounded to bfloat16 while packed, float32 accumulation and C.
#pragma once

namespace cmh {

struct Bf16Blocking { long mr, nr, mc, kc, nc; };

/** The CPU runs the AVX-512 variant and has AVX512_BF16 (vdpbf16ps, vcvtneps2bf16). */
bool bf16Supported();
const Bf16Blocking& bf16Blocking();
/** C = alpha·bf16(op(A))·bf16(op(B)) + beta·C; only call when bf16Supported(). */
void sgemmBf16(bool transA, bool transB, long m, long n, long k, float alpha, const float* A, long lda, const float* B,
               long ldb, float beta, float* C, long ldc, int threads);
/** vdpbf16ps loop on `threads` threads for about `seconds`: GFLOP/s (2 FLOPs per product). */
double bf16Peak(double seconds, int threads);

}  // namespace cmh
