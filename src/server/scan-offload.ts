// Scans on a worker thread: the exact k-NN scan of a large code set costs ~0.1 ms per query at
// 1M codes, and run on the event loop it stalls every other request meanwhile. ScanOffload moves
// a copy of each code set to the worker once, hands batches of queries to scan-worker.ts and resolves
// with the kernel's raw output (positions and distances), while the event loop goes on parsing the
// next requests and writing earlier answers.
import { Worker } from 'node:worker_threads';
import type { SnapshotIndex } from '../index/snapshot-index.js';
import { getBackend } from '../tensor/backends.js';

export interface RawHits { pos: Int32Array; dist: Int32Array }

/** Code sets kept in the worker (older snapshots' sets are dropped first). */
const MAX_LOADED = 8;

export class ScanOffload {
  private keys = new WeakMap<SnapshotIndex, number>();
  private loaded: number[] = [];
  private nextKey = 1;
  private nextId = 1;
  private pending = new Map<number, { resolve: (r: RawHits) => void; reject: (e: Error) => void }>();
  private failed: Error | null = null;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (m: { id: number; pos?: Int32Array; dist?: Int32Array; error?: string }) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (this.pending.size === 0) worker.unref();
      if (m.error !== undefined) p.reject(new Error(m.error)); else p.resolve({ pos: m.pos!, dist: m.dist! });
    });
    worker.on('error', (e) => this.fail(e));
    worker.on('exit', () => this.fail(new Error('scan worker exited')));
    worker.unref();
  }

  /**
   * Starts the worker; null when it cannot run the same native kernels as this thread (then the
   * service scans on the event loop, as a lone `Collection.search` does).
   */
  static async start(): Promise<ScanOffload | null> {
    const be = getBackend();
    if (be.name !== 'native') return null;
    const worker = new Worker(new URL('./scan-worker.js', import.meta.url));
    try {
      const hello = await new Promise<{ backend: string }>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
        worker.once('exit', () => reject(new Error('scan worker exited at start')));
      });
      if (hello.backend !== `${be.name}/${be.variant}`) { await worker.terminate(); return null; }
    } catch {
      await worker.terminate().catch(() => undefined);
      return null;
    }
    return new ScanOffload(worker);
  }

  get usable(): boolean { return this.failed === null; }

  /** k-NN of nq packed queries in `space` (its flat scan order): positions and distances, nq · k each. */
  knn(space: SnapshotIndex, queries: Uint32Array, nq: number, k: number): Promise<RawHits> {
    if (this.failed) return Promise.reject(this.failed);
    const key = this.ensureLoaded(space);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      // the worker keeps the process alive only while it owes an answer
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ op: 'knn', id, key, queries, nq, k }, [queries.buffer as ArrayBuffer]);
    });
  }

  async close(): Promise<void> {
    this.fail(new Error('scan worker closed'));
    await this.worker.terminate();
  }

  private ensureLoaded(space: SnapshotIndex): number {
    let key = this.keys.get(space);
    if (key !== undefined && this.loaded.includes(key)) return key;
    key = this.nextKey++;
    this.keys.set(space, key);
    // a copy moved to the worker (the native addon does not take SharedArrayBuffer-backed arrays)
    const copy = space.packed.data.slice();
    const drop = this.loaded.length >= MAX_LOADED ? this.loaded.shift() : undefined;
    this.loaded.push(key);
    this.worker.postMessage({ op: 'load', key, data: copy, n: space.size, words64: space.packed.words64, drop }, [copy.buffer]);
    return key;
  }

  private fail(e: Error): void {
    if (!this.failed) this.failed = e;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
    this.worker.unref();
  }
}
