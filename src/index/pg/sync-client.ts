// A synchronous PostgreSQL connection. The store interface is synchronous (one unit of work runs
// to completion with nothing interleaved, as with SQLite), so the PostgreSQL backend calls `pg`
// through synckit: the request runs in a worker thread while this thread waits on an Atomics
// wait. Each call costs one round trip plus a thread hop (~0.1 ms on loopback); the store batches
// rows (unnest arrays) so a write is a handful of calls, not one per item.
import { createSyncFn } from 'synckit';
import { fileURLToPath } from 'node:url';
import { InputError, NotFoundError, UnavailableError } from '../../util/errors.js';
import type { Reply, Request } from './sync-client-worker.js';

const call = createSyncFn<(req: Request) => Promise<Reply>>(
  fileURLToPath(new URL('./sync-client-worker.js', import.meta.url)), { timeout: Number(process.env.CMHASH_PG_QUERY_TIMEOUT_MS ?? 300_000) + 15_000 });

/** A PostgreSQL error with its SQLSTATE (e.g. 23505 unique violation, 57P01 server shutting down). */
export class PgError extends Error {
  constructor(message: string, readonly code: string | undefined) { super(message); this.name = 'PgError'; }
}

export interface PgResult<R = Record<string, unknown>> { rows: R[]; rowCount: number }

/** Is `s` a PostgreSQL URL (postgres:// or postgresql://)? */
export function isPostgresUrl(s: string | null | undefined): boolean {
  return typeof s === 'string' && /^postgres(ql)?:\/\//i.test(s);
}

/** The URL without its password (for messages and logs). */
export function redactUrl(url: string): string {
  try { const u = new URL(url); if (u.password) u.password = '***'; return u.toString(); } catch { return 'postgresql://…'; }
}

/** SQLSTATE classes and messages of a lost or refused connection (the server stopped, restarted, is starting). */
function connectionLost(code: string | undefined, message: string): boolean {
  if (code && (/^08/.test(code) || ['57P01', '57P02', '57P03'].includes(code))) return true;
  if (code && /^E[A-Z]+$/.test(code)) return true; // a socket error (ECONNRESET, ECONNREFUSED, EPIPE …)
  return !code && /Connection terminated|connection error|not queryable|ECONNREFUSED|ECONNRESET|EPIPE|closed the connection/i.test(message);
}

export class SyncPg {
  /** The connection broke; the next query reconnects first. */
  private broken = false;

  private constructor(private conn: number | null, readonly url: string, private readonly applicationName: string) {}

  static connect(url: string, applicationName = 'cmhash'): SyncPg {
    return new SyncPg(SyncPg.open(url, applicationName), url, applicationName);
  }

  private static open(url: string, applicationName: string): number {
    const r = call({ op: 'connect', url, applicationName });
    if (r.ok) return r.conn!;
    const msg = `cannot connect to PostgreSQL at ${redactUrl(url)}: ${r.message}`;
    if (r.code === '3D000') throw new NotFoundError(msg);
    if (connectionLost(r.code, r.message)) throw new UnavailableError(msg);
    throw new InputError(msg);
  }

  /**
   * Runs one statement. `retry`: the statement may run again on a new connection if the old one
   * turns out to be lost (reads, and BEGIN — never a statement inside a transaction, which died
   * with its connection).
   */
  query<R = Record<string, unknown>>(sql: string, params?: unknown[], retry = false): PgResult<R> {
    if (this.conn === null) throw new Error('PostgreSQL connection is closed');
    if (this.broken) this.reconnect();
    const r = call({ op: 'query', conn: this.conn, sql, params: params?.map(toParam) });
    if (r.ok) return { rows: (r.rows ?? []) as R[], rowCount: r.rowCount ?? 0 };
    if (connectionLost(r.code, r.message)) {
      this.broken = true;
      if (retry) return this.query<R>(sql, params, false);
      throw new UnavailableError(`PostgreSQL at ${redactUrl(this.url)}: connection lost (${r.message})`);
    }
    throw new PgError(r.message, r.code);
  }

  private reconnect(): void {
    call({ op: 'close', conn: this.conn! });
    this.conn = SyncPg.open(this.url, this.applicationName);
    this.broken = false;
  }

  /** The first column of the first row (undefined when there is no row). */
  value<T = unknown>(sql: string, params?: unknown[], retry = false): T | undefined {
    const row = this.query(sql, params, retry).rows[0];
    return row ? (Object.values(row)[0] as T) : undefined;
  }

  close(): void {
    if (this.conn === null) return;
    call({ op: 'close', conn: this.conn });
    this.conn = null;
  }
}

/** Values the worker can pass to pg unchanged: bigint → text (pg has no BigInt parameter), typed arrays → Buffer. */
function toParam(v: unknown): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (Array.isArray(v)) return v.map((x) => (typeof x === 'bigint' ? x.toString() : x));
  if (v instanceof Uint8Array && !Buffer.isBuffer(v)) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  return v;
}
