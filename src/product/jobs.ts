// Background jobs (session updates): each runs after the previous job of its collection finished,
// reports progress, and keeps its outcome for later GETs. Jobs live in memory; a restart forgets
// them, but a job's effect is either committed in the store or absent (the commit is atomic).
import { randomUUID } from 'node:crypto';
import { NotFoundError } from '../util/errors.js';

export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed';

export interface JobView {
  id: string;
  kind: string;
  collection: string;
  status: JobStatus;
  created: string;
  started: string | null;
  finished: string | null;
  progress: { epoch?: number; epochs?: number; message?: string } | null;
  result: unknown;
  error: string | null;
}

export type JobBody = (progress: (p: JobView['progress']) => void) => Promise<unknown>;

export interface JobManagerOptions {
  /** Keeps at most this many finished jobs (oldest dropped first; default 200). */
  keepFinished?: number;
  /**
   * Session updates train on a worker thread, so the event loop keeps serving searches while a job
   * trains (default true). false trains on the event loop itself (the behaviour before workers;
   * kept for comparison in `cmhash bench serve-train --in-thread`).
   */
  trainInWorker?: boolean;
}

export class JobManager {
  private jobs = new Map<string, JobView>();
  private tails = new Map<string, Promise<unknown>>();
  private listeners: ((j: JobView) => void)[] = [];

  private readonly keepFinished: number;
  /** Whether session jobs train on a worker thread (see JobManagerOptions). */
  readonly trainInWorker: boolean;

  /** `o`: options, or (as before) the number of finished jobs kept. */
  constructor(o: JobManagerOptions | number = {}) {
    const opts = typeof o === 'number' ? { keepFinished: o } : o;
    this.keepFinished = opts.keepFinished ?? 200;
    this.trainInWorker = opts.trainInWorker ?? true;
  }

  onChange(fn: (j: JobView) => void): void { this.listeners.push(fn); }

  /** Queues `body` after the collection's earlier jobs; `id` keeps an id given elsewhere (a job recorded in PostgreSQL). */
  submit(collection: string, kind: string, body: JobBody, id: string = randomUUID()): JobView {
    const job: JobView = { id, kind, collection, status: 'queued', created: new Date().toISOString(), started: null, finished: null, progress: null, result: null, error: null };
    this.jobs.set(job.id, job);
    const prev = this.tails.get(collection) ?? Promise.resolve();
    const run = prev.then(async () => {
      job.status = 'running'; job.started = new Date().toISOString(); this.emit(job);
      try {
        job.result = await body((p) => { job.progress = p; this.emit(job); });
        job.status = 'succeeded';
      } catch (e) {
        job.status = 'failed'; job.error = (e as Error).message;
      }
      job.finished = new Date().toISOString();
      this.emit(job);
      this.prune();
    });
    this.tails.set(collection, run);
    this.emit(job);
    return job;
  }

  /** The job with this id run by this process, or undefined. */
  find(id: string): JobView | undefined { return this.jobs.get(id); }

  get(id: string): JobView {
    const j = this.jobs.get(id);
    if (!j) throw new NotFoundError(`no job ${JSON.stringify(id)}`);
    return j;
  }

  list(collection?: string): JobView[] { return [...this.jobs.values()].filter((j) => !collection || j.collection === collection); }

  /** Resolves when every job submitted so far has finished. */
  async idle(): Promise<void> { await Promise.all([...this.tails.values()]); }

  counts(): Record<JobStatus, number> {
    const c: Record<JobStatus, number> = { queued: 0, running: 0, succeeded: 0, failed: 0 };
    for (const j of this.jobs.values()) c[j.status]++;
    return c;
  }

  private emit(j: JobView): void { for (const f of this.listeners) f(j); }

  private prune(): void {
    const done = [...this.jobs.values()].filter((j) => j.status === 'succeeded' || j.status === 'failed');
    for (let i = 0; i < done.length - this.keepFinished; i++) this.jobs.delete(done[i]!.id);
  }
}
