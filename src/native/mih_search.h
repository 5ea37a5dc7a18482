// Multi-index hashing search (Norouzi et al.) over substring tables built by the TypeScript side
// (src/index/multi-index.ts): each table maps a substring value to a bucket of positions (CSR:
// bucket starts + items) and holds a copy of the codes in bucket order, so a probe reads them
// sequentially. The kernel enumerates substring neighbours at growing radius, verifies full
// distances with popcount and keeps a bounded top-k keyed by (distance, position) — the same
// answers and tie order as the flat scan.
#pragma once
#include <cstdint>
#include <vector>
#include "isa.h"

namespace cmh {

struct MihTable {
  int offset = 0, length = 0;     // substring bits [offset, offset+length), length <= 32
  const uint32_t* starts = nullptr;  // bucket b = items[starts[b] .. starts[b+1])
  const int32_t* items = nullptr;    // n positions in bucket order
  const uint64_t* codes = nullptr;   // n codes (W words each) in bucket order
  // hashed tables only (direct tables index starts by the substring value): open addressing,
  // slot = (value * 0x9e3779b1) >> shift, slots[slot] = bucket or -1, keys[bucket] = value
  const int32_t* slots = nullptr;
  const uint32_t* keys = nullptr;
  uint32_t slotMask = 0;
  int shift = 0;
};

struct MihIndex {
  std::vector<MihTable> tables;
  long n = 0;
  int W = 1;  // 64-bit words per code
};

/** Exact k-NN of one query: returns the number of hits (<= k) written to ids/dist ordered by
 * (distance, position), or -1 when the work (bucket probes + candidates) exceeded `budget`. */
long mihKnn(Isa isa, const MihIndex& ix, const uint64_t* q, int k, int maxD, double budget, int32_t* ids,
            int32_t* dist);
/** Batch of queries (split across threads when worth it); count[q] as mihKnn's return value. */
void mihKnnBatch(Isa isa, const MihIndex& ix, const uint64_t* queries, long nq, int k, int maxD, double budget,
                 int32_t* ids, int32_t* dist, int32_t* count, int threads);
/** Positions with distance <= r in position order (false when the budget was exceeded). */
bool mihRange(Isa isa, const MihIndex& ix, const uint64_t* q, int r, double budget, std::vector<int32_t>& ids,
              std::vector<int32_t>& dist);

}  // namespace cmh
