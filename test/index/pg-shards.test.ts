import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { FlatIndex } from '../../src/index/flat.js';
import { PackedCodes } from '../../src/codes/packed-codes.js';
import { codesTableSql, insertCodesStatement } from '../../src/index/pg/code-columns.js';
import { localClusterUnavailable, startLocalCluster, type LocalCluster } from '../../src/index/pg/local-cluster.js';
import { explainSearch, probePlan, serverKnn, serverRange, type SearchPlan, type ServerHits } from '../../src/index/pg/server-search.js';
import {
  analyzeShardedCodes, coordinatorSetupSql, setupShardedCodes, shardServerFromUrl, shardedKnn, shardedRange, type ShardedCodes,
} from '../../src/index/pg/shards.js';
import { InputError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/rng.js';
import { clusteredCodes, nearQueries, randomCodes } from './helpers.js';

const unavailable = localClusterUnavailable();
const clusters: LocalCluster[] = [];
const clients: pg.Client[] = [];
/** coordinator (also holds the single-node copy), shard 0, shard 1 */
let coord: pg.Client, shard0: pg.Client, shard1: pg.Client;

before(async () => {
  if (unavailable) return;
  for (let i = 0; i < 3; i++) clusters.push(await startLocalCluster());
  for (const c of clusters) { const client = new pg.Client(c.url); await client.connect(); clients.push(client); }
  [coord, shard0, shard1] = clients as [pg.Client, pg.Client, pg.Client];
});

after(async () => {
  for (const c of clients) await c.end().catch(() => undefined);
  for (const c of clusters) c.stop();
});

interface Loaded { sharded: ShardedCodes; single: string; codes: PackedCodes; keys: number[]; segments: number[] }

/** The same rows into the sharded parent (routed to the shards) and into one table on the coordinator. */
async function load(table: string, codes: PackedCodes): Promise<Loaded> {
  const n = codes.count, bits = codes.bits;
  const sharded = await setupShardedCodes(coord, [shard0, shard1], {
    table, bits, shards: [shardServerFromUrl(clusters[1]!.url), shardServerFromUrl(clusters[2]!.url)],
  });
  const single = `${table}_single`;
  await coord.query(codesTableSql(single, bits));
  const ords = Array.from({ length: n }, (_, i) => 3 + 2 * i), keys = Array.from({ length: n }, (_, i) => 500 + ((i * 7919) % 100_003));
  const segments = Array.from({ length: n }, (_, i) => 1 + (i % 4));
  for (let s = 0; s < n; s += 1000) {
    const e = Math.min(n, s + 1000);
    const rows = { segment: segments.slice(s, e), ords: ords.slice(s, e), keys: keys.slice(s, e) };
    for (const t of [table, single]) { const st = insertCodesStatement(t, codes.slice(s, e), rows); await coord.query(st.text, st.values); }
  }
  for (const c of [shard0, shard1]) await c.query(`ANALYZE ${table}`);
  await coord.query(`ANALYZE ${single}`);
  await analyzeShardedCodes(coord, sharded);
  return { sharded, single, codes, keys, segments };
}

function flatOver(l: Loaded, segments?: number[]): FlatIndex {
  const pick = l.keys.map((_, i) => i).filter((i) => !segments || segments.includes(l.segments[i]!));
  const index = new FlatIndex(l.codes.bits);
  index.add(pick.map((i) => String(l.keys[i])), l.codes.select(pick));
  return index;
}

function same(got: ServerHits, want: ServerHits, what: string): void {
  assert.deepEqual([got.keys, got.ords, got.distances], [want.keys, want.ords, want.distances], what);
}

test('inserting into the parent routes every row to one shard by hash of key', async (t) => {
  if (unavailable) { t.skip(`PostgreSQL not available: ${unavailable}`); return; }
  const l = await load('codes_route', randomCodes(new Rng(3), 2000, 64));
  const counts = await Promise.all([shard0, shard1].map(async (c) => Number((await c.query('SELECT count(*) AS n FROM codes_route')).rows[0].n)));
  assert.equal(counts[0]! + counts[1]!, 2000);
  assert.ok(counts[0]! > 800 && counts[1]! > 800, `both shards hold rows: ${counts}`);
  // the shards' rows are exactly the partitions the coordinator sees
  for (const [i, c] of [shard0, shard1].entries()) {
    const remote = (await c.query('SELECT ord FROM codes_route ORDER BY ord')).rows.map((r) => r.ord);
    const local = (await coord.query(`SELECT ord FROM ${l.sharded.partitions[i]} ORDER BY ord`)).rows.map((r) => r.ord);
    assert.deepEqual(local, remote);
  }
  // an item's rows (one per model version) land on one shard
  const again = insertCodesStatement('codes_route', randomCodes(new Rng(4), 3, 64), { segment: 9, ords: [90001, 90002, 90003], keys: [l.keys[0]!, l.keys[1]!, l.keys[2]!] });
  await coord.query(again.text, again.values);
  const where = await coord.query(`SELECT key, count(DISTINCT tableoid) AS shards FROM codes_route WHERE key = ANY($1::bigint[]) GROUP BY key`, [l.keys.slice(0, 3)]);
  assert.deepEqual(where.rows.map((r) => Number(r.shards)), [1, 1, 1]);
});

test('sharded k-NN and radius search equal one table and FlatIndex (64 and 72 bits, ties, segments, both plans)', async (t) => {
  if (unavailable) { t.skip(`PostgreSQL not available: ${unavailable}`); return; }
  const rng = new Rng(21);
  for (const bits of [64, 72]) {
    const n = 2500;
    const codes = PackedCodes.concat([clusteredCodes(rng, n - 300, bits, 10, 0.04), randomCodes(rng, 4, bits).select(Array.from({ length: 300 }, () => rng.int(4)))]);
    const l = await load(`codes_${bits}`, codes), all = flatOver(l);
    const queries = PackedCodes.concat([nearQueries(rng, codes, 4, 0.03), codes.slice(n - 1), randomCodes(rng, 1, bits)]);
    for (let q = 0; q < queries.count; q++) {
      const query = queries.slice(q, q + 1), near = q < 5;
      for (const k of [1, 10, 150]) {
        for (const plan of (near ? ['auto', 'mih', 'scan'] : ['auto', 'scan']) as SearchPlan[]) {
          const got = await shardedKnn(coord, l.sharded, { query, k, plan });
          same(got, await serverKnn(coord, { table: l.single, bits, query, k, plan }), `${bits} bits query ${q} k ${k} ${plan}: sharded vs one table`);
          const want = all.search(query, k)[0]!;
          assert.deepEqual(got.keys.map(String), want.ids, `${bits} bits query ${q} k ${k} ${plan}: vs FlatIndex`);
        }
      }
      const r = Math.floor(bits / 8), segs = [2, 3];
      for (const plan of ['mih', 'scan'] as SearchPlan[]) {
        for (const order of ['distance', 'ord'] as const) {
          const got = await shardedRange(coord, l.sharded, { query, radius: r, order, plan });
          same(got, await serverRange(coord, { table: l.single, bits, query, radius: r, order, plan }), `${bits} bits radius ${r} ${order} ${plan}`);
        }
        const limited = await shardedRange(coord, l.sharded, { query, radius: r, limit: 5, plan });
        same(limited, await serverRange(coord, { table: l.single, bits, query, radius: r, limit: 5, plan }), `${bits} bits radius ${r} limit 5 ${plan}`);
        const some = await shardedKnn(coord, l.sharded, { query, k: 30, segments: segs, plan });
        assert.deepEqual(some.keys.map(String), flatOver(l, segs).search(query, 30)[0]!.ids, `${bits} bits segments ${segs} ${plan}`);
      }
    }
  }
});

test('EXPLAIN VERBOSE: each shard gets the distance, probes, radius, ORDER BY and LIMIT; the shards run asynchronously', async (t) => {
  if (unavailable) { t.skip(`PostgreSQL not available: ${unavailable}`); return; }
  const l = await load('codes_explain', randomCodes(new Rng(8), 1000, 64));
  const query = l.codes.slice(0, 1), plan = probePlan(64, 7, 500).rho;
  for (const rho of [plan, null]) {
    const text = await explainSearch(coord, { relations: l.sharded.partitions, bits: 64, query, rho, maxDistance: 7, limit: 10, order: 'distance', segments: [1, 2] });
    const remote = text.split('\n').filter((s) => s.includes('Remote SQL:'));
    assert.equal(remote.length, 2, text);
    assert.equal((text.match(/Async Foreign Scan/g) ?? []).length, 2, text);
    for (const sql of remote) {
      assert.match(sql, /ORDER BY bit_count\(.*\) ASC NULLS LAST, ord ASC NULLS LAST LIMIT 10/, sql);
      assert.match(sql, /bit_count\(.*\) <= 7/, sql);
      assert.match(sql, /segment = ANY/, sql);
      if (rho) assert.match(sql, /h0 = ANY .* OR \(h1 = ANY/, sql);
    }
  }
  // radius search without a limit: the filter goes to the shards, the order is the coordinator's
  const range = await explainSearch(coord, { relations: l.sharded.partitions, bits: 64, query, rho: plan, maxDistance: 7, order: 'ord' });
  assert.equal((range.match(/Async Foreign Scan/g) ?? []).length, 2, range);
  for (const sql of range.split('\n').filter((s) => s.includes('Remote SQL:'))) assert.match(sql, /<= 7\)\) AND \(\(\(h0 = ANY[^]*\)\)\)$/, sql);

});

test('shard setup: bad names and a second setup of the same table name the problem', async (t) => {
  assert.throws(() => coordinatorSetupSql({ table: 'Codes; DROP', bits: 64, shards: [] }), (e: Error) => e instanceof InputError && /plain lower-case identifier/.test(e.message));
  assert.throws(() => coordinatorSetupSql({ table: 'codes', bits: 64, shards: [] }), /at least one shard server/);
  assert.throws(() => shardServerFromUrl('mysql://x'), /not a postgresql:\/\/ URL/);
  assert.deepEqual(shardServerFromUrl('postgresql://u:p%40ss@127.0.0.1:5999/db'), { host: '127.0.0.1', port: 5999, dbname: 'db', user: 'u', password: 'p@ss' });
  if (unavailable) { t.skip(`PostgreSQL not available: ${unavailable}`); return; }
  await assert.rejects(
    setupShardedCodes(coord, [shard0, shard1], { table: 'codes_route', bits: 64, shards: [shardServerFromUrl(clusters[1]!.url), shardServerFromUrl(clusters[2]!.url)] }),
    /coordinator setup failed at "CREATE SERVER codes_route_shard0.*already exists/,
  );
});
