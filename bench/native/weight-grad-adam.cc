// Study harness (not part of the build): the DCMH-size weight-gradient product with its Adam update,
// G = Xᵀ·dY (X 128×M, dY 128×N, so G is M×N like the weight) followed by Adam on x, m, v, in four
// arrangements on the AVX2 6×16 micro-kernel:
//   gemm only        the product in gradient blocks of 6 rows × 4096 columns, no update (the floor);
//   long rows        today's fused kernel on AVX2 (gemm_adam.cc, fusedAdamLongRows): each block's
//                    update runs over its 6 rows right after the block;
//   packed layout    x, m, v stored in the panel layout [256-row block][16-column panel][256][16], so
//                    each 6×16 tile's update is 6 contiguous 64-byte pieces, updated right after the
//                    tile (with the next tile's pieces prefetched);
//   in the k loop    the update of tile n-1 interleaved into tile n's k loop (one 8-float vector per
//                    4 k steps, ymm0-3 reused between k steps), row-major x, m, v.
// The update is the optimiser's loop (optim.cc's adamLoop, same operations and contractions); the
// harness checks that every arrangement gives the bits of "long rows".
// docs/experiments/2026-12-avx2-gemm.md, round 4.
//
//   g++ -O3 -std=c++17 -fno-math-errno -Isrc/native -o /tmp/wga bench/native/weight-grad-adam.cc
//   /tmp/wga 4096 4           # M reps (N = 8192, batch 128)
#include "../../src/native/gemm_avx2.cc"
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>
using namespace cmh;

struct AdamArgsLocal { float b1, b2, stepSize, invSqrtC2, eps, wd; };
__attribute__((target("avx2,fma"), noinline)) void adamLoop(float* __restrict x, const float* __restrict g,
    float* __restrict m, float* __restrict v, long n, const AdamArgsLocal& a) {
  const float ob1 = 1.0f - a.b1, ob2 = 1.0f - a.b2;
  for (long i = 0; i < n; i++) {
    const float gi = g[i] + a.wd * x[i];
    const float mi = a.b1 * m[i] + ob1 * gi;
    const float vi = a.b2 * v[i] + ob2 * gi * gi;
    m[i] = mi; v[i] = vi;
    x[i] -= a.stepSize * mi / (std::sqrt(vi) * a.invSqrtC2 + a.eps);
  }
}

// The constants as 8-float vectors, in the order the assembly below reads them.
struct AdamVec { alignas(32) float wd[8], ob2[8], ob1[8], b1[8], b2[8], step[8], isc[8], eps[8]; };
// One 8-float Adam update in ymm0-3 (free between k steps): vector q at byte offset tbl[q] from x, m,
// v, gradient at g; the same operations, operand for operand, as GCC's vector loop of adamLoop.
#define ADAM_ONE                                                                                     \
  "mov (%[tbl]), %[off]\n\t" "vmovups 0(%[cst]), %%ymm1\n\t" "vmovups (%[xb],%[off]), %%ymm0\n\t"    \
  "vfmadd213ps (%[g]), %%ymm1, %%ymm0\n\t" "vmulps 32(%[cst]), %%ymm0, %%ymm1\n\t"                   \
  "vmulps 64(%[cst]), %%ymm0, %%ymm2\n\t" "vmovups 96(%[cst]), %%ymm3\n\t"                           \
  "vfmadd231ps (%[mb],%[off]), %%ymm3, %%ymm2\n\t" "vmulps %%ymm0, %%ymm1, %%ymm1\n\t"               \
  "vmovups 128(%[cst]), %%ymm3\n\t" "vfmadd231ps (%[vb],%[off]), %%ymm3, %%ymm1\n\t"                 \
  "vmovups %%ymm2, (%[mb],%[off])\n\t" "vmovups %%ymm1, (%[vb],%[off])\n\t"                          \
  "vmulps 160(%[cst]), %%ymm2, %%ymm2\n\t" "vsqrtps %%ymm1, %%ymm1\n\t" "vmovups 192(%[cst]), %%ymm3\n\t" \
  "vfmadd213ps 224(%[cst]), %%ymm3, %%ymm1\n\t" "vdivps %%ymm1, %%ymm2, %%ymm2\n\t"                  \
  "vmovups (%[xb],%[off]), %%ymm0\n\t" "vsubps %%ymm2, %%ymm0, %%ymm0\n\t" "vmovups %%ymm0, (%[xb],%[off])\n\t" \
  "add $8, %[tbl]\n\t" "add $32, %[g]\n\t"
#define K_STEPS4                                                                                     \
  CMH_AVX2_STEP_PACKED("0", "0") CMH_AVX2_STEP_PACKED("24", "64") CMH_AVX2_STEP_PACKED("48", "128")    \
  CMH_AVX2_STEP_PACKED("72", "192") "add $96, %[a]\n\t" "add $256, %[b]\n\t"

// tile (6×16 raw sums) = Ap·Bp over kc (a multiple of 4, ≥ 4·nad); Adam on nad vectors meanwhile.
CMH_TARGET_AVX2 static void ukrWithAdam(long kc, const float* A, const float* B, float* tile, const long* tbl, long nad,
                                        float* xb, float* mb, float* vb, const float* g, const AdamVec* cst) {
  long k4 = kc / 4, off = 0;
  asm volatile(
      CMH_AVX2_ZERO_TILE
      "test %[nad], %[nad]\n\t" "je 5f\n\t" ".p2align 5\n" "6:\n\t" K_STEPS4 ADAM_ONE
      "dec %[k4]\n\t" "dec %[nad]\n\t" "jne 6b\n" "5:\n\t"
      "test %[k4], %[k4]\n\t" "je 2f\n\t" ".p2align 5\n" "1:\n\t" K_STEPS4 "dec %[k4]\n\t" "jne 1b\n" "2:\n\t"
      CMH_AVX2_SAVE_TILE
      : [a] "+r"(A), [b] "+r"(B), [k4] "+r"(k4), [nad] "+r"(nad), [tbl] "+r"(tbl), [g] "+r"(g), [off] "+r"(off)
      : [t] "r"(tile), [xb] "r"(xb), [mb] "r"(mb), [vb] "r"(vb), [cst] "r"(cst)
      : CMH_AVX2_CLOBBERS);
}

constexpr long N = 8192, KB = 128, NC = 4096;
static long M;
static float *X, *DY, *W, *Mo, *V, *Ap, *Bp, *G;
static const AdamArgsLocal args{0.9f, 0.999f, 1e-4f, 1.0f, 1e-8f, 0.0f};

void longRows(bool update) {
  for (long jc = 0; jc < N; jc += NC) {
    packBAvx2(false, DY + jc, N, KB, NC, Bp);
    for (long ic = 0; ic < M; ic += 6) {
      const int mr = static_cast<int>(std::min(6L, M - ic));
      packAAvx2(true, X + ic, M, mr, KB, Ap);
      for (long jr = 0; jr < NC; jr += 16) ukrAvx2(KB, Ap, Bp + jr * KB, G + jr, NC, mr, 16, 1.f, 0.f);
      if (update) for (int i = 0; i < mr; i++) adamLoop(W + (ic + i) * N + jc, G + i * NC, Mo + (ic + i) * N + jc, V + (ic + i) * N + jc, NC, args);
    }
  }
}

// [256-row block][16-column panel][row][16]; the last block has the rows that are left.
long packedIndex(long i, long j) {
  const long rb = i / 256 * 256, rows = std::min(256L, M - rb);
  return rb * N + (j / 16) * rows * 16 + (i - rb) * 16 + j % 16;
}

void packedLayout() {  // x, m, v in the panel layout
  alignas(32) float tile[96];
  packBAvx2(false, DY, N, KB, N, Bp);
  for (long rb = 0; rb < M; rb += 256) {
    const long rows = std::min(256L, M - rb);
    packAAvx2(true, X + rb, M, rows, KB, Ap);
    for (long q = 0; q < N / 16; q++) {
      const long base = packedIndex(rb, q * 16);
      for (long ir = 0; ir < rows; ir += 6) {
        const int mr = static_cast<int>(std::min(6L, rows - ir));
        const long nx = base + (ir + 6) * 16;
        for (int l = 0; l < 6; l++) {
          __builtin_prefetch(W + nx + l * 16, 1, 3); __builtin_prefetch(Mo + nx + l * 16, 1, 3); __builtin_prefetch(V + nx + l * 16, 1, 3);
        }
        ukrAvx2(KB, Ap + ir * KB, Bp + q * 16 * KB, tile, 16, mr, 16, 1.f, 0.f);
        adamLoop(W + base + ir * 16, tile, Mo + base + ir * 16, V + base + ir * 16, mr * 16, args);
      }
    }
  }
}

void inKLoop() {
  AdamVec c;
  for (int i = 0; i < 8; i++) {
    c.wd[i] = args.wd; c.ob2[i] = 1.0f - args.b2; c.ob1[i] = 1.0f - args.b1; c.b1[i] = args.b1; c.b2[i] = args.b2;
    c.step[i] = args.stepSize; c.isc[i] = args.invSqrtC2; c.eps[i] = args.eps;
  }
  long tbl[12];
  for (int i = 0; i < 6; i++) for (int h = 0; h < 2; h++) tbl[i * 2 + h] = (i * N + 8 * h) * 4;
  alignas(32) float tiles[2][96];
  for (long jc = 0; jc < N; jc += NC) {
    packBAvx2(false, DY + jc, N, KB, NC, Bp);
    for (long ic = 0; ic < M; ic += 6) {
      const int mr = static_cast<int>(std::min(6L, M - ic));
      packAAvx2(true, X + ic, M, mr, KB, Ap);
      if (mr < 6) {  // a short last block: as longRows
        for (long jr = 0; jr < NC; jr += 16) ukrAvx2(KB, Ap, Bp + jr * KB, G + jr, NC, mr, 16, 1.f, 0.f);
        for (int i = 0; i < mr; i++) adamLoop(W + (ic + i) * N + jc, G + i * NC, Mo + (ic + i) * N + jc, V + (ic + i) * N + jc, NC, args);
        continue;
      }
      const long nt = NC / 16;
      for (long q = 0; q < nt; q++) {
        const long o = ic * N + jc + (q - 1) * 16;  // tile q-1's corner
        ukrWithAdam(KB, Ap, Bp + q * 16 * KB, tiles[q & 1], tbl, q > 0 ? 12 : 0, W + o, Mo + o, V + o, tiles[(q - 1) & 1], &c);
      }
      const long o = ic * N + jc + (nt - 1) * 16;
      for (int i = 0; i < 6; i++) adamLoop(W + o + i * N, tiles[(nt - 1) & 1] + i * 16, Mo + o + i * N, V + o + i * N, 16, args);
    }
  }
}

int main(int argc, char** argv) {
  if (argc < 3) { std::fprintf(stderr, "usage: wga M reps\n"); return 2; }
  M = std::atol(argv[1]);
  const int reps = std::atoi(argv[2]);
  auto buf = [](size_t n) { return static_cast<float*>(std::aligned_alloc(64, (n * 4 + 63) / 64 * 64 + 64)); };
  const size_t size = static_cast<size_t>(M) * N;
  X = buf(KB * M); DY = buf(KB * N); W = buf(size); Mo = buf(size); V = buf(size);
  Ap = buf(256 * KB); Bp = buf(KB * N); G = buf(6 * NC);
  std::vector<float> W0(size), M0(size), V0(size), flush(8 << 20);
  std::srand(1);
  for (long i = 0; i < KB * M; i++) X[i] = (std::rand() % 1000) / 1000.f - .5f;
  for (long i = 0; i < KB * N; i++) DY[i] = (std::rand() % 1000) / 1000.f - .5f;
  for (size_t i = 0; i < size; i++) { W0[i] = (std::rand() % 1000) / 1000.f - .5f; M0[i] = (std::rand() % 1000) / 1e5f; V0[i] = (std::rand() % 1000) / 1e7f; }
  auto reset = [&](bool packed) {
    for (long i = 0; i < M; i++) for (long j = 0; j < N; j++) {
      const long d = packed ? packedIndex(i, j) : i * N + j, s = i * N + j;
      W[d] = W0[s]; Mo[d] = M0[s]; V[d] = V0[s];
    }
  };
  auto timeIt = [&](auto run, bool packed) {
    double best = 1e9;
    for (int r = 0; r < reps; r++) {
      reset(packed);
      for (auto& x : flush) x += 1;
      const auto t0 = std::chrono::steady_clock::now();
      run();
      best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    return best * 1e3;
  };
  // reference bits: one long-rows step from the start state
  reset(false); longRows(true);
  std::vector<float> Wr(W, W + size), Mr(Mo, Mo + size), Vr(V, V + size);
  auto sameAs = [&](bool packed) {
    for (long i = 0; i < M; i++) for (long j = 0; j < N; j++) {
      const long d = packed ? packedIndex(i, j) : i * N + j, s = i * N + j;
      if (std::memcmp(&W[d], &Wr[s], 4) || std::memcmp(&Mo[d], &Mr[s], 4) || std::memcmp(&V[d], &Vr[s], 4)) return false;
    }
    return true;
  };
  reset(true); packedLayout(); const bool okPacked = sameAs(true);
  reset(false); inKLoop(); const bool okK = sameAs(false);
  const double floor = timeIt([] { longRows(false); }, false), today = timeIt([] { longRows(true); }, false);
  const double packed = timeIt(packedLayout, true), kloop = timeIt(inKLoop, false);
  std::printf("%ldx%ldx128 Aᵀ: gemm only %.1f ms, long rows %.1f, packed layout %.1f (%s), in the k loop %.1f (%s)\n", M, N,
              floor, today, packed, okPacked ? "same bits" : "BITS DIFFER", kloop, okK ? "same bits" : "BITS DIFFER");
  return okPacked && okK ? 0 : 1;
}
