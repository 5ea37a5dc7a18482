// The fused Adam update (optim.cc), shared by the optimiser's own pass and the weight-gradient
// GEMM that applies it tile by tile (gemm_adam.cc): one compiled loop, so both give the same bits.
#pragma once
#include "isa.h"

namespace cmh {

struct AdamArgs { float b1, b2, stepSize, invSqrtC2, eps, wd, lrWd; bool decoupled; };

/** In place on x, m, v (n floats each) with gradient g; see nn/optim-adam.ts for the formula. */
void adamUpdate(Isa isa, float* x, const float* g, float* m, float* v, long n, const AdamArgs& a);

}  // namespace cmh
