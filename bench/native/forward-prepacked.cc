// Study harness (not part of the build): the forward product of a DCMH-size layer, x·W + bias with
// x 128×k and W k×n row-major, as the AVX2 kernel runs it today (B packed row by row into KC×NC
// blocks, then the 6×16 micro-kernel) against the same micro-kernel reading W already stored in its
// packed layout ([k block of 256][16-column panel][256][16]), i.e. what keeping weights packed
// would save. Both sum each element over the same KC blocks in the same order, so the results must
// be bit-identical; the harness checks that. docs/experiments/2026-12-avx2-gemm.md, round 4.
//
//   g++ -O3 -std=c++17 -fno-math-errno -Isrc/native -o /tmp/fwd bench/native/forward-prepacked.cc
//   /tmp/fwd 4096 8192 5      # k n reps (best of reps, caches flushed before each run)
#include "../../src/native/gemm_avx2.cc"
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>
using namespace cmh;

static float *Ap, *Bp;
constexpr long KC = 256, MR = 6, NR = 16;

// Today's path for one block of rows with A packed (sgemmSerial's blocked path, AVX2 blocks).
void packedToday(long m, long n, long k, const float* A, const float* B, float* C) {
  const GemmKernel& K = gemmKernelAvx2();
  for (long jc = 0; jc < n; jc += K.nc) {
    const long nc = std::min(K.nc, n - jc);
    for (long pc = 0; pc < k; pc += KC) {
      const long kc = std::min(KC, k - pc);
      K.packB(false, B + pc * n + jc, n, kc, nc, Bp);
      K.packA(false, A + pc, k, m, kc, Ap);
      for (long jr = 0; jr < nc; jr += NR)
        for (long ir = 0; ir < m; ir += MR) {
          if (ir + MR < m) for (long i = 0; i < std::min(MR, m - ir - MR); i++) __builtin_prefetch(C + (ir + MR + i) * n + jc + jr, 1, 3);
          K.ukr(kc, Ap + ir * kc, Bp + jr * kc, C + ir * n + jc + jr, n, static_cast<int>(std::min(MR, m - ir)),
                static_cast<int>(std::min(NR, nc - jr)), 1.f, 1.f);
        }
    }
  }
}

void storePacked(long n, long k, const float* B, float* P) {
  for (long pc = 0; pc < k; pc += KC) packBAvx2(false, B + pc * n, n, std::min(KC, k - pc), n, P + pc * n);
}

// W stored packed: no B packing; each tile of a panel prefetches a slice of the next panel.
void fromStoredPacked(long m, long n, long k, const float* A, const float* P, float* C) {
  const long tiles = (m + MR - 1) / MR;
  for (long pc = 0; pc < k; pc += KC) {
    const long kc = std::min(KC, k - pc);
    packAAvx2(false, A + pc, k, m, kc, Ap);
    const float* blk = P + pc * n;
    for (long jr = 0; jr < n; jr += NR) {
      const float* bp = blk + jr * kc;
      const long lines = kc * NR * 4 / 64, per = (lines + tiles - 1) / tiles;
      for (long ir = 0, t = 0; ir < m; ir += MR, t++) {
        if (ir + MR < m) for (long i = 0; i < std::min(MR, m - ir - MR); i++) __builtin_prefetch(C + (ir + MR + i) * n + jr, 1, 3);
        if (jr + NR < n) for (long l = t * per; l < std::min(lines, (t + 1) * per); l++) __builtin_prefetch(reinterpret_cast<const char*>(bp + NR * kc) + l * 64, 0, 3);
        ukrAvx2(kc, Ap + ir * kc, bp, C + ir * n + jr, n, static_cast<int>(std::min(MR, m - ir)), static_cast<int>(std::min(NR, n - jr)), 1.f, 1.f);
      }
    }
  }
}

int main(int argc, char** argv) {
  if (argc < 4) { std::fprintf(stderr, "usage: fwd k n reps\n"); return 2; }
  const long m = 128, k = std::atol(argv[1]), n = std::atol(argv[2]);
  const int reps = std::atoi(argv[3]);
  if (n % NR) { std::fprintf(stderr, "n must be a multiple of 16\n"); return 2; }
  Ap = static_cast<float*>(std::aligned_alloc(64, 4 * KC * 144));
  Bp = static_cast<float*>(std::aligned_alloc(64, 4 * KC * 1024));
  std::vector<float> A(m * k), Bstore(k * n + 4), C1(m * n), C2(m * n), bias(m * n), flush(8 << 20);
  float* B = Bstore.data() + 4;  // 16 bytes off a cache line, as a JS array's data is
  std::srand(1);
  for (auto& x : A) x = (std::rand() % 1000) / 1000.f - .5f;
  for (auto& x : Bstore) x = (std::rand() % 1000) / 1000.f - .5f;
  for (auto& x : bias) x = (std::rand() % 100) / 100.f;
  float* P = static_cast<float*>(std::aligned_alloc(64, 4 * (k * n + 64)));
  storePacked(n, k, B, P);
  double best1 = 1e9, best2 = 1e9;
  for (int r = 0; r < reps; r++) {
    for (auto& x : flush) x += 1;
    std::copy(bias.begin(), bias.end(), C1.begin());
    auto t0 = std::chrono::steady_clock::now();
    packedToday(m, n, k, A.data(), B, C1.data());
    best1 = std::min(best1, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    for (auto& x : flush) x += 1;
    std::copy(bias.begin(), bias.end(), C2.begin());
    t0 = std::chrono::steady_clock::now();
    fromStoredPacked(m, n, k, A.data(), P, C2.data());
    best2 = std::min(best2, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  const bool same = std::memcmp(C1.data(), C2.data(), 4 * m * n) == 0;
  const double gf = 2.0 * m * n * k / 1e9;
  std::printf("128x%ldx%ld beta 1: B packed per call %.1f ms (%.1f GFLOP/s), W stored packed %.1f ms (%.1f GFLOP/s), %s\n",
              k, n, best1 * 1e3, gf / best1, best2 * 1e3, gf / best2, same ? "bit-identical" : "RESULTS DIFFER");
  return same ? 0 : 1;
}
