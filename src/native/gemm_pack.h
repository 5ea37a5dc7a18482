// Panel packing shared by every variant (plain C++: packing moves O(mk + kn) floats against the
// O(mnk) multiply, so it need not be hand-vectorised). All four transpose cases are handled here,
// so the micro-kernels only ever see contiguous, zero-padded panels.
#pragma once
#include <cstring>

namespace cmh {

template <int MR>
void packAPanels(bool transA, const float* A, long lda, long mc, long kc, float* out) {
  for (long i = 0; i < mc; i += MR, out += MR * kc) {
    const int mr = static_cast<int>(mc - i < MR ? mc - i : MR);
    if (transA) {
      // op(A)[i][p] = A[p*lda + i]: each k step is a contiguous run of mr values.
      for (long p = 0; p < kc; p++) {
        const float* src = A + p * lda + i;
        float* dst = out + p * MR;
        for (int ii = 0; ii < mr; ii++) dst[ii] = src[ii];
        for (int ii = mr; ii < MR; ii++) dst[ii] = 0.0f;
      }
    } else {
      // op(A)[i][p] = A[i*lda + p]: read rows sequentially, write with stride MR.
      for (int ii = 0; ii < mr; ii++) {
        const float* src = A + (i + ii) * lda;
        float* dst = out + ii;
        for (long p = 0; p < kc; p++) dst[p * MR] = src[p];
      }
      for (int ii = mr; ii < MR; ii++)
        for (long p = 0; p < kc; p++) out[p * MR + ii] = 0.0f;
    }
  }
}

template <int NR>
void packBPanels(bool transB, const float* B, long ldb, long kc, long nc, float* out) {
  for (long j = 0; j < nc; j += NR, out += NR * kc) {
    const int nr = static_cast<int>(nc - j < NR ? nc - j : NR);
    if (!transB) {
      // op(B)[p][j] = B[p*ldb + j]: each k step copies a contiguous run of nr values.
      if (nr == NR) {
        for (long p = 0; p < kc; p++) std::memcpy(out + p * NR, B + p * ldb + j, sizeof(float) * NR);
      } else {
        for (long p = 0; p < kc; p++) {
          const float* src = B + p * ldb + j;
          float* dst = out + p * NR;
          for (int jj = 0; jj < nr; jj++) dst[jj] = src[jj];
          for (int jj = nr; jj < NR; jj++) dst[jj] = 0.0f;
        }
      }
    } else {
      // op(B)[p][j] = B[j*ldb + p]: read rows of B sequentially, write with stride NR.
      for (int jj = 0; jj < nr; jj++) {
        const float* src = B + (j + jj) * ldb;
        float* dst = out + jj;
        for (long p = 0; p < kc; p++) dst[p * NR] = src[p];
      }
      for (int jj = nr; jj < NR; jj++)
        for (long p = 0; p < kc; p++) out[p * NR + jj] = 0.0f;
    }
  }
}

/** Merges a computed tile (tile[i*NR + j] = Ap·Bp) into C with alpha/beta (edge tiles). */
template <int NR>
inline void mergeTile(const float* tile, float* C, long ldc, int mr, int nr, float alpha, float beta) {
  for (int i = 0; i < mr; i++) {
    float* c = C + i * ldc;
    const float* t = tile + i * NR;
    if (beta == 0.0f) for (int j = 0; j < nr; j++) c[j] = alpha * t[j];
    else for (int j = 0; j < nr; j++) c[j] = alpha * t[j] + beta * c[j];
  }
}

}  // namespace cmh
