// The multi-index probe (mihKnn, mihRange) and the fused ranking kernel (rankingBlock) on every
// backend and native variant: against brute force, and native against the portable twin
// bit for bit. Tables come from MultiIndex.build() (direct and hashed tables, substrings that
// straddle 64-bit words, codes drawn from a small pool so that distances tie).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/util/rng.js';
import { PackedCodes } from '../../src/codes/packed-codes.js';
import { MultiIndex } from '../../src/index/multi-index.js';
import { getJsBackend } from '../../src/tensor/backends.js';
import type { MihTables, RankingBlock } from '../../src/tensor/backend.js';
import { refDistance, refKnn, refRange } from './reference.js';
import { backendsUnderTest } from './backends-under-test.js';

/** n codes: copies of a few random centres with each bit flipped with probability `flip`. */
function nearCodes(rng: Rng, n: number, bits: number, centres: number, flip: number): PackedCodes {
  const c = PackedCodes.alloc(bits, n), s = c.stride;
  const cs = Array.from({ length: centres }, () => Array.from({ length: bits }, () => rng.uniform() < 0.5));
  for (let i = 0; i < n; i++) {
    const centre = cs[rng.int(centres)]!;
    for (let j = 0; j < bits; j++) if (centre[j] !== rng.uniform() < flip) c.data[i * s + (j >>> 5)]! |= 1 << (j & 31);
  }
  return c;
}

/** Copies of random database codes with each bit flipped with probability `flip`. */
function nearQueries(rng: Rng, db: PackedCodes, count: number, flip: number): PackedCodes {
  const q = db.select(Array.from({ length: count }, () => rng.int(db.count)));
  for (let i = 0; i < count; i++) for (let j = 0; j < q.bits; j++) if (rng.uniform() < flip) q.data[i * q.stride + (j >>> 5)]! ^= 1 << (j & 31);
  return q;
}

// [bits, m]: direct 8..16-bit tables, hashed 25..32-bit ones, substrings crossing 64-bit words
const shapes = [[16, 2], [64, 3], [64, 2], [64, 4], [104, 5], [128, 9], [128, 5], [200, 8]] as const;

for (const { label, backend, skip } of backendsUnderTest()) {
  test(`mih ${label}: k-NN and range equal brute force (ties by position, maxDistance, budget)`, (t) => {
    if (!backend) { t.skip(skip); return; }
    assert.ok(backend.mihKnn && backend.mihRange, 'backend implements the multi-index kernels');
    const rng = new Rng(31);
    for (const [bits, m] of shapes) {
      const n = 400, words64 = Math.ceil(bits / 64), stride = 2 * words64;
      const db = nearCodes(rng, n, bits, 5, 0.04);
      // half the codes repeat earlier ones exactly: many equal distances
      for (let i = n / 2; i < n; i++) { const src = rng.int(n / 2); db.data.copyWithin(i * stride, src * stride, (src + 1) * stride); }
      const index: MultiIndex = new MultiIndex(bits, { m, backend });
      index.add(Array.from({ length: n }, (_, i) => `x${i}`), db);
      const tables: MihTables = index.build();
      assert.equal(tables.tables.length, m);
      const qs = nearQueries(rng, db, 4, 0.05);
      for (const k of [1, 7, 40]) {
        for (const maxD of [bits, Math.floor(bits / 6)]) {
          const ids = new Int32Array(qs.count * k).fill(-9), dist = new Int32Array(qs.count * k).fill(-9), cnt = new Int32Array(qs.count);
          backend.mihKnn(tables, qs.data, qs.count, k, maxD, Infinity, ids, dist, cnt);
          for (let q = 0; q < qs.count; q++) {
            const ref = refKnn(qs.data, q * stride, db.data, n, words64, k);
            const keep = ref.dist.filter((d) => d >= 0 && d <= maxD).length;
            const what = `bits ${bits} m ${m} k ${k} maxD ${maxD} q ${q}`;
            assert.equal(cnt[q], keep, what);
            assert.deepEqual(Array.from(ids.subarray(q * k, q * k + keep)), ref.ids.slice(0, keep), what);
            assert.deepEqual(Array.from(dist.subarray(q * k, q * k + keep)), ref.dist.slice(0, keep), what);
          }
        }
      }
      // a zero budget: every query reports -1 (the caller scans instead)
      const cnt = new Int32Array(qs.count);
      backend.mihKnn(tables, qs.data, qs.count, 5, bits, 0, new Int32Array(5 * qs.count), new Int32Array(5 * qs.count), cnt);
      assert.deepEqual(Array.from(cnt), new Array(qs.count).fill(-1));
      for (const r of [0, 3, Math.floor(bits / 5)]) {
        for (let q = 0; q < qs.count; q++) {
          const hits: { ids: Int32Array; dist: Int32Array } = backend.mihRange(tables, qs.data.subarray(q * stride, (q + 1) * stride), r, Infinity)!;
          const ref = refRange(qs.data.subarray(q * stride, (q + 1) * stride), db.data, n, words64, r);
          assert.deepEqual(Array.from(hits.ids), ref.ids, `range bits ${bits} m ${m} r ${r}`);
          assert.deepEqual(Array.from(hits.dist), ref.dist);
        }
      }
      assert.equal(backend.mihRange(tables, qs.data.subarray(0, stride), bits, 0), null);
    }
  });

  test(`rankingBlock ${label}: histogram and AP sums equal brute force, bit-identical to the portable kernel`, (t) => {
    if (!backend) { t.skip(skip); return; }
    assert.ok(backend.rankingBlock, 'backend implements rankingBlock');
    const rng = new Rng(32);
    for (const [bits, classes, n, pool] of [[64, 24, 333, 0], [64, 5, 257, 6], [8, 3, 40, 0], [128, 40, 190, 5], [200, 70, 101, 0]] as const) {
      const words64 = Math.ceil(bits / 64), stride = 2 * words64, nq = 7, lw = Math.ceil(classes / 32);
      const dbc = nearCodes(rng, n, bits, 3, 0.2);
      const queries = nearQueries(rng, dbc, nq, 0.1).data;
      if (pool) for (let i = pool; i < n; i++) { const src = rng.int(pool); dbc.data.copyWithin(i * stride, src * stride, (src + 1) * stride); }
      const masks = (rows: number) => {
        const out = new Uint32Array(rows * lw);
        for (let i = 0; i < rows; i++) for (let c = 0; c < classes; c++) if (rng.uniform() < 0.15) out[i * lw + (c >>> 5)]! |= 1 << (c & 31);
        return out;
      };
      const qLabels = masks(nq), dLabels = masks(n);
      const topK = Int32Array.from([1, 10, 1000]), cutoffs = Int32Array.from([1, 5, 50]);
      const make = (): RankingBlock => ({
        queries, nq, db: dbc.data, n, words64, bits, qLabels, dLabels, labelWords: lw, topK, cutoffs,
        hist: new Int32Array(nq * 2 * (bits + 1)).fill(-5), apSum: new Float64Array(nq).fill(-5),
        apKSum: new Float64Array(nq * 3).fill(-5), relInK: new Int32Array(nq * 3).fill(-5), relAtCut: new Int32Array(nq * 3).fill(-5),
      });
      const got: RankingBlock = make();
      const twin: RankingBlock = make();
      backend.rankingBlock(got);
      getJsBackend().rankingBlock(twin);
      // The native kernel against the portable one (for the portable backend itself the brute force below is the check).
      if (backend.name !== 'js') for (const key of ['hist', 'apSum', 'apKSum', 'relInK', 'relAtCut'] as const) {
        assert.deepEqual(Array.from(got[key]), Array.from(twin[key]), `${key} bits ${bits}: same as the portable kernel`);
      }
      for (let q = 0; q < nq; q++) {
        // brute force: full sort by (distance, index)
        const items = Array.from({ length: n }, (_, i) => {
          let rel = false;
          for (let w = 0; w < lw; w++) if ((qLabels[q * lw + w]! & dLabels[i * lw + w]!) !== 0) rel = true;
          return { i, d: refDistance(queries, q * stride, dbc.data, i, words64), rel };
        }).sort((a, b) => a.d - b.d || a.i - b.i);
        const hist = new Array(2 * (bits + 1)).fill(0);
        for (const it of items) hist[2 * it.d + (it.rel ? 1 : 0)]++;
        assert.deepEqual(Array.from(got.hist.subarray(q * 2 * (bits + 1), (q + 1) * 2 * (bits + 1))), hist);
        let hits = 0, ap = 0;
        const apK = [0, 0, 0], inK = [0, 0, 0], atCut = [0, 0, 0];
        items.forEach((it, rank) => {
          if (!it.rel) return;
          hits++;
          const prec = hits / (rank + 1);
          ap += prec;
          topK.forEach((K, j) => { if (rank < K) { apK[j]! += prec; inK[j]!++; } });
          cutoffs.forEach((N, j) => { if (rank < N) atCut[j]!++; });
        });
        assert.ok(Math.abs(got.apSum[q]! - ap) <= 1e-9 * Math.max(1, ap), `AP sum q ${q}: ${got.apSum[q]} vs ${ap}`);
        for (let j = 0; j < 3; j++) {
          assert.ok(Math.abs(got.apKSum[q * 3 + j]! - apK[j]!) <= 1e-9 * Math.max(1, apK[j]!));
          assert.equal(got.relInK[q * 3 + j], inK[j]);
          assert.equal(got.relAtCut[q * 3 + j], atCut[j]);
        }
      }
    }
  });
}
