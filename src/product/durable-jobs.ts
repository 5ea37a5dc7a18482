// Session jobs of PostgreSQL collections, shared by every replica on the database.
//
// A session posted to any replica is first recorded in the collection's `jobs` table (the request:
// ids, labels, metadata, features) and claimed by that replica, which runs it and refreshes a
// heartbeat while it does. Every replica polls for jobs whose claimer stopped beating (it died) and
// claims one with FOR UPDATE SKIP LOCKED — exactly one replica gets it — and runs it again from the
// stored request, up to `maxAttempts`, after which it is marked failed. A job commits at most once
// however often it runs: its id goes into the session record, which has a unique index on it, so a
// second commit of the same job fails inside its transaction and changes nothing; a run that meets
// the already-applied session reports the first commit's result. GET /api/jobs/:id answers on
// every replica from the table (live progress comes from the replica running it, via the table).
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { redactUrl } from '../index/pg/sync-client.js';
import type { Collection, ItemInput } from './collection.js';
import type { JobManager, JobView } from './jobs.js';
import type { CollectionRegistry } from './registry.js';

export interface SessionRequest { name?: string; epochs?: number; seed?: number }

/** Runs one session job here (the service's session route body); `progress` as JobManager's. */
export type SessionRunner = (c: Collection, items: ItemInput[], req: SessionRequest, jobId: string, progress: (p: JobView['progress']) => void) => Promise<unknown>;

export interface DurableJobOptions {
  /** This replica's name in `claimed_by` (default host:pid:random). */
  replicaId?: string;
  /** Seconds without a heartbeat after which a running job's replica counts as dead (default 30; $CMHASH_JOB_STALE_SECONDS). */
  staleSeconds?: number;
  /** Seconds between heartbeats of a running job (default staleSeconds / 5). */
  heartbeatSeconds?: number;
  /** Seconds between polls for orphaned jobs (default staleSeconds / 3). */
  pollSeconds?: number;
  /** Runs of one job (its first and takeovers) before it is marked failed (default 3). */
  maxAttempts?: number;
  onError?: (message: string) => void;
}

interface JobRow {
  id: string; kind: string; status: JobView['status']; collection: string; meta: StoredRequest; body: Buffer | null;
  attempts: number; result: unknown; error: string | null; progress: JobView['progress'];
  created: Date; started: Date | null; finished: Date | null; claimed_by: string | null;
}

interface StoredRequest extends SessionRequest { ids: string[]; labels: string[][]; metadata: unknown[]; imageDim: number; textDim: number }

export class DurableSessionJobs {
  private readonly pool: pg.Pool;
  readonly replicaId: string;
  private readonly stale: number;
  private poll: NodeJS.Timeout | null = null;
  private readonly beating = new Map<string, NodeJS.Timeout>();
  private readonly schemas = new Map<string, string>();
  private stopped = false;

  constructor(private readonly url: string, private readonly registry: CollectionRegistry, private readonly jobs: JobManager,
    private readonly run: SessionRunner, private readonly o: DurableJobOptions = {}) {
    this.pool = new pg.Pool({ connectionString: url, max: 4, application_name: 'cmhash jobs' });
    this.pool.on('error', (e) => o.onError?.(`jobs: PostgreSQL at ${redactUrl(url)}: ${e.message}`));
    this.replicaId = o.replicaId ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    this.stale = o.staleSeconds ?? Number(process.env.CMHASH_JOB_STALE_SECONDS ?? 30);
  }

  /** Starts polling for jobs whose replica died. */
  start(): this {
    const every = (this.o.pollSeconds ?? this.stale / 3) * 1000;
    this.poll = setInterval(() => { void this.adoptOrphans(); }, every);
    this.poll.unref();
    return this;
  }

  private async schemaOf(collection: string): Promise<string> {
    let s = this.schemas.get(collection);
    if (!s) {
      const r = await this.pool.query<{ schema: string }>('SELECT schema FROM cmhash.collections WHERE name = $1', [collection]);
      if (!r.rows[0]) throw new Error(`jobs: no collection "${collection}" in the database`);
      s = r.rows[0].schema;
      this.schemas.set(collection, s);
    }
    return s;
  }

  /** Records a session job of a PostgreSQL collection, claims it and runs it here. */
  async submit(c: Collection, items: ItemInput[], req: SessionRequest): Promise<JobView> {
    const s = await this.schemaOf(c.name);
    const id = randomUUID();
    const dI = c.config.imageDim, dT = c.config.textDim;
    const feats = new Float32Array(items.length * (dI + dT));
    items.forEach((it, i) => { feats.set(it.image!, i * dI); feats.set(it.text!, items.length * dI + i * dT); });
    const meta: StoredRequest = {
      ...req, ids: items.map((it) => it.id), labels: items.map((it) => [...(it.labels ?? [])]), metadata: items.map((it) => it.metadata ?? null), imageDim: dI, textDim: dT,
    };
    await this.pool.query(`INSERT INTO ${s}.jobs (id, kind, status, collection, meta, body, claimed_by, heartbeat, attempts, started)
      VALUES ($1, 'session-update', 'running', $2, $3, $4, $5, now(), 1, now())`,
    [id, c.name, JSON.stringify(meta), Buffer.from(feats.buffer, feats.byteOffset, feats.byteLength), this.replicaId]);
    return this.runHere(c, s, id, items, req);
  }

  private runHere(c: Collection, s: string, id: string, items: ItemInput[], req: SessionRequest): JobView {
    let lastProgress = 0;
    // the heartbeat starts now, not when the job leaves this replica's queue: a job waiting here
    // behind another is still claimed
    this.beat(s, id);
    return this.jobs.submit(c.name, 'session-update', async (progress) => {
      try {
        const result = await this.run(c, items, req, id, (p) => {
          progress(p);
          // progress reaches the table about once a second (other replicas' GETs read it there)
          if (Date.now() - lastProgress > 1000) {
            lastProgress = Date.now();
            this.pool.query(`UPDATE ${s}.jobs SET progress = $1 WHERE id = $2 AND claimed_by = $3`, [JSON.stringify(p), id, this.replicaId]).catch(() => undefined);
          }
        });
        await this.finish(s, id, 'succeeded', result, null);
        return result;
      } catch (e) {
        // a run that lost the race to an earlier commit of the same job reports that commit
        const applied = await this.appliedResult(s, id).catch(() => null);
        if (applied) { await this.finish(s, id, 'succeeded', applied, null); return applied; }
        await this.finish(s, id, 'failed', null, (e as Error).message).catch(() => undefined);
        throw e;
      } finally { this.unbeat(id); }
    }, id);
  }

  private beat(s: string, id: string): void {
    const every = (this.o.heartbeatSeconds ?? this.stale / 5) * 1000;
    const t = setInterval(() => {
      this.pool.query(`UPDATE ${s}.jobs SET heartbeat = now() WHERE id = $1 AND claimed_by = $2 AND status = 'running'`, [id, this.replicaId])
        .catch((e: Error) => this.o.onError?.(`jobs: heartbeat of ${id}: ${e.message}`));
    }, every);
    t.unref();
    this.beating.set(id, t);
  }

  private unbeat(id: string): void { const t = this.beating.get(id); if (t) clearInterval(t); this.beating.delete(id); }

  private async finish(s: string, id: string, status: 'succeeded' | 'failed', result: unknown, error: string | null): Promise<void> {
    await this.pool.query(`UPDATE ${s}.jobs SET status = $1, result = $2, error = $3, finished = now() WHERE id = $4`,
      [status, result === null || result === undefined ? null : JSON.stringify(result), error, id]);
  }

  /** The result of the session this job committed, if it did (by any replica). */
  private async appliedResult(s: string, id: string): Promise<unknown> {
    const r = await this.pool.query<{ model_version: number; name: string }>(`SELECT model_version, name FROM ${s}.sessions WHERE meta->>'job' = $1`, [id]);
    const row = r.rows[0];
    return row ? { model_version: row.model_version, session: row.name, applied_by_earlier_run: true } : null;
  }

  /** Claims one job whose replica stopped beating (in each collection this replica serves) and runs it here. */
  async adoptOrphans(): Promise<number> {
    if (this.stopped) return 0;
    let adopted = 0;
    for (const c of this.registry.list()) {
      if (c.backend !== 'postgresql') continue;
      try {
        const s = await this.schemaOf(c.name);
        const r = await this.pool.query<JobRow>(`UPDATE ${s}.jobs SET status = 'running', claimed_by = $1, heartbeat = now(), attempts = attempts + 1
          WHERE id = (SELECT id FROM ${s}.jobs WHERE (status = 'running' AND heartbeat < now() - make_interval(secs => $2))
                        OR (status = 'queued' AND created < now() - make_interval(secs => $2)) ORDER BY created FOR UPDATE SKIP LOCKED LIMIT 1)
          RETURNING *`, [this.replicaId, this.stale]);
        const row = r.rows[0];
        if (!row) continue;
        adopted++;
        const applied = await this.appliedResult(s, row.id);
        if (applied) { await this.finish(s, row.id, 'succeeded', applied, null); continue; }
        if (row.attempts > (this.o.maxAttempts ?? 3)) {
          await this.finish(s, row.id, 'failed', null, `the replica running this job stopped ${row.attempts - 1} times; giving up (nothing of it was committed)`);
          continue;
        }
        this.runHere(c, s, row.id, itemsOf(row), { name: row.meta.name, epochs: row.meta.epochs, seed: row.meta.seed });
      } catch (e) { this.o.onError?.(`jobs: collection "${c.name}": ${(e as Error).message}`); }
    }
    return adopted;
  }

  /** A job of any PostgreSQL collection this replica serves, from the table (undefined if none has it). */
  async find(id: string): Promise<JobView | undefined> {
    for (const c of this.registry.list()) {
      if (c.backend !== 'postgresql') continue;
      const s = await this.schemaOf(c.name);
      const r = await this.pool.query<JobRow>(`SELECT id, kind, status, collection, attempts, result, error, progress, created, started, finished FROM ${s}.jobs WHERE id = $1`, [id]);
      if (r.rows[0]) return viewOf(r.rows[0]);
    }
    return undefined;
  }

  /** The recorded jobs of one collection (recent first). */
  async list(c: Collection, limit = 200): Promise<JobView[]> {
    const s = await this.schemaOf(c.name);
    const r = await this.pool.query<JobRow>(`SELECT id, kind, status, collection, attempts, result, error, progress, created, started, finished
      FROM ${s}.jobs ORDER BY created DESC LIMIT $1`, [limit]);
    return r.rows.map(viewOf);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.poll) clearInterval(this.poll);
    for (const id of [...this.beating.keys()]) this.unbeat(id);
    await this.pool.end().catch(() => undefined);
  }
}

function itemsOf(row: JobRow): ItemInput[] {
  const m = row.meta, n = m.ids.length, f = new Float32Array(new Uint8Array(row.body!).buffer);
  return m.ids.map((id, i) => ({
    id, image: f.subarray(i * m.imageDim, (i + 1) * m.imageDim), text: f.subarray(n * m.imageDim + i * m.textDim, n * m.imageDim + (i + 1) * m.textDim),
    labels: m.labels[i]!, metadata: m.metadata[i] ?? null,
  }));
}

function viewOf(r: JobRow): JobView {
  const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);
  return {
    id: r.id, kind: r.kind, collection: r.collection, status: r.status, created: iso(r.created)!, started: iso(r.started), finished: iso(r.finished),
    progress: r.progress ?? null, result: r.result ?? null, error: r.error,
  };
}
