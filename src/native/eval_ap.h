// Fused ranking-metric kernel for exact evaluation (src/eval/metrics.ts): per query, Hamming
// distances to the whole database, relevance by label bitmasks (AND != 0), the histogram of
// (distance, relevant), and from a second pass in database order the rank of every relevant item
// in the ranking by (distance, database index) — a stable counting sort, never materialised.
#pragma once
#include <cstdint>
#include "isa.h"

namespace cmh {

struct ApBlockArgs {
  const uint64_t* queries = nullptr;  // nq codes, W words each
  long nq = 0;
  const uint64_t* db = nullptr;       // n codes
  long n = 0;
  int W = 1;
  int bits = 64;                      // histogram covers distances 0..bits
  const uint32_t* qLabels = nullptr;  // nq × labelWords label bitmasks
  const uint32_t* dLabels = nullptr;  // n × labelWords
  int labelWords = 1;
  const int32_t* topK = nullptr; int nTopK = 0;       // mAP@K cut-offs
  const int32_t* cutoffs = nullptr; int nCutoffs = 0; // P@N cut-offs
  // outputs, per query q:
  int32_t* hist = nullptr;     // [q][2·d + relevant], 2·(bits+1) counts
  double* apSum = nullptr;     // Σ over relevant items of (#relevant up to it)/(rank), in database order
  double* apKSum = nullptr;    // [q][t]: the same sum over relevant items ranked < topK[t]
  int32_t* relInK = nullptr;   // [q][t]: relevant items ranked < topK[t]
  int32_t* relAtCut = nullptr; // [q][s]: relevant items ranked < cutoffs[s]
};

/** Runs the block, queries split across up to `threads` threads. */
void apBlock(Isa isa, const ApBlockArgs& a, int threads);

}  // namespace cmh
