// Batches the kernel work of concurrent searches.
//
// Requests that arrive while the previous batch is being scanned (several connections, or
// pipelined requests on one) are queued; each group with the same codes and k then runs as one
// kernel call over all its queries — on the scan worker (scan-offload.ts) for large flat code sets,
// so the event loop keeps serving meanwhile, otherwise on the event loop. Each request is answered
// from its own snapshot, exactly as a lone search would be (same hits, same tie order).
import type { Collection, CodeQuery, SearchAnswer, SearchPlan } from '../product/collection.js';
import type { PackedCodes } from '../codes/packed-codes.js';
import type { SearchHits } from '../index/code-index.js';
import type { CollectionSnapshot } from '../product/snapshot.js';
import type { SnapshotIndex } from '../index/snapshot-index.js';
import type { ScanOffload } from './scan-offload.js';

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

  /** Batches on the scan worker not answered yet (the next batch waits for them: it grows meanwhile). */
  private inFlight = 0;

  private offload: ScanOffload | null = null;
  private offloadStart: Promise<unknown> | null = null;
  private offloadStarted = false;
  private closed = false;

  /**
   * `startOffload` starts the scan worker (null: scan on the event loop), on the first search of a
   * flat code set of at least `offloadMinCodes` codes (below that a scan costs less than the
   * hand-over); until it is up, scans run on the event loop.
   */
  constructor(private readonly maxResults: number, private readonly startOffload: (() => Promise<ScanOffload | null>) | null = null,
    private readonly offloadMinCodes = 100_000) {}

  /** Stops the scan worker (service shutdown). */
  async close(): Promise<void> {
    this.closed = true;
    await this.offloadStart;
    await this.offload?.close();
    this.offload = null;
  }

  /** Whether `space` is scanned on the worker: yes, no, or wait until the worker has started. */
  private offloadFor(space: SnapshotIndex): 'yes' | 'no' | 'wait' {
    if (!space.scans || space.size < this.offloadMinCodes || this.closed || !this.startOffload) return 'no';
    if (this.offload) return this.offload.usable ? 'yes' : 'no';
    if (!this.offloadStart) {
      this.offloadStart = this.startOffload().then((o) => { if (this.closed) void o?.close(); else this.offload = o; }, () => undefined);
      void this.offloadStart.then(() => { this.offloadStarted = true; });
    }
    return this.offloadStarted ? 'no' : 'wait'; // started and still null: no worker
  }

  /** Searches one query code in `snap` (validated now, scanned with the batch of this turn). */
  search(collection: Collection, snap: CollectionSnapshot, code: PackedCodes, q: CodeQuery): Promise<SearchAnswer> {
    const plan = collection.planSearch(snap, code, q, this.maxResults); // throws on bad input, before queueing
    return new Promise((resolve, reject) => {
      this.queue.push({ collection, snap, code, q, plan, resolve, reject });
      this.scheduleRun();
    });
  }

  private scheduleRun(): void {
    if (this.runScheduled || this.inFlight > 0 || this.queue.length === 0) return;
    this.runScheduled = true;
    setImmediate(() => this.run());
  }

  private run(): void {
    this.runScheduled = false;
    const jobs = this.queue;
    this.queue = [];
    // group by (codes, k): one kernel call per group; the radius cut is applied per query
    const groups = new Map<SnapshotIndex, Map<number, Job[]>>();
    for (const j of jobs) {
      let byK = groups.get(j.plan.space);
      if (!byK) groups.set(j.plan.space, (byK = new Map()));
      const g = byK.get(j.plan.k);
      if (g) g.push(j); else byK.set(j.plan.k, [j]);
    }
    for (const [space, byK] of groups) {
      for (const [k, group] of byK) this.runGroup(space, k, group);
    }
  }

  private runGroup(space: SnapshotIndex, k: number, group: Job[]): void {
    const stride = group[0]!.code.stride, nq = group.length, kk = Math.min(k, space.size);
    const queries = new Uint32Array(nq * stride);
    for (let i = 0; i < nq; i++) queries.set(group[i]!.code.data.subarray(0, stride), i * stride);
    const answer = (hitsOf: (i: number, j: Job) => SearchHits) => {
      for (let i = 0; i < nq; i++) {
        const j = group[i]!;
        try { j.resolve(j.collection.answer(j.snap, j.q, hitsOf(i, j))); } catch (e) { j.reject(e); }
      }
    };
    const where = kk > 0 ? this.offloadFor(space) : 'no';
    if (where === 'wait') {
      // the first large search waits for the worker to start (once, tens of ms)
      this.inFlight++;
      void this.offloadStart!.then(() => { this.inFlight--; this.runGroup(space, k, group); this.scheduleRun(); });
      return;
    }
    if (where === 'yes') {
      this.inFlight++;
      this.offload!.knn(space, queries, nq, kk).then(
        ({ pos, dist }) => answer((i, j) => space.hitsOf(pos.subarray(i * kk, (i + 1) * kk), dist.subarray(i * kk, (i + 1) * kk), 1, kk, j.plan.maxDistance)[0]!),
        (e) => { for (const j of group) j.reject(e); },
      ).finally(() => { this.inFlight--; this.scheduleRun(); });
      return;
    }
    try {
      if (space.scans) { // one kernel call for the whole group; each query's radius cut after
        const hits = space.knn(queries, nq, k);
        answer((i, j) => cut(hits[i]!, j.plan.maxDistance));
      } else { // a multi-index answers one query at a time and probes only as far as the query's radius
        answer((i, j) => space.knn(queries.subarray(i * stride, (i + 1) * stride), 1, k, j.plan.maxDistance)[0]!);
      }
    } catch (e) { for (const j of group) j.reject(e); }
  }
}

/** Hits cut to distance ≤ maxDistance (they come sorted by distance). */
function cut(h: SearchHits, maxDistance: number | undefined): SearchHits {
  if (maxDistance === undefined) return h;
  let m = 0;
  while (m < h.ids.length && h.distances[m]! <= maxDistance) m++;
  return m === h.ids.length ? h : { ids: h.ids.slice(0, m), distances: h.distances.subarray(0, m) };
}
