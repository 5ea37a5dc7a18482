// Hamming search drivers: chunked distance computation feeding the bounded top-k (or a counting
// sort when k is large), range search, and query-parallel batches.
#include <algorithm>
#include <vector>
#include "hamming.h"
#include "thread_pool.h"

namespace cmh {

const HammingKernels& hammingKernels(Isa isa) {
  const CpuFeatures& f = cpuFeatures();
  if (isa == Isa::Avx512 && f.avx512vpopcntdq && isaSupported(Isa::Avx512)) return hammingKernelsAvx512();
  if (isa != Isa::Generic && f.popcnt) return hammingKernelsPopcnt();
  return hammingKernelsGeneric();
}

namespace {

constexpr long kChunk = 2048;  // distances buffered per step (8 KiB: stays in L1)

// Above this k the insertion-based top-k costs more than one counting pass over all distances.
constexpr int kMaxInsertK = 64;

void knnOne(const HammingKernels& K, const uint64_t* q, const uint64_t* db, long n, int W, int k, int32_t* ids,
            int32_t* dist, std::vector<uint32_t>& buf) {
  if (k <= kMaxInsertK) {
    TopK top(k, ids, dist);
    if (!K.knnSmall(q, db, n, W, top)) {
      buf.resize(kChunk);
      for (long i = 0; i < n; i += kChunk) {
        const long len = std::min(kChunk, n - i);
        K.distances(q, db + i * W, len, W, buf.data());
        K.select(buf.data(), len, i, top);
      }
    }
    top.finish();
    return;
  }
  // Large k: all distances, a histogram over the 64·W+1 values, the cut-off distance, then one
  // stable pass placing positions by (distance, position).
  buf.resize(static_cast<size_t>(n));
  K.distances(q, db, n, W, buf.data());
  const int maxD = 64 * W;
  std::vector<long> start(static_cast<size_t>(maxD) + 2, 0);
  for (long i = 0; i < n; i++) start[buf[i] + 1]++;
  for (int d = 1; d <= maxD + 1; d++) start[d] += start[d - 1];
  for (long i = 0; i < n; i++) {
    const uint32_t d = buf[i];
    const long slot = start[d]++;
    if (slot < k) { ids[slot] = static_cast<int32_t>(i); dist[slot] = static_cast<int32_t>(d); }
  }
  for (long s = n; s < k; s++) { ids[s] = -1; dist[s] = -1; }
}

}  // namespace

void hammingDistances(Isa isa, const uint64_t* q, const uint64_t* db, long n, int W, uint16_t* out) {
  const HammingKernels& K = hammingKernels(isa);
  uint32_t buf[kChunk];
  for (long i = 0; i < n; i += kChunk) {
    const long len = std::min(kChunk, n - i);
    K.distances(q, db + i * W, len, W, buf);
    for (long j = 0; j < len; j++) out[i + j] = static_cast<uint16_t>(buf[j]);
  }
}

void hammingKnn(Isa isa, const uint64_t* queries, long nq, const uint64_t* db, long n, int W, int k, int32_t* outIds,
                int32_t* outDist, int threads) {
  const HammingKernels& K = hammingKernels(isa);
  // Queries are independent: split them across threads when there is enough work for each.
  const double work = static_cast<double>(nq) * n * W;
  int nt = static_cast<int>(std::max<long>(1, std::min<long>({static_cast<long>(threads), nq, static_cast<long>(work / 4e6)})));
  ThreadPool::instance().run(nt, [&](int t) {
    std::vector<uint32_t> buf;
    const long q0 = nq * t / nt, q1 = nq * (t + 1) / nt;
    for (long q = q0; q < q1; q++)
      knnOne(K, queries + q * W, db, n, W, k, outIds + q * k, outDist + q * k, buf);
  });
}

void hammingRange(Isa isa, const uint64_t* q, const uint64_t* db, long n, int W, long r, std::vector<int32_t>& ids,
                  std::vector<int32_t>& dist) {
  const HammingKernels& K = hammingKernels(isa);
  uint32_t buf[kChunk];
  for (long i = 0; i < n; i += kChunk) {
    const long len = std::min(kChunk, n - i);
    K.distances(q, db + i * W, len, W, buf);
    for (long j = 0; j < len; j++) {
      if (static_cast<long>(buf[j]) <= r) { ids.push_back(static_cast<int32_t>(i + j)); dist.push_back(static_cast<int32_t>(buf[j])); }
    }
  }
}

}  // namespace cmh
