// Batches the kernel work of concurrent searches and coalesces their responses.
//
// Requests that arrive in the same event-loop turn (several connections, or pipelined requests on
// one) are queued; at the end of the turn (setImmediate) each group with the same codes and k runs
// as one kernel call over all its queries — the native backend splits such a batch across its
// threads by query, where one query alone would run on one thread. Each request is then answered
// from its own snapshot, exactly as a lone search would be (same hits, same tie order).
//
// Responses: the socket of a search request is corked when the request arrives and uncorked one
// turn after its batch ran, so the answers to requests pipelined on one connection leave in one
// write instead of one system call each. A request that never reaches the batch (bad input) is
// uncorked by the same flush, at most one loop turn later.
import type { Socket } from 'node:net';
import type { Collection, CodeQuery, SearchAnswer, SearchPlan } from '../product/collection.js';
import type { PackedCodes } from '../index/codes.js';
import type { CollectionSnapshot } from '../product/snapshot.js';

interface Job {
  collection: Collection;
  snap: CollectionSnapshot;
  code: PackedCodes;
  q: CodeQuery;
  plan: SearchPlan;
  resolve: (a: SearchAnswer) => void;
  reject: (e: unknown) => void;
}

export class SearchBatcher {
  private queue: Job[] = [];
  private runScheduled = false;
  private corked = new Set<Socket>();
  private flushScheduled = false;
  /** Largest batch so far and number of batches (for the benchmark report). */
  readonly stats = { batches: 0, searches: 0, largest: 0 };

  constructor(private readonly maxResults: number) {}

  /** Holds the socket's writes until the turn after the next batch (see the file comment). */
  hold(socket: Socket | null | undefined): void {
    if (!socket || socket.destroyed || this.corked.has(socket)) return;
    socket.cork();
    this.corked.add(socket);
    this.scheduleFlush();
  }

  /** Searches one query code in `snap` (validated now, scanned with the batch of this turn). */
  search(collection: Collection, snap: CollectionSnapshot, code: PackedCodes, q: CodeQuery): Promise<SearchAnswer> {
    const plan = collection.planSearch(snap, code, q, this.maxResults); // throws on bad input, before queueing
    return new Promise((resolve, reject) => {
      this.queue.push({ collection, snap, code, q, plan, resolve, reject });
      if (!this.runScheduled) { this.runScheduled = true; setImmediate(() => this.run()); }
    });
  }

  private run(): void {
    this.runScheduled = false;
    const jobs = this.queue;
    this.queue = [];
    this.stats.batches++; this.stats.searches += jobs.length;
    if (jobs.length > this.stats.largest) this.stats.largest = jobs.length;
    // group by (codes, k): one kernel call per group; the radius cut is applied per query
    const groups = new Map<object, Map<number, Job[]>>();
    for (const j of jobs) {
      let byK = groups.get(j.plan.space);
      if (!byK) groups.set(j.plan.space, (byK = new Map()));
      const g = byK.get(j.plan.k);
      if (g) g.push(j); else byK.set(j.plan.k, [j]);
    }
    for (const byK of groups.values()) {
      for (const [k, group] of byK) {
        try {
          const space = group[0]!.plan.space, stride = group[0]!.code.stride;
          const queries = new Uint32Array(group.length * stride);
          group.forEach((j, i) => queries.set(j.code.data.subarray(0, stride), i * stride));
          const hits = space.knn(queries, group.length, k);
          group.forEach((j, i) => {
            try {
              const h = hits[i]!;
              const maxD = j.plan.maxDistance;
              let m = h.ids.length;
              if (maxD !== undefined) { m = 0; while (m < h.ids.length && h.distances[m]! <= maxD) m++; }
              j.resolve(j.collection.answer(j.snap, j.q, m === h.ids.length ? h : { ids: h.ids.slice(0, m), distances: h.distances.subarray(0, m) }));
            } catch (e) { j.reject(e); }
          });
        } catch (e) { for (const j of group) j.reject(e); }
      }
    }
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      // a batch still waiting to run: its answers are not written yet, keep holding
      if (this.runScheduled) { this.scheduleFlush(); return; }
      for (const s of this.corked) if (!s.destroyed) { while (s.writableCorked > 0) s.uncork(); }
      this.corked.clear();
    });
  }
}
