import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FlatIndex } from '../../src/index/flat.js';
import { PackedCodes } from '../../src/codes/packed-codes.js';
import { createIndex, loadIndex } from '../../src/index/factory.js';
import { CorruptDataError, InputError, NotFoundError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/rng.js';
import { bruteKnn, clusteredCodes, randomCodes } from './helpers.js';

test('flat k-NN equals brute force; ties by insertion order; maxDistance; batch', () => {
  const rng = new Rng(11);
  for (const bits of [8, 64, 72, 256]) {
    const db = clusteredCodes(rng, 300, bits, 6, 0.05), ids = Array.from({ length: 300 }, (_, i) => `id${i}`);
    const index = new FlatIndex(bits);
    index.add(ids.slice(0, 120), db.slice(0, 120));
    index.add(ids.slice(120), db.slice(120));
    const qs = clusteredCodes(rng, 7, bits, 3, 0.2);
    for (const k of [1, 10, 299, 500]) {
      const hits = index.search(qs, k);
      for (let q = 0; q < qs.count; q++) {
        const want = bruteKnn(db, ids, qs, q, k);
        assert.deepEqual(hits[q]!.ids, want.map((w) => w.id));
        assert.deepEqual([...hits[q]!.distances], want.map((w) => w.d));
      }
    }
    const md = Math.floor(bits / 4), hits = index.search(qs, 50, { maxDistance: md });
    for (let q = 0; q < qs.count; q++) assert.deepEqual(hits[q]!.ids, bruteKnn(db, ids, qs, q, 50, md).map((w) => w.id));
  }
});

test('flat range search is d <= r inclusive, in insertion order; removal keeps the order of the rest', () => {
  const rng = new Rng(12), bits = 16, db = clusteredCodes(rng, 200, bits, 4, 0.1);
  const ids = Array.from({ length: 200 }, (_, i) => `x${i}`);
  const index = new FlatIndex(bits);
  index.add(ids, db);
  const q = db.slice(3, 4);
  const r = 3, got = index.rangeSearch(q, r)[0]!;
  const want = ids.map((id, i) => ({ id, d: q.distance(0, db, i) })).filter((x) => x.d <= r);
  assert.deepEqual(got.ids, want.map((w) => w.id));
  assert.ok(got.distances.includes(r) || !want.some((w) => w.d === r));
  const drop = ids.filter((_, i) => i % 3 === 0);
  assert.equal(index.remove(drop), drop.length);
  assert.equal(index.size, 200 - drop.length);
  const keptIds = ids.filter((_, i) => i % 3 !== 0), kept = db.select(ids.map((_, i) => i).filter((i) => i % 3 !== 0));
  const hits = index.search(q, 40)[0]!;
  assert.deepEqual(hits.ids, bruteKnn(kept, keptIds, q, 0, 40).map((w) => w.id));
  index.add(['x0'], db.slice(0, 1)); // a removed id may come back, at the end of the order
  assert.equal(index.ids().at(-1), 'x0');
});

test('flat bad input: code width, duplicate ids, k <= 0, r < 0, unknown ids — index unchanged', () => {
  const index = new FlatIndex(64), codes = randomCodes(new Rng(1), 3, 64);
  index.add(['a', 'b', 'c'], codes);
  assert.throws(() => index.add(['d'], PackedCodes.alloc(32, 1)), /32 bits, the index holds 64-bit/);
  assert.throws(() => index.add(['d', 'd'], codes.slice(0, 2)), /appears twice/);
  assert.throws(() => index.add(['a'], codes.slice(0, 1)), /already in the index/);
  assert.throws(() => index.add(['e', 'f'], codes.slice(0, 1)), /2 ids but 1 codes/);
  assert.throws(() => index.add([''], codes.slice(0, 1)), InputError);
  assert.throws(() => index.search(codes, 0), /k must be a positive integer/);
  assert.throws(() => index.search(codes, 1.5), InputError);
  assert.throws(() => index.search(PackedCodes.alloc(16, 1), 1), /16 bits/);
  assert.throws(() => index.rangeSearch(codes, -1), /non-negative/);
  assert.throws(() => index.search(codes, 1, { maxDistance: -2 }), InputError);
  assert.throws(() => index.remove(['a', 'zz']), NotFoundError);
  assert.equal(index.size, 3);
  assert.deepEqual(index.ids(), ['a', 'b', 'c']);
  assert.ok(index.codes().equals(codes));
});

test('save/load round trip for every kind; truncated index file → CorruptDataError', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cmhash-index-'));
  try {
    const rng = new Rng(5), db = randomCodes(rng, 50, 64), ids = db.toSigns().length ? Array.from({ length: 50 }, (_, i) => `i${i}`) : [];
    for (const spec of ['flat', 'multi', 'multi:m=4']) {
      const index = createIndex(spec, 64);
      index.add(ids, db);
      const p = join(dir, `${spec.replace(/[:=]/g, '_')}.idx`);
      index.save(p);
      const back = loadIndex(p);
      assert.equal(back.kind, index.kind);
      assert.deepEqual(back.ids(), ids);
      assert.ok(back.codes().equals(db));
      assert.deepEqual(back.search(db.slice(0, 2), 5), index.search(db.slice(0, 2), 5));
      const bytes = readFileSync(p);
      writeFileSync(p, bytes.subarray(0, bytes.length - 100));
      assert.throws(() => loadIndex(p), CorruptDataError);
    }
    assert.throws(() => createIndex('hnsw', 64), InputError);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});
