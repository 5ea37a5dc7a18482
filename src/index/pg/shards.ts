// Codes sharded over several PostgreSQL servers with PostgreSQL's own tools: each shard holds a
// real codes table (code-columns.ts layout, chunk indexes); the coordinator holds a parent table
// `PARTITION BY HASH (key)` whose partitions are postgres_fdw foreign tables, one per shard.
//
// - Ingest: an INSERT into the parent routes every row to its shard (tuple routing into foreign
//   partitions; the servers' batch_size groups the remote INSERTs).
// - Search: a UNION ALL of per-partition `(SELECT … ORDER BY d, ord LIMIT k)` under an outer
//   `ORDER BY d, ord LIMIT k` (server-search.ts, knnOver / rangeOver with the partitions as the
//   relations). postgres_fdw ships each branch whole — distance, probes, radius filter, ORDER BY
//   and LIMIT — so a shard returns at most k rows, and with async_capable servers the branches run
//   at the same time (Async Foreign Scan under the Append). The parent table itself would plan an
//   Append of foreign scans with the sort and limit above it on the coordinator.
//
// Why hash on key, not on ord: an item's codes (one per model version) stay on one shard, so
// removing an item touches one server; ords grow with time, so ranges of ord would send all new
// codes to the last shard, and hashing ord would spread an item over shards for nothing. The
// answers do not depend on the placement: ties are broken by ord on the coordinator.
//
// The parent cannot carry PRIMARY KEY (ord) (foreign partitions have no indexes); each shard's
// table has it, but uniqueness of ord across shards is the writer's to keep (the store's counter).
import { InputError } from '../../util/errors.js';
import { chunkColumns, codeColumnDefinitions, codesTableSql } from './code-columns.js';
import { knnOver, rangeOver, type ServerHits, type ServerKnnOptions, type ServerRangeOptions, type SqlClient } from './server-search.js';

export interface ShardServer {
  host: string;
  port: number;
  dbname: string;
  user: string;
  password?: string;
}

export interface ShardedCodesOptions {
  /** Parent table on the coordinator and the shards' table (a plain lower-case identifier). */
  table: string;
  bits: number;
  shards: readonly ShardServer[];
  /** postgres_fdw fetch_size: rows per remote FETCH (default 10000; searches return <= k rows per shard anyway). */
  fetchSize?: number;
  /** postgres_fdw batch_size: rows per remote INSERT when routing ingest (default 1000). */
  batchSize?: number;
}

/** What the coordinator holds after setup: the parent and one foreign partition per shard, in shard order. */
export interface ShardedCodes {
  table: string;
  bits: number;
  servers: string[];
  partitions: string[];
}

const PLAIN = /^[a-z_][a-z0-9_]{0,40}$/;

function checkTable(table: string): void {
  if (!PLAIN.test(table)) throw new InputError(`shards: table "${table}" must be a plain lower-case identifier (letters, digits, _)`);
}

/** Single-quoted SQL literal (server options take literals, not parameters). */
function literal(v: string | number): string { return `'${String(v).replace(/'/g, "''")}'`; }

/** A shard's connection options from a postgresql:// URL. */
export function shardServerFromUrl(url: string): ShardServer {
  let u: URL;
  try { u = new URL(url); } catch { throw new InputError(`shards: "${url}" is not a postgresql:// URL`); }
  if (u.protocol !== 'postgresql:' && u.protocol !== 'postgres:') throw new InputError(`shards: "${url}" is not a postgresql:// URL`);
  const s: ShardServer = {
    host: decodeURIComponent(u.hostname), port: u.port ? Number(u.port) : 5432,
    dbname: decodeURIComponent(u.pathname.replace(/^\//, '')) || 'postgres', user: decodeURIComponent(u.username) || 'postgres',
  };
  if (u.password) s.password = decodeURIComponent(u.password);
  return s;
}

export function shardNames(table: string, count: number): { servers: string[]; partitions: string[] } {
  checkTable(table);
  return {
    servers: Array.from({ length: count }, (_, i) => `${table}_shard${i}`),
    partitions: Array.from({ length: count }, (_, i) => `${table}_p${i}`),
  };
}

/** The SQL run on every shard: a codes table with its chunk, segment and key indexes. */
export function shardTableSql(table: string, bits: number): string {
  checkTable(table);
  return codesTableSql(table, bits);
}

/**
 * The SQL run on the coordinator, in order: postgres_fdw, one server and user mapping per shard,
 * the parent table partitioned by hash of key, and one foreign partition per shard.
 */
export function coordinatorSetupSql(o: ShardedCodesOptions): string[] {
  checkTable(o.table);
  if (o.shards.length < 1) throw new InputError('shards: at least one shard server is needed');
  const { servers, partitions } = shardNames(o.table, o.shards.length), n = o.shards.length;
  const sql = ['CREATE EXTENSION IF NOT EXISTS postgres_fdw'];
  o.shards.forEach((s, i) => {
    sql.push(`CREATE SERVER ${servers[i]} FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host ${literal(s.host)}, port ${literal(s.port)}, `
      + `dbname ${literal(s.dbname)}, async_capable 'true', fetch_size ${literal(o.fetchSize ?? 10000)}, batch_size ${literal(o.batchSize ?? 1000)}, `
      // the shards' sessions: no JIT for the distance expression (as withSearchSession does
      // here), and plans for reading the whole result — postgres_fdw reads through a cursor,
      // planned by default for its first 10% (a seq scan beat the bitmap of MIH probes there)
      + `options '-c jit=off -c cursor_tuple_fraction=1')`);
    const auth = [`user ${literal(s.user)}`, ...(s.password !== undefined ? [`password ${literal(s.password)}`] : [])];
    sql.push(`CREATE USER MAPPING FOR CURRENT_USER SERVER ${servers[i]} OPTIONS (${auth.join(', ')})`);
  });
  sql.push(`CREATE TABLE ${o.table} (${codeColumnDefinitions(o.bits).join(', ')}) PARTITION BY HASH (key)`);
  o.shards.forEach((_, i) => {
    sql.push(`CREATE FOREIGN TABLE ${partitions[i]} PARTITION OF ${o.table} FOR VALUES WITH (MODULUS ${n}, REMAINDER ${i}) `
      + `SERVER ${servers[i]} OPTIONS (schema_name 'public', table_name ${literal(o.table)})`);
    // The coordinator's estimates only decide what postgres_fdw ships (the shard plans its own
    // part). With true statistics a probe looks so selective that the coordinator expects <= k
    // rows, keeps the LIMIT local, and a local Limit above a Foreign Scan loses the async
    // Append. Statistics that say "a probe or segment filter keeps every row" (n_distinct = 1,
    // used from the next ANALYZE) make pushing ORDER BY … LIMIT always the cheaper plan.
    const cols = ['segment', ...chunkColumns(o.bits)].map((c) => `ALTER COLUMN ${c} SET (n_distinct = 1)`);
    sql.push(`ALTER FOREIGN TABLE ${partitions[i]} ${cols.join(', ')}`);
  });
  return sql;
}

/**
 * Sets up sharded codes: the codes table on every shard (`shardDbs[i]` connected to
 * `o.shards[i]`), then postgres_fdw, servers, user mappings, the parent and its foreign
 * partitions on the coordinator. For a coordinator without these objects (names are
 * `<table>_shard<i>` and `<table>_p<i>`); an existing one is an error naming it.
 */
export async function setupShardedCodes(coordinator: SqlClient, shardDbs: readonly SqlClient[], o: ShardedCodesOptions): Promise<ShardedCodes> {
  if (shardDbs.length !== o.shards.length) throw new InputError(`shards: ${o.shards.length} shard servers but ${shardDbs.length} shard connections`);
  for (const s of shardDbs) await s.query(shardTableSql(o.table, o.bits));
  for (const stmt of coordinatorSetupSql(o)) {
    try { await coordinator.query(stmt); } catch (e) { throw new Error(`shards: coordinator setup failed at "${stmt.slice(0, 80)}…": ${(e as Error).message}`); }
  }
  return { table: o.table, bits: o.bits, ...shardNames(o.table, o.shards.length) };
}

/**
 * ANALYZE of the foreign partitions (postgres_fdw samples the shards): gives the coordinator the
 * row counts the MIH-or-scan choice reads (pg_class.reltuples).
 */
export async function analyzeShardedCodes(coordinator: SqlClient, s: ShardedCodes): Promise<void> {
  for (const p of s.partitions) await coordinator.query(`ANALYZE ${p}`);
}

/** Exact k-NN over all shards, identical to serverKnn over the same rows in one table. */
export function shardedKnn(coordinator: SqlClient, s: ShardedCodes, o: Omit<ServerKnnOptions, 'table' | 'bits'>): Promise<ServerHits> {
  return knnOver(coordinator, s.partitions, { ...o, bits: s.bits });
}

/** Radius search over all shards, identical to serverRange over the same rows in one table. */
export function shardedRange(coordinator: SqlClient, s: ShardedCodes, o: Omit<ServerRangeOptions, 'table' | 'bits'>): Promise<ServerHits> {
  return rangeOver(coordinator, s.partitions, { ...o, bits: s.bits });
}
