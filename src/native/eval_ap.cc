// Fused AP kernel (see eval_ap.h), no sort:
//   pass 1: key = 2·distance + relevant for every item (bytes for 64-bit codes; AVX-512 VPOPCNTDQ
//           computes 8 at a time);
//   pass 2: items in database order; each takes the next slot of its distance bucket (its rank
//           within the bucket under a stable counting sort) and relevant ones are appended,
//           branch-free, to a short list with that slot;
//   then the per-distance counts give the bucket starts, and one loop over the relevant list (in
//   database order) adds (#relevant so far)/(rank) — no branch on relevance in the long loop.
// The floating-point sums are accumulated in the same order (database order) and with the same
// operations as the TypeScript loop in src/tensor/backend-js.ts, so results are bit-identical.
#include <immintrin.h>
#include <algorithm>
#include <vector>
#include "eval_ap.h"
#include "hamming.h"
#include "thread_pool.h"

namespace cmh {

namespace {


/** Keys of items [0, n) for query q: 2·distance + relevant (generic widths). */
template <class Pop, class Key>
void keysGeneric(Pop pop, const ApBlockArgs& a, long q, Key* keys) {
  const int W = a.W, L = a.labelWords;
  const uint64_t* qc = a.queries + q * W;
  const uint32_t* ql = a.qLabels + q * L;
  for (long i = 0; i < a.n; i++) {
    const uint64_t* c = a.db + i * W;
    int d = 0;
    for (int w = 0; w < W; w++) d += pop(load64(qc + w) ^ load64(c + w));
    uint32_t any = 0;
    const uint32_t* dl = a.dLabels + i * L;
    for (int w = 0; w < L; w++) any |= ql[w] & dl[w];
    keys[i] = static_cast<Key>((d << 1) | (any != 0 ? 1 : 0));
  }
}

/** 64-bit codes, one label word: the common case. */
template <class Pop>
void keys64(Pop pop, const ApBlockArgs& a, long q, uint8_t* keys) {
  const uint64_t qc = load64(a.queries + q);
  const uint32_t ql = a.qLabels[q];
  const uint64_t* db = a.db;
  const uint32_t* dl = a.dLabels;
  for (long i = 0; i < a.n; i++)
    keys[i] = static_cast<uint8_t>((pop(qc ^ load64(db + i)) << 1) | ((ql & dl[i]) != 0 ? 1 : 0));
}

CMH_TARGET_AVX512POP void keys64Avx512(const ApBlockArgs& a, long q, uint8_t* keys) {
  const __m512i qc = _mm512_set1_epi64(static_cast<long long>(load64(a.queries + q)));
  const __m256i ql = _mm256_set1_epi32(static_cast<int>(a.qLabels[q]));
  const __m512i one = _mm512_set1_epi64(1);
  long i = 0;
  for (; i + 8 <= a.n; i += 8) {
    const __m512i d = _mm512_popcnt_epi64(_mm512_xor_si512(_mm512_loadu_si512(a.db + i), qc));
    const __mmask8 rel = _mm256_test_epi32_mask(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.dLabels + i)), ql);
    const __m512i key = _mm512_mask_add_epi64(_mm512_slli_epi64(d, 1), rel, _mm512_slli_epi64(d, 1), one);
    _mm_storel_epi64(reinterpret_cast<__m128i*>(keys + i), _mm512_cvtepi64_epi8(key));
  }
  const uint64_t q0 = load64(a.queries + q);
  for (; i < a.n; i++)
    keys[i] = static_cast<uint8_t>((__builtin_popcountll(q0 ^ load64(a.db + i)) << 1) | ((a.qLabels[q] & a.dLabels[i]) != 0 ? 1 : 0));
}

/** Per-thread scratch and the ranking of one query from its keys. */
template <class Key>
struct Ranker {
  const ApBlockArgs& a;
  int maxD;  // largest distance the code width allows (64·W)
  std::vector<Key> keys;
  std::vector<int32_t> cnt, relCnt, start, relCur;
  std::vector<uint32_t> relC;  // relevant items in database order: rank within their distance bucket
  std::vector<uint16_t> relD;  // ... and their distance

  Ranker(const ApBlockArgs& args) : a(args), maxD(64 * args.W), keys(static_cast<size_t>(args.n)),
    cnt(maxD + 1), relCnt(maxD + 1), start(maxD + 1), relCur(maxD + 1),
    relC(static_cast<size_t>(args.n) + 1), relD(static_cast<size_t>(args.n) + 1) {}

  void rank(long q) {
    const long n = a.n;
    const Key* kk = keys.data();
    int32_t* c = cnt.data();
    uint32_t* rc = relC.data();
    uint16_t* rd = relD.data();
    std::fill(cnt.begin(), cnt.end(), 0);
    // one pass in database order: every item takes the next slot of its distance bucket (its rank
    // there under a stable sort); relevant items are appended branch-free with that slot
    long nr = 0;
    for (long i = 0; i < n; i++) {
      const unsigned key = kk[i], d = key >> 1;
      rc[nr] = static_cast<uint32_t>(c[d]++);
      rd[nr] = static_cast<uint16_t>(d);
      nr += key & 1;
    }
    std::fill(relCnt.begin(), relCnt.end(), 0);
    for (long j = 0; j < nr; j++) relCnt[rd[j]]++;
    const int outH = 2 * (a.bits + 1);
    int32_t* hq = a.hist + q * outH;
    for (int d = 0; 2 * d < outH; d++) {
      hq[2 * d] = d <= maxD ? cnt[d] - relCnt[d] : 0;
      hq[2 * d + 1] = d <= maxD ? relCnt[d] : 0;
    }
    int32_t cum = 0, cumRel = 0;
    for (int d = 0; d <= maxD; d++) { start[d] = cum; relCur[d] = cumRel; cum += cnt[d]; cumRel += relCnt[d]; }

    const int T = a.nTopK, S = a.nCutoffs;
    double* apK = a.apKSum + q * T;
    int32_t* relK = a.relInK + q * T;
    int32_t* relCut = a.relAtCut + q * S;
    for (int t = 0; t < T; t++) { apK[t] = 0; relK[t] = 0; }
    for (int s = 0; s < S; s++) relCut[s] = 0;
    // relevant items in database order: rank = bucket start + slot; precision = relevant so far / rank
    double ap = 0;
    int32_t* rcur = relCur.data();
    const int32_t* st = start.data();
    if (T == 0 && S == 0) {
      for (long j = 0; j < nr; j++) {
        const unsigned d = rd[j];
        const int32_t pos = st[d] + static_cast<int32_t>(rc[j]), rr = ++rcur[d];
        ap += static_cast<double>(rr) / static_cast<double>(pos + 1);
      }
    } else {
      for (long j = 0; j < nr; j++) {
        const unsigned d = rd[j];
        const int32_t pos = st[d] + static_cast<int32_t>(rc[j]), rr = ++rcur[d];
        const double prec = static_cast<double>(rr) / static_cast<double>(pos + 1);
        ap += prec;
        for (int t = 0; t < T; t++) if (pos < a.topK[t]) { apK[t] += prec; relK[t]++; }
        for (int s = 0; s < S; s++) if (pos < a.cutoffs[s]) relCut[s]++;
      }
    }
    a.apSum[q] = ap;
  }
};

template <class Key>
void runBlock(Isa isa, const ApBlockArgs& a, int threads) {
  const bool vpop = sizeof(Key) == 1 && isa == Isa::Avx512 && cpuFeatures().avx512vpopcntdq && isaSupported(Isa::Avx512);
  const bool hw = isa != Isa::Generic && cpuFeatures().popcnt;
  // one thread per at least ~4M item visits: below that a wake-up costs more than it saves
  const double work = static_cast<double>(a.nq) * static_cast<double>(a.n);
  const int nt = static_cast<int>(std::max<long>(1, std::min<long>({static_cast<long>(threads), a.nq, static_cast<long>(work / 4e6)})));
  ThreadPool::instance().run(nt, [&](int t) {
    Ranker<Key> R(a);
    for (long q = a.nq * t / nt; q < a.nq * (t + 1) / nt; q++) {
      Key* keys = R.keys.data();
      if constexpr (sizeof(Key) == 1) {
        if (a.W == 1 && a.labelWords == 1) {
          if (vpop) keys64Avx512(a, q, keys);
          else if (hw) keys64(PopHw{}, a, q, keys);
          else keys64(PopSw{}, a, q, keys);
        } else if (hw) keysGeneric(PopHw{}, a, q, keys);
        else keysGeneric(PopSw{}, a, q, keys);
      } else {
        if (hw) keysGeneric(PopHw{}, a, q, keys); else keysGeneric(PopSw{}, a, q, keys);
      }
      R.rank(q);
    }
  });
}

}  // namespace

void apBlock(Isa isa, const ApBlockArgs& a, int threads) {
  if (a.nq <= 0) return;
  if (a.W == 1) runBlock<uint8_t>(isa, a, threads);  // keys up to 2·64+1 fit a byte
  else runBlock<uint16_t>(isa, a, threads);
}

}  // namespace cmh
