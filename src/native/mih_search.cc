// Multi-index hashing probe (see mih_search.h). Correctness argument (Norouzi et al.): once every
// table has been probed at substring radius ρ−1 and the first a+1 tables at radius ρ, every code
// within full distance m·ρ + a has been seen, so k-NN stops as soon as the k-th best distance is
// within that guaranteed radius.
//
// De-duplication needs no visited bitmap: a candidate met in table a at radius ρ was already met
// iff a table probed before it has its substring that close (tables < a within ρ, tables > a
// within ρ−1). And only candidates that could enter the top-k need that check: one seen before and
// rejected then is rejected again (the bound only tightens).
#include <algorithm>
#include <utility>
#include "hamming.h"
#include "mih_search.h"
#include "thread_pool.h"

namespace cmh {

namespace {


/** `len` (<= 32) bits of a W-word code starting at bit `off`. */
inline uint32_t substring(const uint64_t* c, int off, int len) {
  const int wi = off >> 6, sh = off & 63;
  uint64_t v = load64(c + wi) >> sh;
  if (sh + len > 64) v |= load64(c + wi + 1) << (64 - sh);
  return static_cast<uint32_t>(v & ((1ULL << len) - 1));
}

/** Bucket of substring value v: [*s, *e), false when empty. */
inline bool bucketOf(const MihTable& t, uint32_t v, uint32_t* s, uint32_t* e) {
  if (t.slots == nullptr) { *s = t.starts[v]; *e = t.starts[v + 1]; return *e > *s; }
  uint32_t h = (v * 0x9e3779b1u) >> t.shift;
  for (;;) {
    const int32_t b = t.slots[h];
    if (b < 0) return false;
    if (t.keys[b] == v) { *s = t.starts[b]; *e = t.starts[b + 1]; return true; }
    h = (h + 1) & t.slotMask;
  }
}

double binomial(int n, int k) {
  if (k < 0 || k > n) return 0;
  double r = 1;
  for (int i = 1; i <= k; i++) r = r * (n - k + i) / i;
  return static_cast<double>(static_cast<long long>(r + 0.5));
}

// Work units of one bucket probe, relative to one candidate verified: a probe is two dependent
// cache misses (bucket start, then the bucket's codes), a candidate a sequential 8-byte read and a
// SIMD popcount. The portable twin (src/tensor/backend-js.ts) counts the same way.
constexpr double kProbeWork = 16;
constexpr int kProbeBatch = 32;  // bucket lookups issued (with prefetches) before any is scanned

/** Shared state of one query's probe: query substrings, work counter, per-candidate checks. */
template <class Pop>
struct Prober {
  Pop pop;
  const MihIndex& ix;
  const uint64_t* q;
  int m, W;
  std::vector<uint32_t> qv;
  std::vector<uint64_t> x;
  double work = 0;

  Prober(const MihIndex& ix_, const uint64_t* q_) : ix(ix_), q(q_), m(static_cast<int>(ix_.tables.size())), W(ix_.W), qv(m), x(W) {
    for (int a = 0; a < m; a++) qv[a] = substring(q, ix.tables[a].offset, ix.tables[a].length);
  }

  /** True when a table probed before (table a at radius rho) already produced this code. */
  bool seenBefore(const uint64_t* c, int a, int rho) {
    if (W == 1) {
      const uint64_t xx = load64(q) ^ load64(c);
      for (int b = 0; b < m; b++) {
        if (b == a) continue;
        const MihTable& u = ix.tables[b];
        const int sd = pop((xx >> u.offset) & ((1ULL << u.length) - 1));
        if (b < a ? sd <= rho : sd < rho) return true;
      }
      return false;
    }
    for (int w = 0; w < W; w++) x[w] = load64(q + w) ^ load64(c + w);
    for (int b = 0; b < m; b++) {
      if (b == a) continue;
      const MihTable& u = ix.tables[b];
      const int sd = pop(substring(x.data(), u.offset, u.length));
      if (b < a ? sd <= rho : sd < rho) return true;
    }
    return false;
  }

  int maxLength() const {
    int L = 0;
    for (const MihTable& t : ix.tables) L = std::max(L, t.length);
    return L;
  }

  /**
   * Probes tables at radius 0, 1, ...: onBucket(codes, items, count, a, rho) for every probed
   * bucket; done(R) after each table with the guaranteed radius R. False when over budget.
   */
  template <class OnBucket, class Done>
  bool run(int maxRho, double budget, OnBucket&& onBucket, Done&& done) {
    // Probes are independent random reads: they are issued in batches — substring values first
    // (prefetching their bucket starts), then the bucket ranges (prefetching the buckets' codes),
    // then the scans — so the cache misses overlap instead of queueing.
    uint32_t vals[kProbeBatch], bs[kProbeBatch], be[kProbeBatch];
    for (int rho = 0; rho <= maxRho; rho++) {
      for (int a = 0; a < m; a++) {
        const MihTable& t = ix.tables[a];
        if (rho <= t.length) {
          const double probes = binomial(t.length, rho) * kProbeWork;
          if (work + probes > budget) return false;
          const uint64_t end = 1ULL << t.length;
          uint64_t mask = rho == 0 ? 0 : (1ULL << rho) - 1;  // Gosper's hack: next mask of equal weight
          bool more = true;
          while (more) {
            int nb = 0;
            while (nb < kProbeBatch && more) {
              const uint32_t v = qv[a] ^ static_cast<uint32_t>(mask);
              vals[nb++] = v;
              if (t.slots == nullptr) __builtin_prefetch(t.starts + v);
              if (rho == 0) { more = false; break; }
              const uint64_t c = mask & (~mask + 1), r = mask + c;
              mask = (((r ^ mask) >> 2) / c) | r;
              more = mask < end;
            }
            int nr = 0;
            for (int i = 0; i < nb; i++) {
              uint32_t s, e;
              if (!bucketOf(t, vals[i], &s, &e)) continue;
              bs[nr] = s; be[nr] = e; nr++;
              // all cache lines of a small bucket (a bucket of 10–20 codes spans 2–3 lines, which
              // the hardware prefetcher does not pick up); positions are read only for survivors
              const char* p0 = reinterpret_cast<const char*>(t.codes + static_cast<long>(s) * W);
              const long bytes = std::min<long>(static_cast<long>(e - s) * W * 8, 512);
              for (long off = 0; off < bytes; off += 64) __builtin_prefetch(p0 + off);
            }
            for (int i = 0; i < nr; i++) {
              work += be[i] - bs[i];
              onBucket(t.codes + static_cast<long>(bs[i]) * W, t.items + bs[i], static_cast<long>(be[i] - bs[i]), a, rho);
              if (work > budget) return false;
            }
          }
          work += probes;
          if (work > budget) return false;
        }
        if (done(static_cast<long>(m) * rho + a)) return true;
      }
    }
    return true;
  }
};

constexpr long kChunk = 512;  // distances per kernel call (stays in L1)

/** Per-thread scratch: the top-k keys and a distance buffer for the vectorised bucket scan. */
struct Scratch {
  std::vector<uint64_t> top;
  uint32_t buf[kChunk];
};

template <class Pop>
long knnImpl(const HammingKernels& K, const MihIndex& ix, const uint64_t* q, int k, int maxD, double budget,
             int32_t* ids, int32_t* dist, Scratch& S) {
  if (ix.n == 0 || ix.tables.empty()) return 0;
  Prober<Pop> P(ix, q);
  const int limitD = std::min(maxD, 64 * ix.W), W = ix.W;
  std::vector<uint64_t>& top = S.top;
  top.clear();
  uint64_t bound = ~0ULL;          // key (distance << 32 | position) a candidate must be below to enter
  uint32_t boundD = static_cast<uint32_t>(limitD);  // ... so its distance must be <= this
  const bool ok = P.run(P.maxLength(), budget,
    [&](const uint64_t* codes, const int32_t* items, long count, int a, int rho) {
      for (long j0 = 0; j0 < count; j0 += kChunk) {
        const long len = std::min(kChunk, count - j0);
        K.distances(q, codes + j0 * W, len, W, S.buf);  // SIMD popcount where the CPU has it
        for (long j = 0; j < len; j++) {
          const uint32_t d = S.buf[j];
          if (__builtin_expect(d > boundD, 1)) continue;
          const uint64_t key = (static_cast<uint64_t>(d) << 32) | static_cast<uint32_t>(items[j0 + j]);
          if (key >= bound || P.seenBefore(codes + (j0 + j) * W, a, rho)) continue;
          size_t i = top.size();
          if (i < static_cast<size_t>(k)) top.push_back(key); else i--;
          while (i > 0 && top[i - 1] > key) { top[i] = top[i - 1]; i--; }
          top[i] = key;
          if (top.size() == static_cast<size_t>(k)) { bound = top[k - 1]; boundD = std::min(boundD, static_cast<uint32_t>(bound >> 32)); }
        }
      }
    },
    [&](long R) {
      if (top.size() == static_cast<size_t>(k) && static_cast<long>(top[k - 1] >> 32) <= R) return true;
      return R >= limitD;
    });
  if (!ok) return -1;
  for (size_t i = 0; i < top.size(); i++) { ids[i] = static_cast<int32_t>(top[i] & 0xFFFFFFFFu); dist[i] = static_cast<int32_t>(top[i] >> 32); }
  return static_cast<long>(top.size());
}

template <class Pop>
bool rangeImpl(const HammingKernels& K, const MihIndex& ix, const uint64_t* q, int r, double budget,
               std::vector<int32_t>& ids, std::vector<int32_t>& dist) {
  if (ix.n == 0 || ix.tables.empty()) return true;
  Prober<Pop> P(ix, q);
  const int lim = std::min(r, 64 * ix.W), m = P.m;
  std::vector<uint64_t> hits;  // position << 32 | distance, sorted by position at the end
  // radius floor(r/m) in every table guarantees m·floor(r/m) + m − 1 >= r
  const int W = ix.W;
  uint32_t buf[kChunk];
  const bool ok = P.run(lim / m, budget,
    [&](const uint64_t* codes, const int32_t* items, long count, int a, int rho) {
      for (long j0 = 0; j0 < count; j0 += kChunk) {
        const long len = std::min(kChunk, count - j0);
        K.distances(q, codes + j0 * W, len, W, buf);
        for (long j = 0; j < len; j++) {
          const uint32_t d = buf[j];
          if (d > static_cast<uint32_t>(lim) || P.seenBefore(codes + (j0 + j) * W, a, rho)) continue;
          hits.push_back((static_cast<uint64_t>(static_cast<uint32_t>(items[j0 + j])) << 32) | d);
        }
      }
    },
    [&](long R) { return R >= lim; });
  if (!ok) return false;
  std::sort(hits.begin(), hits.end());
  ids.resize(hits.size()); dist.resize(hits.size());
  for (size_t i = 0; i < hits.size(); i++) { ids[i] = static_cast<int32_t>(hits[i] >> 32); dist[i] = static_cast<int32_t>(hits[i] & 0xFFFFFFFFu); }
  return true;
}

bool useHwPopcnt(Isa isa) { return isa != Isa::Generic && cpuFeatures().popcnt; }

}  // namespace

long mihKnn(Isa isa, const MihIndex& ix, const uint64_t* q, int k, int maxD, double budget, int32_t* ids,
            int32_t* dist) {
  Scratch S;
  S.top.reserve(static_cast<size_t>(k));
  const HammingKernels& K = hammingKernels(isa);
  return useHwPopcnt(isa) ? knnImpl<PopHw>(K, ix, q, k, maxD, budget, ids, dist, S)
                          : knnImpl<PopSw>(K, ix, q, k, maxD, budget, ids, dist, S);
}

void mihKnnBatch(Isa isa, const MihIndex& ix, const uint64_t* queries, long nq, int k, int maxD, double budget,
                 int32_t* ids, int32_t* dist, int32_t* count, int threads) {
  // a probe takes tens of microseconds: only batches of several queries per thread are worth a wake-up
  const int nt = static_cast<int>(std::max<long>(1, std::min<long>(threads, nq / 8)));
  const bool hw = useHwPopcnt(isa);
  const HammingKernels& K = hammingKernels(isa);
  ThreadPool::instance().run(nt, [&](int t) {
    Scratch S;
    S.top.reserve(static_cast<size_t>(k));
    for (long qi = nq * t / nt; qi < nq * (t + 1) / nt; qi++) {
      const uint64_t* q = queries + qi * ix.W;
      int32_t* oi = ids + qi * k;
      int32_t* od = dist + qi * k;
      count[qi] = static_cast<int32_t>(hw ? knnImpl<PopHw>(K, ix, q, k, maxD, budget, oi, od, S)
                                          : knnImpl<PopSw>(K, ix, q, k, maxD, budget, oi, od, S));
    }
  });
}

bool mihRange(Isa isa, const MihIndex& ix, const uint64_t* q, int r, double budget, std::vector<int32_t>& ids,
              std::vector<int32_t>& dist) {
  const HammingKernels& K = hammingKernels(isa);
  return useHwPopcnt(isa) ? rangeImpl<PopHw>(K, ix, q, r, budget, ids, dist) : rangeImpl<PopSw>(K, ix, q, r, budget, ids, dist);
}

}  // namespace cmh
