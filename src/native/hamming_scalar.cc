// Scalar Hamming kernels: one on the hardware popcnt instruction, one portable (bit arithmetic);
// the loops are written once as templates over the popcount.
#include "hamming.h"

namespace cmh {

namespace {

// The bodies are written once as templates over the popcount and instantiated under each target.
template <class Pop>
inline void distancesBody(Pop pop, const uint64_t* q, const uint64_t* db, long n, int W, uint32_t* out) {
  if (W == 1) {
    const uint64_t q0 = load64(q);
    for (long i = 0; i < n; i++) out[i] = static_cast<uint32_t>(pop(load64(db + i) ^ q0));
    return;
  }
  if (W == 2) {
    const uint64_t q0 = load64(q), q1 = load64(q + 1);
    for (long i = 0; i < n; i++)
      out[i] = static_cast<uint32_t>(pop(load64(db + 2 * i) ^ q0) + pop(load64(db + 2 * i + 1) ^ q1));
    return;
  }
  for (long i = 0; i < n; i++) {
    const uint64_t* p = db + i * W;
    uint32_t d = 0;
    for (int w = 0; w < W; w++) d += static_cast<uint32_t>(pop(load64(p + w) ^ load64(q + w)));
    out[i] = d;
  }
}

inline void selectBody(const uint32_t* d, long n, long base, TopK& top) {
  uint32_t bound = top.bound();
  for (long i = 0; i < n; i++) {
    if (__builtin_expect(d[i] < bound, 0)) { top.insert(d[i], static_cast<int32_t>(base + i)); bound = top.bound(); }
  }
}

template <class Pop>
inline bool knnSmallBody(Pop pop, const uint64_t* q, const uint64_t* db, long n, int W, TopK& top) {
  uint32_t bound = top.bound();
  if (W == 1) {
    const uint64_t q0 = load64(q);
    for (long i = 0; i < n; i++) {
      const uint32_t d = static_cast<uint32_t>(pop(load64(db + i) ^ q0));
      if (__builtin_expect(d < bound, 0)) { top.insert(d, static_cast<int32_t>(i)); bound = top.bound(); }
    }
    return true;
  }
  if (W == 2) {
    const uint64_t q0 = load64(q), q1 = load64(q + 1);
    for (long i = 0; i < n; i++) {
      const uint32_t d = static_cast<uint32_t>(pop(load64(db + 2 * i) ^ q0) + pop(load64(db + 2 * i + 1) ^ q1));
      if (__builtin_expect(d < bound, 0)) { top.insert(d, static_cast<int32_t>(i)); bound = top.bound(); }
    }
    return true;
  }
  return false;
}


void distancesPopcnt(const uint64_t* q, const uint64_t* db, long n, int W, uint32_t* out) {
  distancesBody(PopHw{}, q, db, n, W, out);
}
bool knnSmallPopcnt(const uint64_t* q, const uint64_t* db, long n, int W, TopK& top) {
  return knnSmallBody(PopHw{}, q, db, n, W, top);
}
void distancesGeneric(const uint64_t* q, const uint64_t* db, long n, int W, uint32_t* out) {
  distancesBody(PopSw{}, q, db, n, W, out);
}
bool knnSmallGeneric(const uint64_t* q, const uint64_t* db, long n, int W, TopK& top) {
  return knnSmallBody(PopSw{}, q, db, n, W, top);
}
void selectScalar(const uint32_t* d, long n, long base, TopK& top) { selectBody(d, n, base, top); }

}  // namespace

const HammingKernels& hammingKernelsPopcnt() {
  static const HammingKernels k{"popcnt", &distancesPopcnt, &selectScalar, &knnSmallPopcnt};
  return k;
}

const HammingKernels& hammingKernelsGeneric() {
  static const HammingKernels k{"portable", &distancesGeneric, &selectScalar, &knnSmallGeneric};
  return k;
}

}  // namespace cmh
