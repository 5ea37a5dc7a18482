// Portable micro-kernel (baseline x86-64 / any CPU): a 4×8 tile in plain loops that the compiler
// vectorises with whatever the baseline offers (SSE2 on x86-64).
#include "gemm.h"
#include "gemm_pack.h"

namespace cmh {

constexpr int kMrG = 4, kNrG = 8;

static void ukrGeneric(long kc, const float* CMH_RESTRICT A, const float* CMH_RESTRICT B, float* C, long ldc, int mr,
                       int nr, float alpha, float beta) {
  float acc[kMrG][kNrG] = {};
  for (long p = 0; p < kc; p++) {
    for (int i = 0; i < kMrG; i++) {
      const float a = A[i];
      for (int j = 0; j < kNrG; j++) acc[i][j] += a * B[j];
    }
    A += kMrG;
    B += kNrG;
  }
  mergeTile<kNrG>(&acc[0][0], C, ldc, mr, nr, alpha, beta);
}

const GemmKernel& gemmKernelGeneric() {
  static const GemmKernel k{"generic 4x8", kMrG, kNrG, 128, 256, 4096, &ukrGeneric, &packAPanels<kMrG>, &packBPanels<kNrG>};
  return k;
}

double fmaLoopGeneric(long iters) {
  // Multiply-adds on 8 independent lanes × 4 chains; the compiler may vectorise them (SSE2: no FMA).
  float acc[4][8];
  for (int i = 0; i < 4; i++) for (int j = 0; j < 8; j++) acc[i][j] = static_cast<float>(i + j);
  const float x = 0.999999f, y = 1e-7f;
  for (long it = 0; it < iters; it++)
    for (int i = 0; i < 4; i++)
      for (int j = 0; j < 8; j++) acc[i][j] = acc[i][j] * x + y;
  double r = 0;
  for (int i = 0; i < 4; i++) for (int j = 0; j < 8; j++) r += acc[i][j];
  return r;
}

}  // namespace cmh
