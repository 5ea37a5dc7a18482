// Several `cmhash serve` processes on one PostgreSQL database answer alike: each keeps its
// collections' snapshots in memory (the fast path stays in-process) and LISTENs on the channel
// every committed write notifies (pg-store.ts). A notification for a collection whose snapshot is
// behind makes it reload (Collection.refresh; one query when nothing changed); one for a
// collection this process has not opened opens it. If the listening connection drops, it
// reconnects and refreshes everything (a notification may have been missed), and a slow poll
// covers the rest.
import pg from 'pg';
import { CHANGES_CHANNEL } from '../index/pg/pg-store.js';
import { redactUrl } from '../index/pg/sync-client.js';
import type { CollectionRegistry } from './registry.js';

export interface ReplicaSyncOptions {
  /** Seconds between full refresh polls (a safety net for missed notifications; 0 = off). */
  pollSeconds?: number;
  onError?: (message: string) => void;
  /** Called after a collection was reloaded or opened because of another writer. */
  onRefresh?: (collection: string) => void;
}

export class ReplicaSync {
  private client: pg.Client | null = null;
  private stopped = false;
  private poll: NodeJS.Timeout | null = null;
  private retry: NodeJS.Timeout | null = null;

  private constructor(private readonly url: string, private readonly registry: CollectionRegistry, private readonly o: ReplicaSyncOptions) {}

  static async start(url: string, registry: CollectionRegistry, o: ReplicaSyncOptions = {}): Promise<ReplicaSync> {
    const s = new ReplicaSync(url, registry, o);
    await s.connect();
    const every = (o.pollSeconds ?? 10) * 1000;
    if (every > 0) { s.poll = setInterval(() => { void s.refreshAll(); }, every); s.poll.unref(); }
    return s;
  }

  private async connect(): Promise<void> {
    const c = new pg.Client({ connectionString: this.url, application_name: 'cmhash replica sync' });
    c.on('notification', (n) => { if (n.channel === CHANGES_CHANNEL) void this.onChange(n.payload ?? ''); });
    c.on('error', (e) => this.lost(`replica sync: connection to ${redactUrl(this.url)} lost (${e.message}); reconnecting`));
    c.on('end', () => this.lost(`replica sync: connection to ${redactUrl(this.url)} ended; reconnecting`));
    await c.connect();
    await c.query(`LISTEN ${CHANGES_CHANNEL}`);
    this.client = c;
  }

  private lost(message: string): void {
    if (this.stopped || !this.client) return;
    this.client = null;
    this.o.onError?.(message);
    const again = (delay: number): void => {
      this.retry = setTimeout(() => {
        this.connect().then(() => this.refreshAll(), () => again(Math.min(delay * 2, 10_000)));
      }, delay);
      this.retry.unref();
    };
    again(250);
  }

  private async onChange(payload: string): Promise<void> {
    let m: { collection?: unknown; generation?: unknown };
    try { m = JSON.parse(payload); } catch { return; }
    if (typeof m.collection !== 'string') return;
    const c = this.registry.find(m.collection);
    try {
      if (!c) {
        this.registry.openPostgres(this.url, m.collection);
        this.o.onRefresh?.(m.collection);
      } else if (c.generation !== m.generation && await c.refresh()) this.o.onRefresh?.(m.collection);
    } catch (e) {
      this.o.onError?.(`replica sync: collection "${m.collection}": ${(e as Error).message}`);
    }
  }

  /** Refreshes every collection of this database (after a reconnect, and on the poll). */
  async refreshAll(): Promise<void> {
    for (const c of this.registry.list()) {
      if (c.backend !== 'postgresql') continue;
      try { if (await c.refresh()) this.o.onRefresh?.(c.name); } catch (e) { this.o.onError?.(`replica sync: collection "${c.name}": ${(e as Error).message}`); }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.poll) clearInterval(this.poll);
    if (this.retry) clearTimeout(this.retry);
    const c = this.client;
    this.client = null;
    await c?.end().catch(() => undefined);
  }
}
