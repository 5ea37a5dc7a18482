// Weights stored in the GEMM kernel's own B-panel layout, so the forward product x·W reads them as
// they are instead of packing W on every call, and the weight-gradient product with Adam updates
// them (and their moments) in that layout.
//
// The forward product reads the weight's panels with aligned vector loads: they must start on a
// 64-byte boundary (panelAlign tells JS how many floats of an over-allocated array to skip).
//
// Layout of a rows × cols weight (cols a multiple of the kernel's NR): blocks of KC rows (the last
// one shorter), each block its NR-column panels one after another, each panel row-major kc × NR —
// exactly what K.packB writes for that block, so element (i, j) of block b = i / KC (kcb rows) is at
// b·KC·cols + (j / NR)·kcb·NR + (i mod KC)·NR + j mod NR. The array has rows·cols floats.
//
// Same bits as sgemm / sgemmAdam on the row-major weight: every tile is the same micro-kernel call
// summing the same KC blocks in the same order, and the update is the optimiser's own compiled
// loop applied to the same values (test/native/gemm-panel.test.ts). What it saves on a Zen 2 core
// (bench/native/forward-prepacked.cc): 128×4096×8192 with beta 1 111–113 → 93–94 ms, 128×1386×8192
// 37–38 → 33 ms; packing W each call reads it from memory, writes the packed copy and reads that.
// The update per tile, in this layout, also beat the long-row fused kernel (weight-grad-adam.cc).
#include <napi.h>
#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include "adam_kernel.h"
#include "gemm.h"
#include "gemm_split.h"
#include "napi_args.h"
#include "thread_pool.h"
#include "thread_scratch.h"

namespace cmh {

namespace {

struct PanelScratch;
/** Per-thread buffers (0: packed A, 1: packed B of the gradient product, 2: a gradient panel). */
float* buffer(int which, size_t floats) { return threadScratch<PanelScratch, float, 3>(which, floats); }

/** C[0..m)[j0..j1) of C = alpha·A·W + beta·C, W in panels (j0, j1 multiples of NR; n = W's cols). */
void forwardColumns(const GemmKernel& K, long m, long n, long k, float alpha, const float* A, long lda, const float* P,
                    float beta, float* C, long ldc, long j0, long j1) {
  const long MR = K.mr, NR = K.nr, KC = K.kc, MC = std::max(MR, K.mc / MR * MR);
  float* Ap = buffer(0, static_cast<size_t>(std::min(KC, k)) * std::min(MC, (m + MR - 1) / MR * MR));
  for (long pc = 0; pc < k; pc += KC) {
    const long kc = std::min(KC, k - pc);
    const float betaBlock = pc == 0 ? beta : 1.0f;  // later k blocks add onto the first, as in sgemm
    const float* block = P + pc * n;
    for (long ic = 0; ic < m; ic += MC) {
      const long mc = std::min(MC, m - ic), tiles = (mc + MR - 1) / MR;
      K.packA(false, A + ic * lda + pc, lda, mc, kc, Ap);
      for (long jr = j0; jr < j1; jr += NR) {
        const float* bp = block + jr * kc;
        // each tile prefetches a slice of the next panel (contiguous, so one line per 64 bytes)
        const long lines = jr + NR < j1 ? kc * NR * 4 / 64 : 0, per = (lines + tiles - 1) / tiles;
        for (long ir = 0, t = 0; ir < mc; ir += MR, t++) {
          float* c = C + (ic + ir) * ldc + jr;
          if (ir + MR < mc)
            for (long i = 0; i < std::min(MR, mc - ir - MR); i++) __builtin_prefetch(c + (MR + i) * ldc, 1, 3);
          for (long l = t * per, l1 = std::min(lines, (t + 1) * per); l < l1; l++)
            __builtin_prefetch(reinterpret_cast<const char*>(bp + kc * NR) + l * 64, 0, 3);
          K.ukr(kc, Ap + ir * kc, bp, c, ldc, static_cast<int>(std::min(MR, mc - ir)), static_cast<int>(NR), alpha, betaBlock);
        }
      }
    }
  }
}

/**
 * Panels [q0, q1) of the gradient G = alpha·op(A)·B (rows × n, k ≤ any) and the Adam update of the
 * same panels of x, m, v: for each KC-row block, each panel's kcb × NR gradient is made in a small
 * buffer over all k blocks, then updated (contiguous in the panel layout). Bp: B packed for all n.
 */
void gradientPanels(Isa isa, const GemmKernel& K, bool ta, long rows, long n, long k, float alpha, const float* A, long lda,
                    const float* Bp, float* X, float* M, float* V, const AdamArgs& adam, long q0, long q1) {
  const long MR = K.mr, NR = K.nr, KC = K.kc;
  const long nPc = (k + KC - 1) / KC, kcMax = std::min(KC, k);
  float* Ap = buffer(0, static_cast<size_t>(nPc) * kcMax * ((KC + MR - 1) / MR * MR));
  float* G = buffer(2, static_cast<size_t>(KC) * NR);
  for (long r0 = 0; r0 < rows; r0 += KC) {
    const long kcb = std::min(KC, rows - r0);  // this block's weight rows (the product's m)
    const long aStride = (kcb + MR - 1) / MR * MR;
    for (long pc = 0, p = 0; pc < k; pc += KC, p++)
      K.packA(ta, ta ? A + pc * lda + r0 : A + r0 * lda + pc, lda, kcb, std::min(KC, k - pc), Ap + p * kcMax * aStride);
    for (long q = q0; q < q1; q++) {
      const long o = r0 * n + q * kcb * NR;
      if (nPc == 1) {
        // one k block (the usual batch): each tile's update right after the tile, the next tile's x,
        // m, v prefetched (contiguous in this layout)
        const float* bp = Bp + q * NR * k;
        for (long ir = 0; ir < kcb; ir += MR) {
          const int mr = static_cast<int>(std::min(MR, kcb - ir));
          const long next = o + (ir + MR) * NR;
          for (long l = 0; l < MR * NR; l += 16) {
            __builtin_prefetch(X + next + l, 1, 3); __builtin_prefetch(M + next + l, 1, 3); __builtin_prefetch(V + next + l, 1, 3);
          }
          K.ukr(k, Ap + ir * k, bp, G, NR, mr, static_cast<int>(NR), alpha, 0.0f);
          adamUpdate(isa, X + o + ir * NR, G, M + o + ir * NR, V + o + ir * NR, mr * NR, adam);
        }
        continue;
      }
      for (long pc = 0, p = 0; pc < k; pc += KC, p++) {
        const long kc = std::min(KC, k - pc);
        const float* bp = Bp + p * kcMax * n + q * NR * kc;
        const float* ap = Ap + p * kcMax * aStride;
        for (long ir = 0; ir < kcb; ir += MR)
          K.ukr(kc, ap + ir * kc, bp, G + ir * NR, NR, static_cast<int>(std::min(MR, kcb - ir)), static_cast<int>(NR), alpha,
                p == 0 ? 0.0f : 1.0f);
      }
      adamUpdate(isa, X + o, G, M + o, V + o, kcb * NR, adam);
    }
  }
}

/** Threads worth waking for a product of `flops` split into `units` pieces (as gemm_split.h decides). */
int threadsFor(double flops, long units, int threads) {
  return static_cast<int>(std::min<long>(units, std::max(1, std::min(threads, static_cast<int>(flops / kGemmMinFlopsPerThread)))));
}

}  // namespace

void packPanels(Isa isa, long rows, long cols, const float* W, float* P) {
  const GemmKernel& K = gemmKernel(isa);
  if (reinterpret_cast<uintptr_t>(P) % 64 == 0) {
    for (long pc = 0; pc < rows; pc += K.kc) K.packB(false, W + pc * cols, cols, std::min(K.kc, rows - pc), cols, P + pc * cols);
    return;
  }
  // an unaligned destination (an optimiser's moments, which only the update reads): plain copies
  for (long pc = 0; pc < rows; pc += K.kc) {
    const long kc = std::min(K.kc, rows - pc);
    for (long q = 0; q < cols / K.nr; q++) {
      float* dst = P + pc * cols + q * kc * K.nr;
      for (long r = 0; r < kc; r++) std::copy(W + (pc + r) * cols + q * K.nr, W + (pc + r) * cols + (q + 1) * K.nr, dst + r * K.nr);
    }
  }
}

void unpackPanels(Isa isa, long rows, long cols, const float* P, float* W) {
  const GemmKernel& K = gemmKernel(isa);
  for (long pc = 0; pc < rows; pc += K.kc) {
    const long kc = std::min(K.kc, rows - pc);
    for (long q = 0; q < cols / K.nr; q++) {
      const float* src = P + pc * cols + q * kc * K.nr;
      for (long r = 0; r < kc; r++) std::copy(src + r * K.nr, src + (r + 1) * K.nr, W + (pc + r) * cols + q * K.nr);
    }
  }
}

/** C = alpha·A·W + beta·C, A m × k row-major (stride lda), W k × n in panels (n a multiple of NR). */
void sgemmPanels(Isa isa, long m, long n, long k, float alpha, const float* A, long lda, const float* P, float beta, float* C,
                 long ldc, int threads) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0 || alpha == 0.0f) { scaleC(m, n, beta, C, ldc); return; }
  const GemmKernel& K = gemmKernel(isa);
  const long panels = n / K.nr;
  const int nt = threadsFor(2.0 * m * n * k, panels, threads);
  if (nt <= 1) { forwardColumns(K, m, n, k, alpha, A, lda, P, beta, C, ldc, 0, n); return; }
  ThreadPool::instance().run(nt, [&](int t) {
    const long j0 = panels * t / nt * K.nr, j1 = panels * (t + 1) / nt * K.nr;
    if (j0 < j1) forwardColumns(K, m, n, k, alpha, A, lda, P, beta, C, ldc, j0, j1);
  });
}

/** x, m, v (rows × n, in panels) updated by Adam with the gradient alpha·op(A)·B (B k × n row-major). */
void sgemmAdamPanels(Isa isa, bool ta, long rows, long n, long k, float alpha, const float* A, long lda, const float* B, long ldb,
                     float* X, float* M, float* V, const AdamArgs& adam, int threads) {
  if (rows <= 0 || n <= 0) return;
  if (k <= 0 || alpha == 0.0f) {  // a zero gradient still moves x (the moments decay), as in adamStep
    std::unique_ptr<float[]> zero(new float[n]());
    for (long i = 0; i < rows; i++) adamUpdate(isa, X + i * n, zero.get(), M + i * n, V + i * n, n, adam);
    return;
  }
  const GemmKernel& K = gemmKernel(isa);
  const long KC = K.kc, kcMax = std::min(KC, k), nPc = (k + KC - 1) / KC;
  // B packed once for every k block and panel (block p at p·kcMax·n), shared read-only by the threads
  float* Bp = buffer(1, static_cast<size_t>(nPc) * kcMax * n);
  for (long pc = 0, p = 0; pc < k; pc += KC, p++) K.packB(false, B + pc * ldb, ldb, std::min(KC, k - pc), n, Bp + p * kcMax * n);
  const long panels = n / K.nr;
  const int nt = threadsFor(2.0 * rows * n * k, panels, threads);
  if (nt <= 1) { gradientPanels(isa, K, ta, rows, n, k, alpha, A, lda, Bp, X, M, V, adam, 0, panels); return; }
  ThreadPool::instance().run(nt, [&](int t) {
    const long q0 = panels * t / nt, q1 = panels * (t + 1) / nt;
    if (q0 < q1) gradientPanels(isa, K, ta, rows, n, k, alpha, A, lda, Bp, X, M, V, adam, q0, q1);
  });
}

namespace {

using args::checkMatrix;
using args::fail;
using args::intArg;

Isa isaArg(const Napi::CallbackInfo& info, const char* fn) {
  const std::string name = info[0].As<Napi::String>().Utf8Value();
  Isa isa;
  if (!parseIsa(name, &isa) || !isaSupported(isa)) fail(info.Env(), std::string(fn) + ": unsupported ISA '" + name + "'");
  return isa;
}

long colsArg(const Napi::CallbackInfo& info, size_t i, Isa isa, const char* fn) {
  const long n = intArg(info, i, "cols");
  const long nr = gemmKernel(isa).nr;
  if (n % nr != 0) fail(info.Env(), std::string(fn) + ": cols must be a multiple of the kernel's panel width " + std::to_string(nr) + ", got " + std::to_string(n));
  return n;
}

void checkAligned(Napi::Env env, const float* p, const char* fn, const char* name) {
  if (reinterpret_cast<uintptr_t>(p) % 64 != 0)
    fail(env, std::string(fn) + ": " + name + " must start on a 64-byte boundary (allocate it with panels.alloc)");
}

// panelAlign(arr): floats to skip from the start of a Float32Array to reach a 64-byte boundary.
Napi::Value PanelAlign(const Napi::CallbackInfo& info) {
  size_t len;
  const float* p = args::typedArg<float>(info, 0, napi_float32_array, "array", &len);
  const uintptr_t addr = reinterpret_cast<uintptr_t>(p);
  return Napi::Number::New(info.Env(), static_cast<double>((64 - addr % 64) % 64 / 4));
}

// packPanels(isa, rows, cols, W, P) / unpackPanels(isa, rows, cols, P, W): rows × cols floats each.
Napi::Value Convert(const Napi::CallbackInfo& info, bool pack) {
  const char* fn = pack ? "packPanels" : "unpackPanels";
  if (info.Length() < 5) fail(info.Env(), std::string(fn) + ": expected 5 arguments");
  const Isa isa = isaArg(info, fn);
  const long rows = intArg(info, 1, "rows"), cols = colsArg(info, 2, isa, fn);
  size_t ls, ld;
  const float* src = args::typedArg<float>(info, 3, napi_float32_array, "source", &ls);
  float* dst = args::typedArg<float>(info, 4, napi_float32_array, "destination", &ld);
  checkMatrix(info.Env(), "source (rows x cols)", ls, rows, cols, cols);
  checkMatrix(info.Env(), "destination (rows x cols)", ld, rows, cols, cols);
  if (pack) packPanels(isa, rows, cols, src, dst);
  else unpackPanels(isa, rows, cols, src, dst);
  return info.Env().Undefined();
}
Napi::Value PackPanels(const Napi::CallbackInfo& info) { return Convert(info, true); }
Napi::Value UnpackPanels(const Napi::CallbackInfo& info) { return Convert(info, false); }

// sgemmPanels(isa, m, n, k, alpha, A, lda, P, beta, C, ldc): C (m × n) = alpha·A·W + beta·C, W (k × n) in panels.
Napi::Value SgemmPanels(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 11) fail(env, "sgemmPanels: expected 11 arguments");
  const Isa isa = isaArg(info, "sgemmPanels");
  const long m = intArg(info, 1, "m"), n = colsArg(info, 2, isa, "sgemmPanels"), k = intArg(info, 3, "k");
  const float alpha = static_cast<float>(info[4].As<Napi::Number>().DoubleValue());
  size_t la, lp, lc;
  const float* A = args::typedArg<float>(info, 5, napi_float32_array, "A", &la);
  const long lda = intArg(info, 6, "lda");
  const float* P = args::typedArg<float>(info, 7, napi_float32_array, "W (panels)", &lp);
  const float beta = static_cast<float>(info[8].As<Napi::Number>().DoubleValue());
  float* C = args::typedArg<float>(info, 9, napi_float32_array, "C", &lc);
  const long ldc = intArg(info, 10, "ldc");
  checkMatrix(env, "A (m x k)", la, m, k, lda);
  checkMatrix(env, "W (k x n, panels)", lp, k, n, n);
  checkMatrix(env, "C (m x n)", lc, m, n, ldc);
  checkAligned(env, P, "sgemmPanels", "W (panels)");
  sgemmPanels(isa, m, n, k, alpha, A, lda, P, beta, C, ldc, getThreads());
  return env.Undefined();
}

// sgemmAdamPanels(isa, transA, rows, n, k, alpha, A, lda, B, ldb, x, mState, vState,
//                 b1, b2, stepSize, invSqrtC2, eps, wd, lrWd, decoupled): x, m, v rows × n in panels.
Napi::Value SgemmAdamPanels(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 21) fail(env, "sgemmAdamPanels: expected 21 arguments");
  const Isa isa = isaArg(info, "sgemmAdamPanels");
  const bool ta = info[1].ToBoolean();
  const long rows = intArg(info, 2, "rows"), n = colsArg(info, 3, isa, "sgemmAdamPanels"), k = intArg(info, 4, "k");
  const float alpha = static_cast<float>(info[5].As<Napi::Number>().DoubleValue());
  size_t la, lb, lx, lm, lv;
  const float* A = args::typedArg<float>(info, 6, napi_float32_array, "A", &la);
  const long lda = intArg(info, 7, "lda");
  const float* B = args::typedArg<float>(info, 8, napi_float32_array, "B", &lb);
  const long ldb = intArg(info, 9, "ldb");
  float* X = args::typedArg<float>(info, 10, napi_float32_array, "x", &lx);
  float* M = args::typedArg<float>(info, 11, napi_float32_array, "m (first moment)", &lm);
  float* V = args::typedArg<float>(info, 12, napi_float32_array, "v (second moment)", &lv);
  if (k > 0) {
    checkMatrix(env, ta ? "A (stored k x rows)" : "A (rows x k)", la, ta ? k : rows, ta ? rows : k, lda);
    checkMatrix(env, "B (k x n)", lb, k, n, ldb);
  }
  checkMatrix(env, "x (rows x n, panels)", lx, rows, n, n);
  checkMatrix(env, "m (first moment, rows x n)", lm, rows, n, n);
  checkMatrix(env, "v (second moment, rows x n)", lv, rows, n, n);
  const AdamArgs a = args::adamArgs(info, 13);
  sgemmAdamPanels(isa, ta, rows, n, k, alpha, A, lda, B, ldb, X, M, V, a, getThreads());
  return env.Undefined();
}

}  // namespace

void registerGemmPanels(Napi::Env env, Napi::Object exports) {
  exports.Set("panelAlign", Napi::Function::New(env, PanelAlign));
  exports.Set("packPanels", Napi::Function::New(env, PackPanels));
  exports.Set("unpackPanels", Napi::Function::New(env, UnpackPanels));
  exports.Set("sgemmPanels", Napi::Function::New(env, SgemmPanels));
  exports.Set("sgemmAdamPanels", Napi::Function::New(env, SgemmAdamPanels));
}

}  // namespace cmh
