import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { FlatIndex } from '../../src/index/flat.js';
import { PackedCodes } from '../../src/codes/packed-codes.js';
import { codesTableSql, insertCodesStatement } from '../../src/index/pg/code-columns.js';
import { localClusterUnavailable, startLocalCluster, type LocalCluster } from '../../src/index/pg/local-cluster.js';
import { chunkNeighbours, probePlan, serverKnn, serverRange, type SearchPlan, type ServerHits } from '../../src/index/pg/server-search.js';
import { InputError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/rng.js';
import { clusteredCodes, nearQueries, randomCodes } from './helpers.js';

const unavailable = localClusterUnavailable();
let cluster: LocalCluster | null = null;
let db: pg.Client | null = null;

before(async () => {
  if (unavailable) return;
  cluster = await startLocalCluster();
  db = new pg.Client(cluster.url);
  await db.connect();
});

after(async () => {
  await db?.end();
  cluster?.stop();
});

/** A codes table in the code-columns layout, and the same codes in ord order for FlatIndex. */
interface Loaded { table: string; bits: number; codes: PackedCodes; keys: number[]; ords: number[]; segments: number[] }

/** Low-entropy codes: every code is one of a handful of values (ties everywhere). */
function fewValues(rng: Rng, n: number, bits: number, values: number): PackedCodes {
  const pool = randomCodes(rng, values, bits);
  return pool.select(Array.from({ length: n }, () => rng.int(values)));
}

async function load(c: pg.Client, table: string, codes: PackedCodes, rng: Rng): Promise<Loaded> {
  const n = codes.count;
  // ords increase with gaps (a store's counter after removals); keys are a shuffled, unrelated set
  const ords = Array.from({ length: n }, (_, i) => 7 + 5 * i + (i % 5));
  const keys = Array.from({ length: n }, (_, i) => 1000 + i * 11);
  for (let i = n - 1; i > 0; i--) { const j = rng.int(i + 1); [keys[i], keys[j]] = [keys[j]!, keys[i]!]; }
  const segments = Array.from({ length: n }, (_, i) => 1 + (i % 3));
  await c.query(codesTableSql(table, codes.bits, { chunkIndexes: false }));
  // rows arrive out of ord order: the search must order by ord, not by physical position
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => ((a * 7919) % n) - ((b * 7919) % n));
  const st = insertCodesStatement(table, codes.select(order), {
    segment: order.map((i) => segments[i]!), ords: order.map((i) => ords[i]!), keys: order.map((i) => keys[i]!),
  });
  await c.query(st.text, st.values);
  await c.query(codesTableSql(table, codes.bits));
  await c.query(`ANALYZE ${table}`);
  return { table, bits: codes.bits, codes, keys, ords, segments };
}

function flatOver(l: Loaded, segments?: number[]): FlatIndex {
  const pick = l.keys.map((_, i) => i).filter((i) => !segments || segments.includes(l.segments[i]!));
  const index = new FlatIndex(l.bits);
  index.add(pick.map((i) => String(l.keys[i])), l.codes.select(pick));
  return index;
}

function assertSame(got: ServerHits, want: { ids: string[]; distances: Int32Array }, what: string): void {
  assert.deepEqual(got.keys.map(String), want.ids, `${what}: keys`);
  assert.deepEqual(got.distances, [...want.distances], `${what}: distances`);
}

test('chunk neighbours and probe plans: every code within r is a candidate', () => {
  assert.deepEqual(chunkNeighbours(0b1010, 4, 1).sort((a, b) => a - b), [0b0010, 0b1000, 0b1010, 0b1011, 0b1110]);
  assert.equal(chunkNeighbours(123, 16, 2).length, 1 + 16 + 120);
  assert.equal(new Set(chunkNeighbours(5, 8, 8)).size, 256);
  for (const bits of [24, 64, 72, 128]) {
    const m = Math.ceil(bits / 16);
    for (let r = 0; r <= bits; r++) {
      const p = probePlan(bits, r, 1e6);
      assert.equal(p.rho.length, m);
      // pigeonhole: a code missed by every probe has distance >= Σ(ρ_j + 1) > r
      assert.ok(p.rho.reduce((s, x) => s + x + 1, 0) >= Math.min(r + 1, bits + m), `bits ${bits} r ${r}: ${p.rho}`);
    }
  }
  // the 8-bit last chunk of 72-bit codes (n/256 rows per value) is probed after the 16-bit ones
  assert.deepEqual(probePlan(72, 3, 1e6).rho, [0, 0, 0, 0, -1]);
  assert.deepEqual(probePlan(72, 4, 1e6).rho, [1, 0, 0, 0, -1]);
  assert.deepEqual(probePlan(64, 0, 1e6).rho, [0, -1, -1, -1]);
});

test('server k-NN and radius search equal FlatIndex at 24, 64, 72 and 128 bits (ties, segments, both plans)', async (t) => {
  if (unavailable) { t.skip(`PostgreSQL not available: ${unavailable}`); return; }
  const c = db!, rng = new Rng(5);
  for (const bits of [24, 64, 72, 128]) {
    const n = 1500;
    // clustered codes (near ties) then a block of low-entropy codes (exact ties)
    const codes = PackedCodes.concat([clusteredCodes(rng, n - 400, bits, 8, 0.04), fewValues(rng, 400, bits, 6)]);
    const l = await load(c, `codes_${bits}`, codes, rng);
    const all = flatOver(l);
    const queries = PackedCodes.concat([nearQueries(rng, codes, 5, 0.03), codes.slice(n - 3, n - 2), randomCodes(rng, 2, bits)]);
    for (let q = 0; q < queries.count; q++) {
      const query = queries.slice(q, q + 1);
      for (const k of [1, 10, 137, n + 5]) {
        const want = all.search(query, k)[0]!;
        // forced MIH only for queries near the data and k below n: far neighbours need chunk
        // radii whose probe lists run to thousands of values (what 'auto' avoids by scanning)
        const plans: SearchPlan[] = q < 6 && k < n ? ['auto', 'mih', 'scan'] : ['auto', 'scan'];
        for (const plan of plans) {
          const got = await serverKnn(c, { table: l.table, bits, query, k, plan });
          assertSame(got, want, `${bits} bits, query ${q}, k ${k}, ${plan}`);
          if (plan !== 'auto') assert.equal(got.plan, plan);
        }
      }
      const r = Math.floor(bits / 8);
      const wantK = all.search(query, 20, { maxDistance: r })[0]!;
      for (const plan of ['mih', 'scan'] as SearchPlan[]) {
        assertSame(await serverKnn(c, { table: l.table, bits, query, k: 20, radius: r, plan }), wantK, `${bits} bits k-NN within ${r}, ${plan}`);
        const range = await serverRange(c, { table: l.table, bits, query, radius: r, order: 'ord', plan });
        assertSame(range, all.rangeSearch(query, r)[0]!, `${bits} bits radius ${r} in ord order, ${plan}`);
        const byDistance = await serverRange(c, { table: l.table, bits, query, radius: r, plan });
        assertSame(byDistance, all.search(query, n, { maxDistance: r })[0]!, `${bits} bits radius ${r} by distance, ${plan}`);
        const limited = await serverRange(c, { table: l.table, bits, query, radius: r, limit: 7, plan });
        assertSame(limited, all.search(query, 7, { maxDistance: r })[0]!, `${bits} bits radius ${r} limit 7, ${plan}`);
      }
      // a model version's segments only
      const segs = [1, 3], some = flatOver(l, segs);
      for (const plan of ['mih', 'scan'] as SearchPlan[]) {
        assertSame(await serverKnn(c, { table: l.table, bits, query, k: 25, segments: segs, plan }), some.search(query, 25)[0]!, `${bits} bits segments ${segs}, ${plan}`);
      }
      assert.deepEqual((await serverKnn(c, { table: l.table, bits, query, k: 5, segments: [] })).keys, []);
    }
  }
});

test('the auto plan: MIH for near neighbours, the scan when the probes would cost more', async (t) => {
  if (unavailable) { t.skip(`PostgreSQL not available: ${unavailable}`); return; }
  const c = db!, rng = new Rng(9), bits = 64;
  const codes = randomCodes(rng, 3000, bits), l = await load(c, 'codes_uniform', codes, rng), all = flatOver(l);
  const near = codes.slice(10, 11);
  // `rows` stands in for a large table: the same probes then look cheap next to its scan
  const hit = await serverKnn(c, { table: l.table, bits, query: near, k: 1, rows: 1e6 });
  assert.equal(hit.plan, 'mih');
  assert.equal(hit.statements, 1);
  assertSame(hit, all.search(near, 1)[0]!, 'exact match');
  const far = randomCodes(rng, 1, bits);
  const scanned = await serverKnn(c, { table: l.table, bits, query: far, k: 10 });
  assert.equal(scanned.plan, 'scan');
  assertSame(scanned, all.search(far, 10)[0]!, 'far query');
  // a pool lends one client per search
  const pool = new pg.Pool({ connectionString: cluster!.url, max: 2 });
  try {
    const answers = await Promise.all([0, 1, 2, 3].map((i) => serverKnn(pool, { table: l.table, bits, query: codes.slice(i, i + 1), k: 3 })));
    answers.forEach((a, i) => assertSame(a, all.search(codes.slice(i, i + 1), 3)[0]!, `pool query ${i}`));
  } finally { await pool.end(); }
});

test('server search bad input names the problem', async (t) => {
  if (unavailable) { t.skip(`PostgreSQL not available: ${unavailable}`); return; }
  const c = db!, q = PackedCodes.alloc(64, 1);
  await assert.rejects(serverKnn(c, { table: 'codes; DROP TABLE x', bits: 64, query: q, k: 1 }), (e: Error) => e instanceof InputError && /not a table name/.test(e.message));
  await assert.rejects(serverKnn(c, { table: 'codes_64', bits: 64, query: PackedCodes.alloc(32, 1), k: 1 }), /query has 32 bits, the codes table holds 64-bit/);
  await assert.rejects(serverKnn(c, { table: 'codes_64', bits: 64, query: PackedCodes.alloc(64, 2), k: 1 }), /one query code, got 2/);
  await assert.rejects(serverKnn(c, { table: 'codes_64', bits: 64, query: q, k: 0 }), /k must be a positive integer/);
  await assert.rejects(serverRange(c, { table: 'codes_64', bits: 64, query: q, radius: -1 }), /radius must be a non-negative integer/);
});
