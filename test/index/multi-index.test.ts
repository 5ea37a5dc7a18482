import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FlatIndex } from '../../src/index/flat.js';
import { MultiIndex, defaultSubstrings } from '../../src/index/multi-index.js';
import type { PackedCodes } from '../../src/codes/packed-codes.js';
import { InputError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/rng.js';
import { getBackend, getJsBackend } from '../../src/tensor/backends.js';
import { clusteredCodes, nearQueries, randomCodes } from './helpers.js';

function same(flat: FlatIndex, multi: MultiIndex, qs: PackedCodes, k: number, maxDistance?: number): void {
  const a = flat.search(qs, k, { maxDistance }), b = multi.search(qs, k, { maxDistance });
  for (let q = 0; q < qs.count; q++) {
    assert.deepEqual(b[q]!.ids, a[q]!.ids, `query ${q} k ${k} m ${multi.m}`);
    assert.deepEqual([...b[q]!.distances], [...a[q]!.distances]);
  }
}

test('multi-index answers equal the flat index (random and clustered codes, several m, ties by insertion)', () => {
  const rng = new Rng(21);
  for (const bits of [16, 64, 128]) {
    for (const kind of ['random', 'clustered'] as const) {
      const n = 1500;
      const db = kind === 'random' ? randomCodes(rng, n, bits) : clusteredCodes(rng, n, bits, 8, 0.04);
      const ids = Array.from({ length: n }, (_, i) => `c${i}`);
      const qs = kind === 'random' ? randomCodes(rng, 6, bits) : nearQueries(rng, db, 6, 0.06);
      const flat = new FlatIndex(bits);
      flat.add(ids, db);
      for (const m of [undefined, Math.ceil(bits / 32), Math.ceil(bits / 32) + 1, Math.min(bits, 9)]) {
        // scanFallback: Infinity forces the substring search so the pigeonhole logic is what is tested;
        // on wide random codes that would enumerate C(32, 12)-sized balls, so there the default budget
        // (and possibly the scan fallback) applies
        const forced = kind === 'clustered' || bits === 16;
        const multi = new MultiIndex(bits, { m, scanFallback: forced ? Infinity : undefined });
        multi.add(ids.slice(0, 700), db.slice(0, 700));
        multi.add(ids.slice(700), db.slice(700));
        for (const k of [1, 10, 100]) same(flat, multi, qs, k);
        same(flat, multi, qs, 20, Math.floor(bits / 8));
        for (const r of [0, 2, Math.floor(bits / 6)]) assert.deepEqual(multi.rangeSearch(qs, r), flat.rangeSearch(qs, r));
        if (forced) assert.equal(multi.fallbacks, 0);
      }
    }
  }
});

test('multi-index stays exact after removals and additions, and on fallback to the scan', () => {
  const rng = new Rng(22), bits = 64, n = 2000;
  const db = clusteredCodes(rng, n, bits, 5, 0.05), ids = Array.from({ length: n }, (_, i) => `z${i}`);
  const flat = new FlatIndex(bits), multi = new MultiIndex(bits, { scanFallback: Infinity });
  flat.add(ids, db); multi.add(ids, db);
  const qs = nearQueries(rng, db, 5, 0.08);
  same(flat, multi, qs, 15);
  const drop = ids.filter((_, i) => i % 4 === 1);
  flat.remove(drop); multi.remove(drop);
  same(flat, multi, qs, 15);
  const more = clusteredCodes(rng, 100, bits, 2, 0.05), moreIds = Array.from({ length: 100 }, (_, i) => `new${i}`);
  flat.add(moreIds, more); multi.add(moreIds, more);
  same(flat, multi, qs, 50);
  // a tiny budget forces the exact scan fallback — same answers again
  const tiny = new MultiIndex(bits, { scanFallback: 0 });
  tiny.add(flat.ids(), flat.codes());
  same(flat, tiny, randomCodes(rng, 4, bits), 10);
  assert.deepEqual(tiny.rangeSearch(qs, 9), flat.rangeSearch(qs, 9));
  assert.ok(tiny.fallbacks > 0);
});

test('multi-index: native and portable kernels give the same answers (direct and hashed tables)', (t) => {
  if (getBackend().name !== 'native') { t.skip('native addon not active: only the portable kernels exist (checked against the flat index above)'); return; }
  const rng = new Rng(23), bits = 64, n = 3000;
  const db = clusteredCodes(rng, n, bits, 6, 0.05), ids = Array.from({ length: n }, (_, i) => `p${i}`);
  const qs = nearQueries(rng, db, 8, 0.06);
  const flat = new FlatIndex(bits);
  flat.add(ids, db);
  for (const m of [2, 4]) { // m = 2: 32-bit substrings, hashed tables
    const portable = new MultiIndex(bits, { m, backend: getJsBackend(), scanFallback: Infinity });
    const active = new MultiIndex(bits, { m, scanFallback: Infinity });
    portable.add(ids, db); active.add(ids, db);
    for (const k of [1, 10, 64]) { same(flat, portable, qs, k); same(flat, active, qs, k); }
    for (const r of [0, 4, 9]) assert.deepEqual(active.rangeSearch(qs, r), portable.rangeSearch(qs, r));
  }
});

test('multi-index edge cases: empty index, k > N, default m, bad m', () => {
  const empty = new MultiIndex(64);
  const q = randomCodes(new Rng(3), 1, 64);
  assert.deepEqual(empty.search(q, 5)[0]!.ids, []);
  const small = new MultiIndex(64);
  small.add(['a', 'b'], randomCodes(new Rng(4), 2, 64));
  assert.equal(small.search(q, 5)[0]!.ids.length, 2);
  // about log2 N bits per substring, at most 16 for >= 64-bit codes at N >= 2^19 (65,536-bucket tables)
  assert.equal(defaultSubstrings(64, 1_000_000), 4);
  assert.equal(defaultSubstrings(64, 10_000_000), 4);
  assert.equal(defaultSubstrings(64, 100_000), 4);
  assert.equal(defaultSubstrings(32, 1_000_000), 2);
  assert.equal(defaultSubstrings(128, 1_000_000), 8);
  assert.equal(defaultSubstrings(64, 1), 64 / 1 > 64 ? 64 : 64);
  assert.throws(() => new MultiIndex(64, { m: 1 }), InputError); // a substring must fit 32 bits
  assert.throws(() => small.search(q, 0), InputError);
  assert.throws(() => small.rangeSearch(q, -1), InputError);
});
