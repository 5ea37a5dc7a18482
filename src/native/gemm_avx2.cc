// AVX2+FMA micro-kernels: 6×16 tile in 12 ymm accumulators (the classic Haswell shape); edge tiles
// are computed into a scratch tile and merged.
//
// The k loop is written in inline assembly. With intrinsics GCC kept copies of the accumulators on
// the stack inside the loop (or shuffled them between registers), which held the kernel to ~0.84 of
// the FMA peak on a Zen 2 core even with its panels in L1; with all 16 ymm registers placed by hand
// (ymm0-1 the B row, ymm2-3 the A broadcasts, ymm4-15 the tile) it runs at ~0.92-0.96. Every C
// element still gets acc = fma(a, b, acc) over p = 0..kc-1 from acc = 0, then alpha·acc (+ beta·C):
// the same float32 operations in the same order as before, so results are bit-identical.
#include <cmath>
#include <immintrin.h>
#include <string>
#include "gemm.h"
#include "gemm_pack.h"

namespace cmh {

constexpr int kMr2 = 6, kNr2 = 16;

// One k step: B row in ymm0/ymm1, then each of the 6 A values broadcast (alternately into ymm2 and
// ymm3, so a broadcast need not wait for the previous row's FMAs) and multiplied into its two
// accumulators. A0..A5 are the six A operands' addresses.
#define CMH_AVX2_ROWS(A0, A1, A2, A3, A4, A5)                                                              \
  "vbroadcastss " A0 ", %%ymm2\n\t" "vfmadd231ps %%ymm0, %%ymm2, %%ymm4\n\t" "vfmadd231ps %%ymm1, %%ymm2, %%ymm5\n\t"   \
  "vbroadcastss " A1 ", %%ymm3\n\t" "vfmadd231ps %%ymm0, %%ymm3, %%ymm6\n\t" "vfmadd231ps %%ymm1, %%ymm3, %%ymm7\n\t"   \
  "vbroadcastss " A2 ", %%ymm2\n\t" "vfmadd231ps %%ymm0, %%ymm2, %%ymm8\n\t" "vfmadd231ps %%ymm1, %%ymm2, %%ymm9\n\t"   \
  "vbroadcastss " A3 ", %%ymm3\n\t" "vfmadd231ps %%ymm0, %%ymm3, %%ymm10\n\t" "vfmadd231ps %%ymm1, %%ymm3, %%ymm11\n\t" \
  "vbroadcastss " A4 ", %%ymm2\n\t" "vfmadd231ps %%ymm0, %%ymm2, %%ymm12\n\t" "vfmadd231ps %%ymm1, %%ymm2, %%ymm13\n\t" \
  "vbroadcastss " A5 ", %%ymm3\n\t" "vfmadd231ps %%ymm0, %%ymm3, %%ymm14\n\t" "vfmadd231ps %%ymm1, %%ymm3, %%ymm15\n\t"
#define CMH_AVX2_LOAD_B(OFF) "vmovaps " OFF "(%[b]), %%ymm0\n\t" "vmovaps " OFF "+32(%[b]), %%ymm1\n\t"
// Packed A: the step's six values are contiguous at a + OFF.
#define CMH_AVX2_STEP_PACKED(AOFF, BOFF)                                                                   \
  CMH_AVX2_LOAD_B(BOFF)                                                                                    \
  CMH_AVX2_ROWS(AOFF "(%[a])", AOFF "+4(%[a])", AOFF "+8(%[a])", AOFF "+12(%[a])", AOFF "+16(%[a])", AOFF "+20(%[a])")
// A read in place: one pointer per row (r0..r5), the step's value at OFF.
#define CMH_AVX2_ROWS_DIRECT(AOFF) \
  CMH_AVX2_ROWS(AOFF "(%[r0])", AOFF "(%[r1])", AOFF "(%[r2])", AOFF "(%[r3])", AOFF "(%[r4])", AOFF "(%[r5])")
#define CMH_AVX2_ADVANCE_ROWS(BYTES)                                                                       \
  "add $" BYTES ", %[r0]\n\t" "add $" BYTES ", %[r1]\n\t" "add $" BYTES ", %[r2]\n\t" "add $" BYTES ", %[r3]\n\t"  \
  "add $" BYTES ", %[r4]\n\t" "add $" BYTES ", %[r5]\n\t"
#define CMH_AVX2_ZERO_TILE                                                                                 \
  "vxorps %%ymm4, %%ymm4, %%ymm4\n\t" "vxorps %%ymm5, %%ymm5, %%ymm5\n\t" "vxorps %%ymm6, %%ymm6, %%ymm6\n\t"         \
  "vxorps %%ymm7, %%ymm7, %%ymm7\n\t" "vxorps %%ymm8, %%ymm8, %%ymm8\n\t" "vxorps %%ymm9, %%ymm9, %%ymm9\n\t"         \
  "vxorps %%ymm10, %%ymm10, %%ymm10\n\t" "vxorps %%ymm11, %%ymm11, %%ymm11\n\t" "vxorps %%ymm12, %%ymm12, %%ymm12\n\t" \
  "vxorps %%ymm13, %%ymm13, %%ymm13\n\t" "vxorps %%ymm14, %%ymm14, %%ymm14\n\t" "vxorps %%ymm15, %%ymm15, %%ymm15\n\t"
#define CMH_AVX2_SAVE_TILE                                                                                 \
  "vmovaps %%ymm4, 0(%[t])\n\t" "vmovaps %%ymm5, 32(%[t])\n\t" "vmovaps %%ymm6, 64(%[t])\n\t"                         \
  "vmovaps %%ymm7, 96(%[t])\n\t" "vmovaps %%ymm8, 128(%[t])\n\t" "vmovaps %%ymm9, 160(%[t])\n\t"                      \
  "vmovaps %%ymm10, 192(%[t])\n\t" "vmovaps %%ymm11, 224(%[t])\n\t" "vmovaps %%ymm12, 256(%[t])\n\t"                  \
  "vmovaps %%ymm13, 288(%[t])\n\t" "vmovaps %%ymm14, 320(%[t])\n\t" "vmovaps %%ymm15, 352(%[t])\n\t" "vzeroupper\n\t"
// The tile zeroed, then k4 = kc / 4 rounds of BODY4 (four k steps and the pointer advance) and
// k1 = kc % 4 of BODY1 (one step), then the tile saved to t: the frame of the kernels below.
#define CMH_AVX2_TILE_LOOPS(BODY4, BODY1)                                                                  \
  CMH_AVX2_ZERO_TILE                                                                                        \
  "test %[k4], %[k4]\n\t" "je 2f\n\t" ".p2align 5\n" "1:\n\t" BODY4 "dec %[k4]\n\t" "jne 1b\n" "2:\n\t"         \
  "test %[k1], %[k1]\n\t" "je 4f\n" "3:\n\t" BODY1 "dec %[k1]\n\t" "jne 3b\n" "4:\n\t"                       \
  CMH_AVX2_SAVE_TILE
#define CMH_AVX2_CLOBBERS                                                                                  \
  "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", \
      "xmm14", "xmm15", "memory", "cc"

/** Row pointers of a tile of row-major A read in place; rows past mr point at row 0 (read, not stored). */
static inline void tileRows(const float* A, long lda, int mr, const float* r[kMr2]) {
  for (int i = 0; i < kMr2; i++) r[i] = A + (i < mr ? i : 0) * lda;
}

/** Writes the accumulated tile (tile[i*16 + j]) to C: C = alpha·tile (+ beta·C unless beta == 0). */
CMH_TARGET_AVX2 static inline void storeTileAvx2(const float* tile, float* C, long ldc, int mr, int nr, float alpha, float beta) {
  if (mr == kMr2 && nr == kNr2) {
    const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
#pragma GCC unroll 8
    for (int i = 0; i < kMr2; i++) {
      float* c = C + i * ldc;
      __m256 r0 = _mm256_mul_ps(va, _mm256_load_ps(tile + i * kNr2)), r1 = _mm256_mul_ps(va, _mm256_load_ps(tile + i * kNr2 + 8));
      if (beta != 0.0f) {
        r0 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(c), r0);
        r1 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(c + 8), r1);
      }
      _mm256_storeu_ps(c, r0);
      _mm256_storeu_ps(c + 8, r1);
    }
    return;
  }
  // Edge tiles: C = fma(alpha, t, beta·C), written out. (mergeTile's alpha·t + beta·c, inlined here,
  // was contracted by GCC to exactly this; at another call site it chose fma(beta, c, alpha·t),
  // which changes the last bit. The pinned hash in test/native/gemm-direct-a.test.ts checks it.)
  for (int i = 0; i < mr; i++) {
    float* c = C + i * ldc;
    const float* t = tile + i * kNr2;
    if (beta == 0.0f) for (int j = 0; j < nr; j++) c[j] = alpha * t[j];
    else for (int j = 0; j < nr; j++) c[j] = std::fma(alpha, t[j], beta * c[j]);
  }
}

CMH_TARGET_AVX2 static void ukrAvx2(long kc, const float* CMH_RESTRICT A, const float* CMH_RESTRICT B, float* C, long ldc,
                                    int mr, int nr, float alpha, float beta) {
  alignas(32) float tile[kMr2 * kNr2];
  long k4 = kc / 4, k1 = kc % 4;
  asm volatile(
      CMH_AVX2_TILE_LOOPS(
          CMH_AVX2_STEP_PACKED("0", "0") CMH_AVX2_STEP_PACKED("24", "64") CMH_AVX2_STEP_PACKED("48", "128")
          CMH_AVX2_STEP_PACKED("72", "192") "add $96, %[a]\n\t" "add $256, %[b]\n\t",
          CMH_AVX2_STEP_PACKED("0", "0") "add $24, %[a]\n\t" "add $64, %[b]\n\t")
      : [a] "+r"(A), [b] "+r"(B), [k4] "+r"(k4), [k1] "+r"(k1)
      : [t] "r"(tile)
      : CMH_AVX2_CLOBBERS);
  storeTileAvx2(tile, C, ldc, mr, nr, alpha, beta);
}

// The same tile with op(A) read in place from row-major A (no packing): row i of the tile is
// A + i·lda, read sequentially. Rows past mr read row 0 again (their results are not stored). Each C
// element gets exactly the FMA sequence of the packed kernel, so results are bit-identical; it saves
// transposing A into panels, a large share of the work when n is small (each A element is used only
// n/16 times).
CMH_TARGET_AVX2 static void ukrAvx2DirectA(long kc, const float* A, long lda, const float* CMH_RESTRICT B, float* C,
                                           long ldc, int mr, int nr, float alpha, float beta) {
  alignas(32) float tile[kMr2 * kNr2];
  const float* r[kMr2];
  tileRows(A, lda, mr, r);
  long k4 = kc / 4, k1 = kc % 4;
  asm volatile(
      CMH_AVX2_TILE_LOOPS(
          CMH_AVX2_LOAD_B("0") CMH_AVX2_ROWS_DIRECT("0") CMH_AVX2_LOAD_B("64") CMH_AVX2_ROWS_DIRECT("4")
          CMH_AVX2_LOAD_B("128") CMH_AVX2_ROWS_DIRECT("8") CMH_AVX2_LOAD_B("192") CMH_AVX2_ROWS_DIRECT("12")
          CMH_AVX2_ADVANCE_ROWS("16") "add $256, %[b]\n\t",
          CMH_AVX2_LOAD_B("0") CMH_AVX2_ROWS_DIRECT("0") CMH_AVX2_ADVANCE_ROWS("4") "add $64, %[b]\n\t")
      : [r0] "+r"(r[0]), [r1] "+r"(r[1]), [r2] "+r"(r[2]), [r3] "+r"(r[3]), [r4] "+r"(r[4]), [r5] "+r"(r[5]), [b] "+r"(B),
        [k4] "+r"(k4), [k1] "+r"(k1)
      : [t] "r"(tile)
      : CMH_AVX2_CLOBBERS);
  storeTileAvx2(tile, C, ldc, mr, nr, alpha, beta);
}

// B rows prefetched this many k steps ahead by the panel-packing tile (measured: 4-32 alike).
constexpr long kAheadB = 8;

// ukrAvx2DirectA for the first tile of a 16-column panel of a row-major B, which it packs as it goes:
// each k step loads the B row's 16 floats straight from B (stride ldb), stores them into the panel Bp
// for the panel's other tiles, and prefetches the row kAheadB steps ahead (B's rows are each in another
// page when B is wide, which the hardware prefetchers do not follow). Same FMA sequence per C element.
CMH_TARGET_AVX2 static void ukrAvx2DirectAPackB(long kc, const float* A, long lda, const float* B, long ldb,
                                                float* CMH_RESTRICT Bp, float* C, long ldc, int mr, float alpha, float beta) {
  alignas(32) float tile[kMr2 * kNr2];
  const float* r[kMr2];
  tileRows(A, lda, mr, r);
  long ldbBytes = ldb * 4, k = kc;
  const float* pf = B + kAheadB * ldb;
  asm volatile(
      CMH_AVX2_ZERO_TILE
      "test %[k], %[k]\n\t" "je 2f\n\t"
      ".p2align 5\n"
      "1:\n\t"
      "prefetcht0 (%[pf])\n\t" "prefetcht0 60(%[pf])\n\t" "add %[ldb], %[pf]\n\t"
      "vmovups (%[b]), %%ymm0\n\t" "vmovups 32(%[b]), %%ymm1\n\t"
      "vmovaps %%ymm0, (%[bp])\n\t" "vmovaps %%ymm1, 32(%[bp])\n\t"
      CMH_AVX2_ROWS_DIRECT("0")
      CMH_AVX2_ADVANCE_ROWS("4") "add %[ldb], %[b]\n\t" "add $64, %[bp]\n\t" "dec %[k]\n\t" "jne 1b\n"
      "2:\n\t"
      CMH_AVX2_SAVE_TILE
      : [r0] "+r"(r[0]), [r1] "+r"(r[1]), [r2] "+r"(r[2]), [r3] "+r"(r[3]), [r4] "+r"(r[4]), [r5] "+r"(r[5]), [b] "+r"(B),
        [bp] "+r"(Bp), [k] "+r"(k), [pf] "+r"(pf)
      : [t] "r"(tile), [ldb] "r"(ldbBytes)
      : CMH_AVX2_CLOBBERS);
  storeTileAvx2(tile, C, ldc, mr, kNr2, alpha, beta);
}

// Packs op(A) into 6-row micro-panels ([p][6], zero-padded rows), as packAPanels<6> does, with
// vector moves: for row-major A, 8 k steps of the 6 rows at a time are transposed in registers (an
// 8×8 transpose with two zero rows) and stored as 8 runs of 6 floats; for transposed A each k step
// is a 4 + 2 float copy. packAPanels' scalar strided stores took 4-6% of a 1024³ product.
CMH_TARGET_AVX2 static void packAAvx2(bool transA, const float* A, long lda, long mc, long kc, float* out) {
  for (long i = 0; i < mc; i += kMr2, out += kMr2 * kc) {
    const int mr = static_cast<int>(mc - i < kMr2 ? mc - i : kMr2);
    if (mr < kMr2) { packAPanels<kMr2>(transA, transA ? A + i : A + i * lda, lda, mr, kc, out); continue; }
    if (transA) {
      const float* src = A + i;
      for (long p = 0; p < kc; p++, src += lda) {
        _mm_storeu_ps(out + p * kMr2, _mm_loadu_ps(src));
        _mm_storel_pi(reinterpret_cast<__m64*>(out + p * kMr2 + 4), _mm_castpd_ps(_mm_load_sd(reinterpret_cast<const double*>(src + 4))));
      }
      continue;
    }
    const float* r = A + i * lda;
    long p = 0;
    for (; p + 8 <= kc; p += 8) {
      const __m256 x0 = _mm256_loadu_ps(r + p), x1 = _mm256_loadu_ps(r + lda + p), x2 = _mm256_loadu_ps(r + 2 * lda + p);
      const __m256 x3 = _mm256_loadu_ps(r + 3 * lda + p), x4 = _mm256_loadu_ps(r + 4 * lda + p), x5 = _mm256_loadu_ps(r + 5 * lda + p);
      const __m256 z = _mm256_setzero_ps();
      // 8×8 transpose of rows x0..x5, 0, 0: column q of the block becomes t[q] (rows 0..5 in lanes 0..5).
      const __m256 a0 = _mm256_unpacklo_ps(x0, x1), a1 = _mm256_unpackhi_ps(x0, x1);
      const __m256 a2 = _mm256_unpacklo_ps(x2, x3), a3 = _mm256_unpackhi_ps(x2, x3);
      const __m256 a4 = _mm256_unpacklo_ps(x4, x5), a5 = _mm256_unpackhi_ps(x4, x5);
      const __m256 b0 = _mm256_shuffle_ps(a0, a2, 0x44), b1 = _mm256_shuffle_ps(a0, a2, 0xEE);
      const __m256 b2 = _mm256_shuffle_ps(a1, a3, 0x44), b3 = _mm256_shuffle_ps(a1, a3, 0xEE);
      const __m256 b4 = _mm256_shuffle_ps(a4, z, 0x44), b5 = _mm256_shuffle_ps(a4, z, 0xEE);
      const __m256 b6 = _mm256_shuffle_ps(a5, z, 0x44), b7 = _mm256_shuffle_ps(a5, z, 0xEE);
      const __m256 t[8] = {_mm256_permute2f128_ps(b0, b4, 0x20), _mm256_permute2f128_ps(b1, b5, 0x20),
                           _mm256_permute2f128_ps(b2, b6, 0x20), _mm256_permute2f128_ps(b3, b7, 0x20),
                           _mm256_permute2f128_ps(b0, b4, 0x31), _mm256_permute2f128_ps(b1, b5, 0x31),
                           _mm256_permute2f128_ps(b2, b6, 0x31), _mm256_permute2f128_ps(b3, b7, 0x31)};
      float* d = out + p * kMr2;
#pragma GCC unroll 8
      for (int q = 0; q < 8; q++) {
        _mm_storeu_ps(d + q * kMr2, _mm256_castps256_ps128(t[q]));
        _mm_storel_pi(reinterpret_cast<__m64*>(d + q * kMr2 + 4), _mm256_extractf128_ps(t[q], 1));
      }
    }
    for (; p < kc; p++)
      for (int ii = 0; ii < kMr2; ii++) out[p * kMr2 + ii] = r[ii * lda + p];
  }
}

// Packs op(B) into 16-column micro-panels ([p][16], zero-padded columns), as packBPanels<16> does,
// but for row-major B row by row: each B row is read once, front to back, and its 16-float pieces
// go to the panels. Reading panel by panel instead touches every row once per panel, each time in
// another page and (when B's rows are not 64-byte aligned, as in JS arrays) across two cache lines.
CMH_TARGET_AVX2 static void packBAvx2(bool transB, const float* B, long ldb, long kc, long nc, float* out) {
  const long full = nc / kNr2 * kNr2;
  if (transB || full == 0) { packBPanels<kNr2>(transB, B, ldb, kc, nc, out); return; }
  for (long p = 0; p < kc; p++) {
    const float* src = B + p * ldb;
    float* dst = out + p * kNr2;
    for (long j = 0; j < full; j += kNr2, dst += kNr2 * kc) {
      _mm256_store_ps(dst, _mm256_loadu_ps(src + j));
      _mm256_store_ps(dst + 8, _mm256_loadu_ps(src + j + 8));
    }
  }
  if (full < nc) packBPanels<kNr2>(false, B + full, ldb, kc, nc - full, out + full * kc);
}

const GemmKernel& gemmKernelAvx2() {
  // Blocks and paths measured on a Zen 2 core (32 KiB L1d, 512 KiB L2), B rows 16 bytes off a cache
  // line as in JS arrays:
  //  - A is read in place only up to 256 columns of C (16 panels): past that, A's rows (a power-of-two
  //    stride apart, so in one L1 set) and the B panel no longer fit L1's 8 ways together, and packing
  //    A once per k block costs less (128x4096xN: N=64 direct .82 vs packed .70 of peak, N=256 equal);
  //  - with A packed, even one block of rows (m <= MC) takes the blocked path, whose B block is packed
  //    row by row (packBAvx2): 128x4096x8192 65 -> 78 GFLOP/s, 128x4096x1024 77-81 -> 83-85 against
  //    packing each panel in its first tile;
  //  - NC = 1024 (a 1 MiB B block, in L3): at 128x4096x8192 78 GFLOP/s against 74 with 4096; MC 96-204
  //    alike.
  //  - the fused Adam GEMM takes long gradient rows (fusedAdamLongRows; gemm_adam.cc says why).
  static const GemmKernel k{"avx2 6x16", kMr2, kNr2, 144, 256, 1024, &ukrAvx2, &packAAvx2, &packBAvx2,
                            &ukrAvx2DirectA, &ukrAvx2DirectAPackB, 256, false, true};
  return k;
}

std::string gemmChoiceReportAvx2() {
  const GemmKernel& k = gemmKernelAvx2();
  return std::string(k.name) + " (k loop in assembly, all 16 ymm registers placed), MC=" + std::to_string(k.mc) + " KC=" +
         std::to_string(k.kc) + " NC=" + std::to_string(k.nc) +
         " (fixed: KC sets the fp32 summation order; MC 96-204 and NC 1024 measured on a Zen 2 core with a 512 KiB L2); A read in"
         " place with each B panel packed by its first tile when C has at most " + std::to_string(k.directAMaxN) +
         " columns, else the blocked path with B packed row by row; the weight-gradient GEMM with Adam fused in takes"
         " gradient rows up to 4096 columns wide (packed B in L3) so its update streams x, m, v in long runs";
}

CMH_TARGET_AVX2 double fmaLoopAvx2(long iters) {
  __m256 acc[12];
  const __m256 x = _mm256_set1_ps(0.999999f), y = _mm256_set1_ps(1e-7f);
  for (int i = 0; i < 12; i++) acc[i] = _mm256_set1_ps(static_cast<float>(i));
  for (long it = 0; it < iters; it++) {
#pragma GCC unroll 12
    for (int i = 0; i < 12; i++) acc[i] = _mm256_fmadd_ps(acc[i], x, y);
  }
  __m256 s = acc[0];
  for (int i = 1; i < 12; i++) s = _mm256_add_ps(s, acc[i]);
  alignas(32) float v[8];
  _mm256_store_ps(v, s);
  double r = 0;
  for (float f : v) r += f;
  return r;
}

}  // namespace cmh
