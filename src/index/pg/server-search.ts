// Exact Hamming search in SQL over codes tables laid out as in code-columns.ts: k-NN and radius
// search answered by the server, identical to FlatIndex over the same codes in `ord` order
// (answers ordered by (distance, ord); ord is the store's insertion order).
//
// Two plans, both exact:
// - scan: every row's distance, `ORDER BY d, ord LIMIT k` (a parallel seq scan + top-N sort).
// - multi-index (MIH): the chunk columns h_j have btree indexes; the client enumerates, per chunk,
//   the chunk values within a chunk radius ρ_j of the query's chunk and asks for
//   `(h0 = ANY(..) OR h1 = ANY(..) …) AND d <= r` (a BitmapOr of index scans). Pigeonhole, the
//   finer form (Norouzi et al., CVPR 2012): a code missed by every probe has d_j > ρ_j on every
//   chunk, so d >= Σ(ρ_j + 1); probes with Σ(ρ_j + 1) >= r + 1 find every code within r
//   (ρ_j = −1: chunk j not probed). k-NN widens r until k codes within r are found: all codes with
//   d <= r are candidates, so the top k of them by (d, ord) is the exact answer.
// When the probes would cost more than scanning (far neighbours, e.g. uniformly random codes)
// the search uses the scan; see MIH_SCAN_FALLBACK.
//
// Several relations (the shards' foreign tables, see shards.ts) are searched as a UNION ALL of
// per-relation `(SELECT … ORDER BY d, ord LIMIT k)` under an outer `ORDER BY d, ord LIMIT k`,
// so each relation's top k is computed where its rows live.
import type { PackedCodes } from '../../codes/packed-codes.js';
import { InputError } from '../../util/errors.js';
import { CHUNK_BITS, chunkColumns, codeChunks, codeWords, hammingSql } from './code-columns.js';

/** What the searches need of a connection: pg's Client, PoolClient or Pool. */
export interface SqlClient {
  query(text: string, values?: unknown[]): Promise<{ rows: any[] }>;
}

export type SearchPlan = 'auto' | 'mih' | 'scan';

export interface ServerSearchOptions {
  /** Codes table, as it appears in SQL (quote it yourself if it needs quotes), e.g. `codes` or `"My Codes"`. */
  table: string;
  bits: number;
  /** Only codes of these segments (a model version's segments); null/undefined = all rows. */
  segments?: readonly number[] | null;
  /** One code of `bits` bits. */
  query: PackedCodes;
  /** 'auto' (default): MIH unless its probes cost more than the scan. 'mih' never falls back. */
  plan?: SearchPlan;
  /** Rows in the table, for the MIH-or-scan choice (default: pg_class.reltuples, cached 10 s). */
  rows?: number;
}

export interface ServerKnnOptions extends ServerSearchOptions {
  k: number;
  /** Only neighbours with distance <= radius. */
  radius?: number;
}

export interface ServerRangeOptions extends ServerSearchOptions {
  radius: number;
  /** At most this many codes (the first ones in the chosen order). */
  limit?: number;
  /** 'distance' (default): by (distance, ord), as k-NN; 'ord': insertion order, as FlatIndex.rangeSearch. */
  order?: 'distance' | 'ord';
}

export interface ServerHits {
  /** Item keys (codes.key), nearest first. */
  keys: number[];
  ords: number[];
  distances: number[];
  /** The plan that produced the answer. */
  plan: 'mih' | 'scan';
  /** SQL statements run (the MIH k-NN widens its radius one statement at a time). */
  statements: number;
  /** MIH: the radius of the last probe (every code within it was a candidate). */
  probeRadius?: number;
}

/**
 * MIH falls back to the scan when its estimated work — Σ_j V_j · (1 + n / 2^L_j) over probed
 * chunks (V_j chunk values probed, n/2^L_j rows expected per value for uniform codes) — exceeds
 * this fraction of the rows n. Measured with `node scripts/bench-pg-search.mjs` on 1,000,000
 * uniform 64-bit codes (two runs on a loaded 2-core machine, docs/experiments/2026-12-postgres-search.md):
 * MIH radius 15 (work 45,330 ≈ 0.05 n) took 26.6 / 37.8 ms, radius 19 (work 163,693 ≈ 0.16 n)
 * 147 / 221 ms, the scan 248 / 190 ms (medians). The crossover lies near 0.16 n; 0.1 stays below it.
 */
export const MIH_SCAN_FALLBACK = 0.1;
/** Assumed rows when the table has never been analysed (reltuples unknown). */
const DEFAULT_ROWS = 1 << 20;

const IDENT = /^("[^"]+"|[A-Za-z_][A-Za-z0-9_$]*)(\.("[^"]+"|[A-Za-z_][A-Za-z0-9_$]*))?$/;

function checkRelation(rel: string): void {
  if (!IDENT.test(rel)) throw new InputError(`server search: "${rel}" is not a table name (a plain or double-quoted identifier, optionally schema-qualified)`);
}

function checkQuery(query: PackedCodes, bits: number): void {
  if (query.bits !== bits) throw new InputError(`server search: the query has ${query.bits} bits, the codes table holds ${bits}-bit codes`);
  if (query.count !== 1) throw new InputError(`server search: expected one query code, got ${query.count}`);
}

function checkNonNegInt(v: number, what: string): void {
  if (!Number.isInteger(v) || v < 0) throw new InputError(`server search: ${what} must be a non-negative integer, got ${v}`);
}

// ---- sessions: jit off once per connection --------------------------------------------------

const jitOff = new WeakSet<object>();

function isPool(db: SqlClient): db is SqlClient & { connect(): Promise<SqlClient & { release(): void }> } {
  const d = db as unknown as { connect?: unknown; totalCount?: unknown };
  return typeof d.connect === 'function' && typeof d.totalCount === 'number';
}

/**
 * Runs `fn` on one connection with JIT off (JIT compiles each distance expression, ~tens of ms
 * for nothing at these sizes). A pool lends a client for the whole search.
 */
export async function withSearchSession<T>(db: SqlClient, fn: (c: SqlClient) => Promise<T>): Promise<T> {
  if (isPool(db)) {
    const c = await db.connect();
    try { return await withSearchSession(c, fn); } finally { c.release(); }
  }
  if (!jitOff.has(db)) { await db.query('SET jit = off'); jitOff.add(db); }
  return fn(db);
}

// ---- table size, for the plan choice -------------------------------------------------------

const rowCache = new WeakMap<object, Map<string, { rows: number; at: number }>>();

async function estimatedRows(db: SqlClient, relations: readonly string[]): Promise<number> {
  let cache = rowCache.get(db);
  if (!cache) { cache = new Map(); rowCache.set(db, cache); }
  const key = relations.join(','), hit = cache.get(key), now = Date.now();
  if (hit && now - hit.at < 10_000) return hit.rows;
  const r = await db.query('SELECT sum(greatest(reltuples, 0))::float8 AS n FROM pg_class WHERE oid = ANY($1::regclass[])', [relations]);
  const n = Number(r.rows[0]?.n ?? 0);
  const rows = n > 0 ? n : DEFAULT_ROWS;
  cache.set(key, { rows, at: now });
  return rows;
}

// ---- chunk probes -----------------------------------------------------------------------------

function chunkLengths(bits: number): number[] {
  return chunkColumns(bits).map((_, j) => Math.min(CHUNK_BITS, bits - CHUNK_BITS * j));
}

function binomial(n: number, k: number): number {
  if (k < 0 || k > n) return 0;
  let r = 1;
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
  return Math.round(r);
}

/** Number of L-bit values within chunk radius ρ of a value (ρ = −1: none). */
function ballSize(length: number, rho: number): number {
  let s = 0;
  for (let i = 0; i <= Math.min(rho, length); i++) s += binomial(length, i);
  return s;
}

/** Every L-bit value v with popcount(v ^ center) <= rho, nearest first. */
export function chunkNeighbours(center: number, length: number, rho: number): number[] {
  const out: number[] = [];
  const flip = (from: number, left: number, v: number): void => {
    if (left === 0) { out.push(v); return; }
    for (let b = from; b < length; b++) flip(b + 1, left - 1, v ^ (1 << b));
  };
  for (let w = 0; w <= Math.min(rho, length); w++) flip(0, w, center);
  return out;
}

export interface ProbePlan {
  /** Chunk radius per chunk column (−1: not probed). */
  rho: number[];
  /** Estimated work, Σ V_j (1 + n / 2^L_j). */
  work: number;
}

/**
 * Chunk radii with Σ(ρ_j + 1) = r + 1 (every code within r is found), handing out the r + 1
 * units one at a time to the chunk where the next unit costs least: equal chunks get equal
 * radii; a shorter last chunk (bits not a multiple of 16, n/256 rows per value) is probed last.
 */
export function probePlan(bits: number, r: number, rowsPerRelation: number): ProbePlan {
  const lengths = chunkLengths(bits), m = lengths.length;
  const rho = new Array<number>(m).fill(-1);
  const weight = lengths.map((L) => 1 + rowsPerRelation / 2 ** L);
  for (let unit = 0; unit <= Math.min(r, bits); unit++) {
    let best = -1, bestCost = Infinity;
    for (let j = 0; j < m; j++) {
      if (rho[j]! >= lengths[j]!) continue;
      const cost = binomial(lengths[j]!, rho[j]! + 1) * weight[j]!;
      if (cost < bestCost) { best = j; bestCost = cost; }
    }
    if (best < 0) break;
    rho[best]!++;
  }
  let work = 0;
  for (let j = 0; j < m; j++) work += ballSize(lengths[j]!, rho[j]!) * weight[j]!;
  return { rho, work };
}

// ---- SQL ----------------------------------------------------------------------------------------

class Params {
  readonly values: unknown[] = [];
  add(v: unknown, type: string): string { this.values.push(v); return `$${this.values.length}::${type}`; }
}

export interface SearchStatementInput {
  relations: readonly string[];
  bits: number;
  query: PackedCodes;
  segments?: readonly number[] | null;
  /** Chunk radii (MIH) or null (scan). */
  rho: number[] | null;
  maxDistance?: number;
  limit?: number;
  order: 'distance' | 'ord';
}

/** The SQL of one search statement and its parameters (exported for EXPLAIN in tests and docs). */
export function searchStatement(s: SearchStatementInput): { text: string; values: unknown[] } {
  const p = new Params();
  const words = codeWords(s.query, 0).map((w) => p.add(w.toString(), 'bigint'));
  const distance = hammingSql(s.bits, 1);
  if (!words.length || distance.indexOf('$1::bigint') < 0) throw new Error('server search: the distance expression must read $1..$W');
  const where: string[] = [];
  if (s.rho) {
    const chunks = codeChunks(s.query, 0), lengths = chunkLengths(s.bits), cols = chunkColumns(s.bits);
    // a chunk probed at radius >= its length matches every row: then the probes filter nothing
    if (!s.rho.some((rho, j) => rho >= lengths[j]!)) {
      const probes = cols.flatMap((c, j) => (s.rho![j]! < 0 ? [] : [`${c} = ANY(${p.add(chunkNeighbours(chunks[j]!, lengths[j]!, s.rho![j]!), 'integer[]')})`]));
      where.push(probes.length ? `(${probes.join(' OR ')})` : 'false');
    }
  }
  if (s.segments) where.push(`segment = ANY(${p.add([...s.segments], 'integer[]')})`);
  if (s.maxDistance !== undefined) where.push(`${distance} <= ${p.add(s.maxDistance, 'integer')}`);
  const orderBy = s.order === 'distance' ? 'ORDER BY d, ord' : 'ORDER BY ord';
  const limit = s.limit !== undefined ? ` LIMIT ${p.add(s.limit, 'bigint')}` : '';
  // a branch's own ORDER BY matters only with its LIMIT (the outer query orders the union)
  const branchOrder = s.relations.length === 1 || limit ? ` ${orderBy}${limit}` : '';
  const one = (rel: string): string =>
    `SELECT key, ord, ${distance} AS d FROM ${rel}${where.length ? ` WHERE ${where.join(' AND ')}` : ''}${branchOrder}`;
  const text = s.relations.length === 1
    ? one(s.relations[0]!)
    // OFFSET 0 keeps the union a subquery the outer ORDER BY cannot see into: the planner then
    // reads it with a plain Append (asynchronous over foreign scans) and sorts the few rows on
    // top, instead of a Merge Append, which starts the branches one after another
    : `SELECT key, ord, d FROM (${s.relations.map((r) => `(${one(r)})`).join(' UNION ALL ')} OFFSET 0) AS shards ${orderBy}${limit}`;
  return { text, values: p.values };
}

/** Runs one search statement (the rows). */
async function run(c: SqlClient, st: { text: string; values: unknown[] }): Promise<any[]> {
  return (await c.query(st.text, st.values)).rows;
}

/** EXPLAIN (VERBOSE[, ANALYZE]) of a search statement, planned as the searches run it. */
export async function explainSearch(db: SqlClient, s: SearchStatementInput, opts: { analyze?: boolean } = {}): Promise<string> {
  const st = searchStatement(s), how = opts.analyze ? 'VERBOSE, ANALYZE' : 'VERBOSE, COSTS OFF';
  return withSearchSession(db, async (c) => {
    const rows = await run(c, { text: `EXPLAIN (${how}) ${st.text}`, values: st.values });
    return rows.map((r) => r['QUERY PLAN'] as string).join('\n');
  });
}

function toHits(rows: any[], plan: 'mih' | 'scan', statements: number, probeRadius?: number): ServerHits {
  const keys = new Array<number>(rows.length), ords = new Array<number>(rows.length), distances = new Array<number>(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    keys[i] = Number(r.key); ords[i] = Number(r.ord); distances[i] = Number(r.d);
  }
  const hits: ServerHits = { keys, ords, distances, plan, statements };
  if (probeRadius !== undefined) hits.probeRadius = probeRadius;
  return hits;
}

// ---- searches -------------------------------------------------------------------------------

interface Search {
  relations: readonly string[];
  bits: number;
  query: PackedCodes;
  segments?: readonly number[] | null;
  plan: SearchPlan;
  rows?: number;
}

async function rowsPerRelation(db: SqlClient, s: Search): Promise<number> {
  const total = s.rows ?? await estimatedRows(db, s.relations);
  return total / s.relations.length;
}

function fallsBack(s: Search, plan: ProbePlan, perRelation: number): boolean {
  if (s.plan === 'scan') return true;
  if (s.plan === 'mih') return false;
  return plan.work > MIH_SCAN_FALLBACK * perRelation;
}

/** k-NN over several relations (shards) at once; see serverKnn. */
export async function knnOver(db: SqlClient, relations: readonly string[], o: Omit<ServerKnnOptions, 'table'>): Promise<ServerHits> {
  relations.forEach(checkRelation);
  checkQuery(o.query, o.bits);
  if (!Number.isInteger(o.k) || o.k < 1) throw new InputError(`server search: k must be a positive integer, got ${o.k}`);
  if (o.radius !== undefined) checkNonNegInt(o.radius, 'radius');
  const s: Search = { relations, bits: o.bits, query: o.query, segments: o.segments, plan: o.plan ?? 'auto', rows: o.rows };
  const cap = Math.min(o.radius ?? o.bits, o.bits), m = chunkColumns(o.bits).length;
  return withSearchSession(db, async (c) => {
    const perRel = await rowsPerRelation(c, s);
    let statements = 0;
    const base = { relations, bits: o.bits, query: o.query, segments: o.segments, limit: o.k, order: 'distance' as const };
    // radii m−1, 2m−1, …: each step raises every chunk radius by one
    for (let r = Math.min(m - 1, cap); ; r = Math.min(r + m, cap)) {
      const plan = probePlan(o.bits, r, perRel);
      if (fallsBack(s, plan, perRel)) break;
      const st = searchStatement({ ...base, rho: plan.rho, maxDistance: r });
      const rows = await run(c, st);
      statements++;
      if (rows.length >= o.k || r >= cap) return toHits(rows, 'mih', statements, r);
    }
    const st = searchStatement({ ...base, rho: null, ...(o.radius !== undefined ? { maxDistance: o.radius } : {}) });
    const rows = await run(c, st);
    return toHits(rows, 'scan', statements + 1);
  });
}

/** Radius search over several relations (shards) at once; see serverRange. */
export async function rangeOver(db: SqlClient, relations: readonly string[], o: Omit<ServerRangeOptions, 'table'>): Promise<ServerHits> {
  relations.forEach(checkRelation);
  checkQuery(o.query, o.bits);
  checkNonNegInt(o.radius, 'radius');
  if (o.limit !== undefined && (!Number.isInteger(o.limit) || o.limit < 1)) throw new InputError(`server search: limit must be a positive integer, got ${o.limit}`);
  const s: Search = { relations, bits: o.bits, query: o.query, segments: o.segments, plan: o.plan ?? 'auto', rows: o.rows };
  const r = Math.min(o.radius, o.bits);
  return withSearchSession(db, async (c) => {
    const perRel = await rowsPerRelation(c, s);
    const plan = probePlan(o.bits, r, perRel), scan = fallsBack(s, plan, perRel);
    const st = searchStatement({
      relations, bits: o.bits, query: o.query, segments: o.segments, rho: scan ? null : plan.rho, maxDistance: r,
      order: o.order ?? 'distance', ...(o.limit !== undefined ? { limit: o.limit } : {}),
    });
    const rows = await run(c, st);
    return toHits(rows, scan ? 'scan' : 'mih', 1, scan ? undefined : r);
  });
}

/**
 * Exact k-NN of one code in a codes table, nearest first by (distance, ord) — FlatIndex's answer
 * over the same codes in ord order. MIH with a widening radius, or the scan (see the header).
 */
export function serverKnn(db: SqlClient, o: ServerKnnOptions): Promise<ServerHits> {
  return knnOver(db, [o.table], o);
}

/** Every code within `radius` (optionally the first `limit`), by (distance, ord) or by ord. */
export function serverRange(db: SqlClient, o: ServerRangeOptions): Promise<ServerHits> {
  return rangeOver(db, [o.table], o);
}
