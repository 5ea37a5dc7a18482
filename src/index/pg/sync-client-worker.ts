// The worker behind sync-client.ts: holds the real (async) `pg` connections, one per SyncPg,
// and runs each request to completion while the calling thread waits. Errors travel back as
// plain values so their SQLSTATE code survives the thread boundary.
import pg from 'pg';
import { runAsWorker } from 'synckit';

// int8 (bigint, counts) as text: code words do not fit a double; callers convert what they need.
const clients = new Map<number, pg.Client>();
/** A statement that takes longer fails (a server that stopped answering must not hang the caller). */
export const QUERY_TIMEOUT_MS = Number(process.env.CMHASH_PG_QUERY_TIMEOUT_MS ?? 300_000);
let next = 1;

export type Request =
  | { op: 'connect'; url: string; applicationName: string }
  | { op: 'query'; conn: number; sql: string; params?: unknown[] }
  | { op: 'close'; conn: number };

export type Reply =
  | { ok: true; conn?: number; rows?: Record<string, unknown>[]; rowCount?: number | null }
  | { ok: false; message: string; code?: string };

runAsWorker(async (req: Request): Promise<Reply> => {
  try {
    if (req.op === 'connect') {
      // bounded waits: the calling thread is blocked while a request runs (sync-client.ts). 30 s to
      // connect: a refused connection fails at once anyway, and a server just restarted on a loaded
      // machine took over 10 s to accept one (the crash tests, at load average ~5)
      const c = new pg.Client({ connectionString: req.url, application_name: req.applicationName, connectionTimeoutMillis: 30_000, query_timeout: QUERY_TIMEOUT_MS });
      c.on('error', () => { /* a dropped connection fails the next query, which reports it */ });
      await c.connect();
      const id = next++;
      clients.set(id, c);
      return { ok: true, conn: id };
    }
    const c = clients.get(req.conn);
    if (!c) return { ok: false, message: `connection ${req.conn} is closed` };
    if (req.op === 'close') {
      clients.delete(req.conn);
      await c.end().catch(() => undefined);
      return { ok: true };
    }
    const r = await c.query(req.sql, req.params);
    return { ok: true, rows: r.rows, rowCount: r.rowCount };
  } catch (e) {
    const err = e as { message?: string; code?: string };
    return { ok: false, message: err.message ?? String(e), ...(err.code ? { code: err.code } : {}) };
  }
});
