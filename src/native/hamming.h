// Hamming scan kernels over packed binary codes (W 64-bit words per code, little-endian words as
// laid out by the TypeScript side). One set of kernels per variant: AVX-512 VPOPCNTDQ, scalar
// hardware popcnt, portable bit arithmetic.
#pragma once
#include <cstdint>
#include <cstring>
#include <vector>
#include "isa.h"

namespace cmh {

inline uint64_t load64(const uint64_t* p) { uint64_t v; std::memcpy(&v, p, 8); return v; }  // 4-aligned input

inline int popcountPortable(uint64_t x) {
  x = x - ((x >> 1) & 0x5555555555555555ULL);
  x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
  x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0FULL;
  return static_cast<int>((x * 0x0101010101010101ULL) >> 56);
}

// Popcount functors for kernels written once as templates. PopHw uses the popcnt instruction through
// inline asm, usable from code compiled for the baseline (no target attribute to propagate through
// the templates); only ever called when cpuid reports popcnt.
struct PopHw {
  int operator()(uint64_t x) const { uint64_t r; __asm__("popcnt %1, %0" : "=r"(r) : "r"(x)); return static_cast<int>(r); }
};
struct PopSw { int operator()(uint64_t x) const { return popcountPortable(x); } };

/** Bounded top-k ordered by (distance, position). Positions arrive in increasing order, so a new
 * candidate enters only with a strictly smaller distance than the current k-th (ties keep the
 * earlier position) and is placed after equal distances. */
struct TopK {
  int k;
  int count = 0;
  int32_t* ids;
  int32_t* dist;
  TopK(int k_, int32_t* ids_, int32_t* dist_) : k(k_), ids(ids_), dist(dist_) {}
  /** Candidates must have distance < bound() to enter. */
  uint32_t bound() const { return count < k ? 0xFFFFFFFFu : static_cast<uint32_t>(dist[k - 1]); }
  void insert(uint32_t d, int32_t id) {
    int pos = count < k ? count++ : k - 1;
    while (pos > 0 && static_cast<uint32_t>(dist[pos - 1]) > d) {
      dist[pos] = dist[pos - 1];
      ids[pos] = ids[pos - 1];
      pos--;
    }
    dist[pos] = static_cast<int32_t>(d);
    ids[pos] = id;
  }
  /** Pads unused slots (n < k) with id -1 and distance -1. */
  void finish() { for (int i = count; i < k; i++) { ids[i] = -1; dist[i] = -1; } }
};

struct HammingKernels {
  const char* name;
  /** out[i] = distance(q, code i) for i < n. */
  void (*distances)(const uint64_t* q, const uint64_t* db, long n, int W, uint32_t* out);
  /** Offers distances d[0..n) of positions base.. to the top-k. */
  void (*select)(const uint32_t* d, long n, long base, TopK& top);
  /** Fused scan + top-k for the widths the variant specialises (returns false for others). */
  bool (*knnSmall)(const uint64_t* q, const uint64_t* db, long n, int W, TopK& top);
};

const HammingKernels& hammingKernelsAvx512();   // needs AVX-512 VPOPCNTDQ
const HammingKernels& hammingKernelsPopcnt();   // needs popcnt
const HammingKernels& hammingKernelsGeneric();
/** Kernels used by a gemm variant: avx512 → VPOPCNTDQ when present, else popcnt; avx2 → popcnt. */
const HammingKernels& hammingKernels(Isa isa);

void hammingDistances(Isa isa, const uint64_t* q, const uint64_t* db, long n, int W, uint16_t* out);
void hammingKnn(Isa isa, const uint64_t* queries, long nq, const uint64_t* db, long n, int W, int k, int32_t* outIds,
                int32_t* outDist, int threads);
/** Appends positions with distance <= r (and their distances) in position order. */
void hammingRange(Isa isa, const uint64_t* q, const uint64_t* db, long n, int W, long r, std::vector<int32_t>& ids,
                  std::vector<int32_t>& dist);

}  // namespace cmh
