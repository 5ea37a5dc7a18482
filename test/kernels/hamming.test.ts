// Hamming kernels on every backend and native variant against brute force: 8..1024-bit codes,
// many ties (codes drawn from a small pool), n < k, large k (counting path), several queries,
// unaligned views, and range search with d <= r inclusive.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/util/rng.js';
import { refDistance, refKnn, refRange } from './reference.js';
import { backendsUnderTest } from './backends-under-test.js';

/** n random codes of `bits` bits packed in words64 words (unused high bits zero); a pool of
 * `distinct` codes when given, so that many distances tie. `offset` shifts the view by one uint32. */
function randomCodes(rng: Rng, n: number, bits: number, distinct = 0, offset = 0): Uint32Array {
  const words64 = Math.ceil(bits / 64), w = 2 * words64;
  const make = () => {
    const code = new Uint32Array(w);
    for (let b = 0; b < bits; b += 32) {
      const take = Math.min(32, bits - b);
      code[b >> 5] = take === 32 ? rng.nextU32() : rng.nextU32() & ((1 << take) - 1);
    }
    return code;
  };
  const pool = distinct > 0 ? Array.from({ length: distinct }, make) : null;
  const buf = new Uint32Array(n * w + offset);
  const out = buf.subarray(offset);
  for (let i = 0; i < n; i++) out.set(pool ? pool[rng.int(distinct)]! : make(), i * w);
  return out;
}

const widths = [8, 16, 32, 64, 100, 128, 192, 256, 320, 512, 1024];

for (const { label, backend, skip } of backendsUnderTest()) {
  test(`hamming ${label}: distances match brute force for 8..1024-bit codes`, (t) => {
    if (!backend) { t.skip(skip); return; }
    const rng = new Rng(5);
    for (const bits of widths) {
      const words64 = Math.ceil(bits / 64);
      for (const n of [0, 1, 7, 33, 300]) {
        const db = randomCodes(rng, n, bits, 0, n % 2), q = randomCodes(rng, 1, bits);
        const out = new Uint16Array(n);
        backend.hammingDistances(q, db, n, words64, out);
        for (let i = 0; i < n; i++) assert.equal(out[i], refDistance(q, 0, db, i, words64), `bits ${bits} n ${n} i ${i}`);
      }
    }
    // hand-checked: 0b1011 vs 0b0110 differ in 3 bits; vs all 64 bits set, in 64 - 3
    const out = new Uint16Array(2);
    backend.hammingDistances(Uint32Array.from([0b1011, 0]), Uint32Array.from([0b0110, 0, 0xffffffff, 0xffffffff]), 2, 1, out);
    assert.deepEqual(Array.from(out), [3, 64 - 3]);
  });

  test(`hamming ${label}: kNN ordered by (distance, position), ties by position, n < k`, (t) => {
    if (!backend) { t.skip(skip); return; }
    const rng = new Rng(9);
    for (const bits of widths) {
      const words64 = Math.ceil(bits / 64);
      for (const [n, distinct] of [[0, 0], [3, 0], [50, 4], [700, 0], [2100, 6]] as const) {
        const db = randomCodes(rng, n, bits, distinct, 1);
        const nq = 3;
        const qs = randomCodes(rng, nq, bits);
        for (const k of [1, 5, 10, 70, n + 3]) {
          const ids = new Int32Array(nq * k).fill(-7), dist = new Int32Array(nq * k).fill(-7);
          backend.hammingKnn(qs, nq, db, n, words64, k, ids, dist);
          for (let q = 0; q < nq; q++) {
            const ref = refKnn(qs, q * 2 * words64, db, n, words64, k);
            assert.deepEqual(Array.from(ids.subarray(q * k, q * k + k)), ref.ids, `ids bits ${bits} n ${n} k ${k} q ${q}`);
            assert.deepEqual(Array.from(dist.subarray(q * k, q * k + k)), ref.dist, `dist bits ${bits} n ${n} k ${k} q ${q}`);
          }
        }
      }
    }
  });

  test(`hamming ${label}: kNN batch large enough to run on several threads`, (t) => {
    if (!backend) { t.skip(skip); return; }
    const rng = new Rng(13);
    const n = 20000, nq = 210, k = 4;
    const db = randomCodes(rng, n, 64, 500), qs = randomCodes(rng, nq, 64);
    const threads = backend.getThreads();
    backend.setThreads(2);
    try {
      const ids = new Int32Array(nq * k), dist = new Int32Array(nq * k);
      backend.hammingKnn(qs, nq, db, n, 1, k, ids, dist);
      for (const q of [0, 1, 104, 105, 209]) {
        const ref = refKnn(qs, q * 2, db, n, 1, k);
        assert.deepEqual(Array.from(ids.subarray(q * k, q * k + k)), ref.ids, `query ${q}`);
        assert.deepEqual(Array.from(dist.subarray(q * k, q * k + k)), ref.dist, `query ${q}`);
      }
    } finally {
      backend.setThreads(threads);
    }
  });

  test(`hamming ${label}: range search d <= r inclusive, in position order`, (t) => {
    if (!backend) { t.skip(skip); return; }
    const rng = new Rng(21);
    for (const bits of [8, 64, 128, 200, 1024]) {
      const words64 = Math.ceil(bits / 64);
      const n = 900;
      const db = randomCodes(rng, n, bits, 40), q = randomCodes(rng, 1, bits);
      const mid = refDistance(q, 0, db, 0, words64);
      for (const r of [0, mid - 1, mid, mid + 3, 64 * words64]) {
        const got = backend.hammingRange(q, db, n, words64, r);
        const ref = refRange(q, db, n, words64, r);
        assert.deepEqual(Array.from(got.ids), ref.ids, `ids bits ${bits} r ${r}`);
        assert.deepEqual(Array.from(got.dist), ref.dist, `dist bits ${bits} r ${r}`);
        if (r === mid) assert.ok(got.ids.includes(0), 'distance exactly r is included');
      }
    }
  });
}
