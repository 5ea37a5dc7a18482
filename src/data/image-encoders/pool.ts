// Encodes image files on several threads: one worker thread per thread, each with its own copy of
// the encoder (TensorFlow.js's WebAssembly backend runs single-threaded under Node, so parallelism
// comes from separate workers). threads = 1 encodes in this thread, with no worker.
import { Worker } from 'node:worker_threads';
import { InputError } from '../../util/errors.js';
import { getImageEncoder, imageEncoderEntry, type ImageEncoder } from './encoder.js';

interface Pending { resolve(v: Float32Array): void; reject(e: Error): void }
interface Slot { worker: Worker; busy: number }

export class EncoderPool {
  private nextId = 0;
  private readonly pending = new Map<number, Pending>();
  private constructor(readonly name: string, readonly dim: number, readonly version: string, readonly threads: number,
    private readonly local: ImageEncoder | null, private readonly slots: Slot[]) {}

  static async open(nameOrId: string, threads = 1): Promise<EncoderPool> {
    if (!Number.isInteger(threads) || threads < 1) throw new InputError(`threads: expected a positive integer, got ${threads}`);
    const entry = imageEncoderEntry(nameOrId);
    if (threads === 1) {
      const e = await getImageEncoder(entry.name);
      return new EncoderPool(e.name, e.dim, e.version, 1, e, []);
    }
    const slots: Slot[] = []; let version = '';
    const pool = new EncoderPool(entry.name, entry.dim, '', threads, null, slots);
    try {
      for (let t = 0; t < threads; t++) {
        const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: { encoder: entry.name } });
        const slot: Slot = { worker, busy: 0 };
        slots.push(slot);
        const ready = await new Promise<{ version?: string; error?: string }>((res, rej) => {
          worker.once('message', res); worker.once('error', rej);
        });
        if (ready.error) throw new InputError(`image encoder ${entry.name}: ${ready.error}`);
        version = ready.version!;
        worker.on('message', (m: { id: number; v?: Float32Array; error?: string }) => {
          const p = pool.pending.get(m.id); if (!p) return;
          pool.pending.delete(m.id); slot.busy--;
          if (m.error !== undefined) p.reject(new InputError(m.error)); else p.resolve(m.v!);
        });
        worker.on('error', (err) => { for (const p of pool.pending.values()) p.reject(err); pool.pending.clear(); });
      }
    } catch (e) { await pool.close(); throw e; }
    (pool as { version: string }).version = version;
    return pool;
  }

  /** Encodes one file on the least busy thread. */
  encodeFile(path: string): Promise<Float32Array> {
    if (this.local) return this.local.encodeFile(path);
    const slot = this.slots.reduce((a, b) => (b.busy < a.busy ? b : a));
    const id = this.nextId++;
    slot.busy++;
    return new Promise((resolve, reject) => { this.pending.set(id, { resolve, reject }); slot.worker.postMessage({ id, path }); });
  }

  async close(): Promise<void> { await Promise.all(this.slots.map((s) => s.worker.terminate())); }
}
