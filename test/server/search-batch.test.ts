// Batched searches (search-batcher.ts) and the scan worker (scan-offload.ts): many concurrent
// requests — mixed k, radius, modality and snapshots — must get exactly the answer a plain
// Hamming ranking gives (ties by stored position), on the event loop and on the worker alike.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildService } from '../../src/server/app.js';
import { CollectionRegistry } from '../../src/product/registry.js';
import { Collection } from '../../src/product/collection.js';
import { SnapshotIndex } from '../../src/index/snapshot-index.js';
import { PackedCodes } from '../../src/codes/packed-codes.js';
import { codeToHex } from '../../src/product/code-hex.js';
import { ScanOffload } from '../../src/server/scan-offload.js';
import { getBackend } from '../../src/tensor/backends.js';
import { randomCodes } from '../../src/index/random-codes.js';
import { Rng } from '../../src/util/rng.js';

function popcount(x: number): number { let c = 0; for (; x; x &= x - 1) c++; return c; }

function hamming(a: PackedCodes, i: number, b: PackedCodes): number {
  let d = 0;
  for (let w = 0; w < a.stride; w++) d += popcount((a.data[i * a.stride + w]! ^ b.data[w]!) >>> 0);
  return d;
}

/** Plain reference: all distances, stable sort by (distance, position). */
function exact(codes: PackedCodes, ids: string[], q: PackedCodes, k: number, radius?: number): { id: string; distance: number }[] {
  const all = ids.map((id, i) => ({ id, distance: hamming(codes, i, q), i }));
  all.sort((a, b) => a.distance - b.distance || a.i - b.i);
  return all.filter((h) => radius === undefined || h.distance <= radius).slice(0, k).map(({ id, distance }) => ({ id, distance }));
}

function build(n: number, bits: number, seed: number, index?: string) {
  const rng = new Rng(seed);
  const image = randomCodes(rng, n, bits), text = randomCodes(rng, n, bits);
  // duplicate codes so ties are common
  for (let i = 0; i < n; i += 7) text.data.copyWithin(i * text.stride, 0, text.stride);
  const ids = Array.from({ length: n }, (_, i) => `item-${i}`);
  return { rng, image, text, ids, collection: Collection.fromCodes('b', { ids, image, text }, index) };
}

test('SnapshotIndex.knn over a batch equals the index search and the plain ranking (odd sizes, 8–192 bits)', () => {
  for (const [n, bits] of [[1, 8], [37, 24], [513, 64], [1001, 136], [250, 192]] as const) {
    const rng = new Rng(n + bits);
    const codes = randomCodes(rng, n, bits), ids = Array.from({ length: n }, (_, i) => String(i));
    const queries = randomCodes(rng, 5, bits);
    for (const spec of ['flat', 'multi']) {
      const m = SnapshotIndex.build(ids, codes, spec);
      for (const k of [1, 3, n + 2]) {
        const hits = m.knn(queries.data, 5, k, k === 3 ? bits / 2 : undefined);
        for (let q = 0; q < 5; q++) {
          const want = exact(codes, ids, queries.slice(q, q + 1), k, k === 3 ? bits / 2 : undefined);
          assert.deepEqual(hits[q]!.ids.map((id, i) => ({ id, distance: hits[q]!.distances[i] })), want, `${spec} n=${n} bits=${bits} k=${k} q=${q}`);
        }
      }
    }
  }
  assert.throws(() => SnapshotIndex.build(['a'], PackedCodes.alloc(64, 1)).knn(new Uint32Array(3), 1, 1), /need 2 words, got 3/);
});

test('ScanOffload: the worker answers like the event-loop scan, across code sets', async (t) => {
  const offload = await ScanOffload.start();
  if (!offload) { t.skip(`no scan worker with the ${getBackend().name} backend (it needs the native addon)`); return; }
  try {
    for (const [n, bits, seed] of [[2049, 64, 1], [700, 128, 2], [15, 8, 3]] as const) {
      const rng = new Rng(seed);
      const codes = randomCodes(rng, n, bits), ids = Array.from({ length: n }, (_, i) => `x${i}`);
      const m = SnapshotIndex.build(ids, codes, 'flat');
      const queries = randomCodes(rng, 9, bits), k = Math.min(12, n);
      const want = m.knn(queries.data, 9, k);
      const { pos, dist } = await offload.knn(m, queries.data.slice(), 9, k);
      assert.deepEqual(m.hitsOf(pos, dist, 9, k), want, `n=${n} bits=${bits}`);
    }
  } finally {
    await offload.close();
  }
  assert.equal(offload.usable, false);
});

for (const [worker, index] of [[false, undefined], [true, undefined], [false, 'multi']] as const) {
  test(`concurrent searches, batched ${worker ? 'on the scan worker' : 'on the event loop'}${index ? `, ${index} index` : ''}, answer exactly`, async () => {
    const { rng, image, text, ids, collection } = build(3001, 64, worker ? 2 : 1, index);
    const registry = new CollectionRegistry();
    registry.add(collection);
    const app = await buildService({ collections: registry, processMetrics: false, scanWorker: worker, scanWorkerMinCodes: 0 });
    try {
      const asks = Array.from({ length: 60 }, (_, r) => {
        const modality = r % 2 ? 'image' as const : 'text' as const;
        const own = modality === 'image' ? image : text, other = modality === 'image' ? text : image;
        const src = rng.int(ids.length), q = own.slice(src, src + 1);
        const k = [1, 10, 10, 25][r % 4]!, radius = r % 5 === 0 ? 28 : undefined;
        const body = r % 3 === 0 ? { modality, query: { itemId: ids[src] }, k, radius } : { modality, query: { code: codeToHex(q, 0) }, k, radius };
        return { body, want: exact(other, ids, q, k, radius) };
      });
      const answers = await Promise.all(asks.map((a) => app.inject({ method: 'POST', url: '/api/collections/b/search', payload: a.body })));
      answers.forEach((res, i) => {
        assert.equal(res.statusCode, 200, res.body);
        const got = (JSON.parse(res.body) as { results: { id: string; distance: number }[] }).results.map(({ id, distance }) => ({ id, distance }));
        assert.deepEqual(got, asks[i]!.want, `request ${i}`);
      });
      // a bad request among good ones fails alone
      const mixed = await Promise.all([
        app.inject({ method: 'POST', url: '/api/collections/b/search', payload: { modality: 'image', query: { code: 'ab' }, k: 3 } }),
        app.inject({ method: 'POST', url: '/api/collections/b/search', payload: asks[0]!.body }),
      ]);
      assert.equal(mixed[0].statusCode, 400);
      assert.match(JSON.parse(mixed[0].body).message, /expected 16 hex digits/);
      assert.equal(mixed[1].statusCode, 200);
    } finally {
      await app.close();
      registry.close();
    }
  });
}
