// Server-side Hamming search in PostgreSQL against the in-process scan, in one run: N random
// 64-bit codes loaded into one PostgreSQL table and into codes sharded over postgres_fdw; the
// same queries answered by FlatIndex (the reference), the server scan, MIH radius and k-NN, and
// the sharded versions; latency (median, p95), queries/s with 1 and 2 concurrent clients, and the
// answers checked against the reference (mismatching queries counted).
//
// Queries are stored codes with each bit flipped with probability 0.05 (about 3 bits): each has
// a near neighbour, the rest of its 10-NN are as far as uniform codes make them (~15 bits at 1M).
// Without URLs it starts its own throwaway clusters (local-cluster.ts): one holding the single
// table, which is also the coordinator of the sharded table, and `shards` shard clusters, all on
// this machine — so the shards share its cores, and the sharded figures show the cost of the
// postgres_fdw path, not a speed-up.
import { loadavg } from 'node:os';
import pg from 'pg';
import { FlatIndex } from '../../index/flat.js';
import { PackedCodes } from '../../codes/packed-codes.js';
import { randomCodes } from '../../index/random-codes.js';
import { codesTableSql, insertCodesStatement } from '../../index/pg/code-columns.js';
import { startLocalCluster, type LocalCluster } from '../../index/pg/local-cluster.js';
import {
  MIH_SCAN_FALLBACK, explainSearch, knnOver, probePlan, rangeOver, type SearchPlan, type ServerHits, type SqlClient,
} from '../../index/pg/server-search.js';
import { analyzeShardedCodes, setupShardedCodes, shardServerFromUrl, type ShardedCodes } from '../../index/pg/shards.js';
import { getBackend } from '../../tensor/backends.js';
import { Rng } from '../../util/rng.js';

export interface PgSearchBenchOptions {
  /** Codes loaded (default 1,000,000). */
  n?: number;
  /** Timed queries per measurement (default 20; one more, untimed, warms up). */
  queries?: number;
  k?: number;
  /** MIH radius searches (default 3, 7, 11). */
  radii?: number[];
  /** Radii timed only to place the MIH-or-scan threshold (default 15, 19). */
  calibrationRadii?: number[];
  /** Single-node database (also the coordinator); default: a local cluster. */
  url?: string;
  /** Shard databases; default: `shards` local clusters. */
  shardUrls?: string[];
  shards?: number;
  seed?: number;
  /** Rows per INSERT statement while loading (default 50,000). */
  batch?: number;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
}

export interface PgSearchBenchRow {
  name: string;
  medianMs: number;
  p95Ms: number;
  /** medianMs over the in-process scan's median. */
  ratio: number;
  /** Queries per second with 1 and 2 concurrent clients (null: not measured). */
  qps1: number | null;
  qps2: number | null;
  /** Queries whose answer (keys, distances, order) differs from the in-process scan's. */
  mismatches: number;
  /** Plans used, e.g. "mih 20" or "mih 12, scan 8". */
  plans: string;
  /** MIH estimated work (radius rows), for the fallback threshold. */
  work?: number;
}

export interface PgSearchBenchResult {
  date: string;
  n: number;
  bits: number;
  queries: number;
  k: number;
  backend: string;
  postgres: string;
  shards: number;
  loadavgBefore: number[];
  loadavgAfter: number[];
  loadSingleMs: number;
  loadShardedMs: number;
  rows: PgSearchBenchRow[];
  /** EXPLAIN (VERBOSE, ANALYZE) of one sharded MIH 10-NN step and of the sharded scan (long arrays shortened). */
  explain: { mih: string; scan: string };
}

interface Answer { keys: number[]; distances: number[] }

const median = (xs: number[]): number => { const s = xs.slice().sort((a, b) => a - b); return s[Math.floor(s.length / 2)]!; };
/** Nearest-rank 95th percentile. */
const p95 = (xs: number[]): number => { const s = xs.slice().sort((a, b) => a - b); return s[Math.max(0, Math.ceil(0.95 * s.length) - 1)]!; };

function sameAnswer(a: Answer, b: Answer): boolean {
  return a.keys.length === b.keys.length && a.keys.every((x, i) => x === b.keys[i]) && a.distances.every((x, i) => x === b.distances[i]);
}

function plansOf(hits: ServerHits[]): string {
  const count = new Map<string, number>();
  for (const h of hits) count.set(h.plan, (count.get(h.plan) ?? 0) + 1);
  return [...count].map(([p, c]) => `${p} ${c}`).join(', ');
}

async function connect(url: string): Promise<pg.Client> {
  const c = new pg.Client(url);
  await c.connect();
  return c;
}

async function loadRows(db: SqlClient, table: string, codes: PackedCodes, batch: number): Promise<void> {
  for (let s = 0; s < codes.count; s += batch) {
    const e = Math.min(codes.count, s + batch), ords = Array.from({ length: e - s }, (_, i) => s + i);
    const st = insertCodesStatement(table, codes.slice(s, e), { segment: 1, ords, keys: ords.map((o) => o + 1) });
    await db.query(st.text, st.values);
  }
}

/** Stored codes with each bit flipped with probability `flip`. */
function nearQueries(rng: Rng, db: PackedCodes, count: number, flip: number): PackedCodes {
  const q = db.select(Array.from({ length: count }, () => rng.int(db.count)));
  for (let i = 0; i < count; i++) for (let j = 0; j < q.bits; j++) if (rng.uniform() < flip) q.data[i * q.stride + (j >>> 5)]! ^= 1 << (j & 31);
  return q;
}

export async function benchPgSearch(o: PgSearchBenchOptions = {}): Promise<PgSearchBenchResult> {
  const n = o.n ?? 1_000_000, nq = o.queries ?? 20, k = o.k ?? 10, bits = 64, batch = o.batch ?? 50_000;
  const radii = o.radii ?? [3, 7, 11], calibration = o.calibrationRadii ?? [15, 19], nShards = o.shardUrls?.length ?? o.shards ?? 2;
  const log = o.log ?? (() => undefined);
  const started: LocalCluster[] = [];
  const clients: pg.Client[] = [];
  const loadavgBefore = loadavg();
  try {
    // ---- clusters and connections ----
    let url = o.url, shardUrls = o.shardUrls;
    if (!url) { started.push(await startLocalCluster()); url = started.at(-1)!.url; }
    if (!shardUrls) {
      shardUrls = [];
      for (let i = 0; i < nShards; i++) { started.push(await startLocalCluster()); shardUrls.push(started.at(-1)!.url); }
    }
    const [main, second] = [await connect(url), await connect(url)];
    const shardClients = await Promise.all(shardUrls.map(connect));
    clients.push(main, second, ...shardClients);
    const postgres = (await main.query('SHOW server_version')).rows[0].server_version as string;

    // ---- data: the reference in-process index and the two server copies ----
    const rng = new Rng(o.seed ?? 1), codes = randomCodes(rng, n, bits), queries = nearQueries(rng, codes, nq + 1, 0.05);
    const flat = new FlatIndex(bits);
    flat.addTrusted(Array.from({ length: n }, (_, i) => String(i + 1)), codes);
    const table = 'bench_codes';
    log(`loading ${n} codes into one table`);
    let t0 = performance.now();
    await main.query(`DROP TABLE IF EXISTS ${table}`);
    await main.query(codesTableSql(table, bits, { chunkIndexes: false }));
    await loadRows(main, table, codes, batch);
    await main.query(codesTableSql(table, bits));
    await main.query(`VACUUM ANALYZE ${table}`);
    const loadSingleMs = performance.now() - t0;
    log(`loading ${n} codes through the sharded parent into ${nShards} shards`);
    t0 = performance.now();
    const sharded: ShardedCodes = await setupShardedCodes(main, shardClients, { table: 'bench_sharded', bits, shards: shardUrls.map(shardServerFromUrl) });
    await loadRows(main, sharded.table, codes, batch);
    for (const c of shardClients) await c.query(`VACUUM ANALYZE ${sharded.table}`);
    await analyzeShardedCodes(main, sharded);
    const loadShardedMs = performance.now() - t0;

    // ---- the reference: in-process scan ----
    const q = (i: number): PackedCodes => queries.slice(i, i + 1);
    const refKnn: Answer[] = [], inProcMs: number[] = [];
    flat.search(q(nq), k);
    for (let i = 0; i < nq; i++) {
      const t = performance.now(), h = flat.search(q(i), k)[0]!;
      inProcMs.push(performance.now() - t);
      refKnn.push({ keys: h.ids.map(Number), distances: [...h.distances] });
    }
    const refRange = (i: number, r: number): Answer => {
      // FlatIndex gives insertion (= ord) order; a stable sort by distance makes it (distance, ord)
      const h = flat.rangeSearch(q(i), r)[0]!, order = h.ids.map((_, j) => j).sort((a, b) => h.distances[a]! - h.distances[b]!);
      return { keys: order.map((j) => Number(h.ids[j])), distances: order.map((j) => h.distances[j]!) };
    };
    const inProc = median(inProcMs);
    const rows: PgSearchBenchRow[] = [{
      name: `in-process FlatIndex ${k}-NN (${getBackend().name})`, medianMs: inProc, p95Ms: p95(inProcMs), ratio: 1, qps1: null, qps2: null, mismatches: 0, plans: 'scan',
    }];

    // ---- server measurements ----
    type Search = (db: SqlClient, i: number) => Promise<ServerHits>;
    const measure = async (name: string, search: Search, ref: (i: number) => Answer, opts: { qps?: boolean; work?: number } = {}): Promise<void> => {
      log(name);
      await search(main, nq);
      const ms: number[] = [], hits: ServerHits[] = [];
      let mismatches = 0;
      for (let i = 0; i < nq; i++) {
        const t = performance.now(), h = await search(main, i);
        ms.push(performance.now() - t);
        hits.push(h);
        if (!sameAnswer(h, ref(i))) mismatches++;
      }
      let qps1: number | null = null, qps2: number | null = null;
      if (opts.qps) {
        let t = performance.now();
        for (let i = 0; i < nq; i++) await search(main, i);
        qps1 = nq / ((performance.now() - t) / 1000);
        t = performance.now();
        await Promise.all([main, second].map(async (c) => { for (let i = 0; i < nq; i++) await search(c, i); }));
        qps2 = (2 * nq) / ((performance.now() - t) / 1000);
      }
      const row: PgSearchBenchRow = { name, medianMs: median(ms), p95Ms: p95(ms), ratio: median(ms) / inProc, qps1, qps2, mismatches, plans: plansOf(hits) };
      if (opts.work !== undefined) row.work = opts.work;
      rows.push(row);
    };
    const knn = (rels: string[], plan: SearchPlan): Search => (db, i) => knnOver(db, rels, { bits, query: q(i), k, plan });
    const range = (rels: string[], r: number): Search => (db, i) => rangeOver(db, rels, { bits, query: q(i), radius: r, plan: 'mih' });
    for (const [label, rels] of [['server', [table]], [`sharded ×${nShards}`, sharded.partitions]] as const) {
      const relations = [...rels], perRelation = n / relations.length;
      await measure(`${label} scan ${k}-NN`, knn(relations, 'scan'), (i) => refKnn[i]!, { qps: true });
      for (const r of radii) await measure(`${label} MIH radius <= ${r}`, range(relations, r), (i) => refRange(i, r), { work: probePlan(bits, r, perRelation).work });
      await measure(`${label} MIH ${k}-NN`, knn(relations, 'mih'), (i) => refKnn[i]!, { qps: true });
      await measure(`${label} auto ${k}-NN`, knn(relations, 'auto'), (i) => refKnn[i]!, { qps: true });
      if (label === 'server') {
        for (const r of calibration) await measure(`${label} MIH radius <= ${r} (threshold check)`, range(relations, r), (i) => refRange(i, r), { work: probePlan(bits, r, perRelation).work });
      }
    }

    // ---- what the coordinator ships to the shards ----
    const shorten = (s: string): string => s.replace(/'\{[0-9,]{40,}\}'/g, (m) => `'{${m.slice(2, 20)}…}'`);
    const mihStep = probePlan(bits, 15, n / nShards).rho;
    const explain = {
      mih: shorten(await explainSearch(main, { relations: sharded.partitions, bits, query: q(0), rho: mihStep, maxDistance: 15, limit: k, order: 'distance' }, { analyze: true })),
      scan: shorten(await explainSearch(main, { relations: sharded.partitions, bits, query: q(0), rho: null, limit: k, order: 'distance' }, { analyze: true })),
    };
    return {
      date: new Date().toISOString(), n, bits, queries: nq, k, backend: getBackend().name, postgres, shards: nShards,
      loadavgBefore, loadavgAfter: loadavg(), loadSingleMs, loadShardedMs, rows, explain,
    };
  } finally {
    for (const c of clients) await c.end().catch(() => undefined);
    for (const c of started) c.stop();
  }
}

const fmt = (x: number | null, digits = 2): string => (x === null ? '—' : x >= 100 ? x.toFixed(0) : x.toFixed(digits));

/** The result as a Markdown table with a header of the run's conditions. */
export function formatPgSearchBench(r: PgSearchBenchResult): string {
  const lines = [
    `pg-search benchmark ${r.date}: ${r.n.toLocaleString('en-US')} random ${r.bits}-bit codes, ${r.queries} queries (stored codes, bits flipped with p = 0.05), k = ${r.k}`,
    `PostgreSQL ${r.postgres}, ${r.shards} shards + coordinator on this machine; in-process backend ${r.backend}; MIH fallback threshold ${MIH_SCAN_FALLBACK} · rows`,
    `load average before ${r.loadavgBefore.map((x) => x.toFixed(2)).join(' ')}, after ${r.loadavgAfter.map((x) => x.toFixed(2)).join(' ')}`,
    `load: one table ${(r.loadSingleMs / 1000).toFixed(1)} s (INSERT … unnest, then indexes, VACUUM ANALYZE); sharded ${(r.loadShardedMs / 1000).toFixed(1)} s (INSERT into the parent, routed by postgres_fdw into indexed shard tables)`,
    '',
    '| measurement | median ms | p95 ms | × in-process | q/s 1 client | q/s 2 clients | mismatches | plans | MIH work |',
    '|---|---:|---:|---:|---:|---:|---:|---|---:|',
    ...r.rows.map((x) => `| ${x.name} | ${fmt(x.medianMs, 3)} | ${fmt(x.p95Ms, 3)} | ${fmt(x.ratio, 1)} | ${fmt(x.qps1, 1)} | ${fmt(x.qps2, 1)} | ${x.mismatches} | ${x.plans} | ${x.work === undefined ? '' : Math.round(x.work)} |`),
  ];
  return lines.join('\n');
}
