// A session request carries thousands of items with hundreds of numbers each (3,000 × 384 features
// ≈ 5 MB of JSON): parsing and schema-validating it took the event loop 130–475 ms, every search
// waiting meanwhile, and even assembling the 5 MB body in one buffer took 15–45 ms. So the session
// route takes the body as a stream, hands each chunk to a worker thread as it arrives, and the worker
// parses, validates (the same JSON schema and messages fastify would give), converts and checks it;
// the event loop only passes chunks on and wraps the features it gets back (transferred, not copied).
import { Worker } from 'node:worker_threads';
import type { CollectionConfig } from '../product/collection-config.js';
import type { Collection, ItemInput } from '../product/collection.js';
import type { Vocabulary } from '../data/text-features.js';
import { CmhashError, InputError } from '../util/errors.js';
import type { WorkerEntry } from '../util/worker-entry.js';

export interface SessionBodyWorkerData {
  schema: object;
  config: CollectionConfig;
  vocabulary: Vocabulary | null;
}

/** Messages to the worker: a request's settings, its bytes chunk by chunk, its end. */
export type SessionBodyRequest =
  | { id: number; type: 'begin'; data: SessionBodyWorkerData }
  | { id: number; type: 'chunk'; chunk: Uint8Array }
  | { id: number; type: 'end' };

export type SessionBodyMessage =
  | { id: number; type: 'ok'; ids: string[]; labels: string[][]; metadata: unknown[]; image: Float32Array; text: Float32Array; name?: string; epochs?: number; seed?: number }
  | { id: number; type: 'error'; message: string };

export interface SessionRequest { items: ItemInput[]; name?: string; epochs?: number; seed?: number }

/**
 * One parsing worker per process, started with the service (prestartSessionBodyWorker) so that no
 * thread starts while a session arrives; requests are told apart by id. It keeps the process alive
 * only while a request is in flight; if it dies, the requests in flight fail and the next one
 * starts a new worker.
 */
interface Shared { worker: Worker; pending: Map<number, { resolve: (m: SessionBodyMessage) => void; reject: (e: Error) => void }> }
let shared: Shared | null = null;
let nextId = 1;

function bodyWorker(): Shared {
  if (shared) return shared;
  // at a lower priority (util/worker-entry.ts): parsing may take a moment longer, searches do not wait
  const entry: WorkerEntry = { module: new URL('./session-body-worker.js', import.meta.url).href, lowPriority: true };
  const worker = new Worker(new URL('../util/worker-entry.js', import.meta.url), { workerData: { entry } });
  const me: Shared = { worker, pending: new Map() };
  const failAll = (e: Error) => {
    if (shared === me) shared = null;
    for (const p of me.pending.values()) p.reject(e);
    me.pending.clear();
  };
  worker.on('message', (m: SessionBodyMessage) => {
    const p = me.pending.get(m.id);
    me.pending.delete(m.id);
    if (me.pending.size === 0) worker.unref();
    p?.resolve(m);
  });
  worker.on('error', (e) => failAll(new Error(`session body worker: ${e.message}`)));
  worker.on('exit', (code) => failAll(new Error(`session body worker exited (code ${code})`)));
  worker.unref();
  shared = me;
  return me;
}

/** Starts the parsing worker now (the service calls it at start-up). */
export function prestartSessionBodyWorker(): void { bodyWorker(); }

/**
 * Parses and checks a session body for collection `c` on the parsing worker, streaming the
 * request's bytes to it as they arrive (each socket chunk is copied and handed over; the event loop
 * never holds the whole body, nor parses it). Bad input → InputError; more than `limit` bytes → 413.
 */
export async function parseSessionBody(body: AsyncIterable<Uint8Array>, limit: number, schema: object, c: Collection): Promise<SessionRequest> {
  const { worker, pending } = bodyWorker();
  const id = nextId++;
  const answer = new Promise<SessionBodyMessage>((resolve, reject) => pending.set(id, { resolve, reject }));
  answer.catch(() => undefined); // observed below; a failure while streaming must not go unhandled
  worker.ref();
  const send = (m: SessionBodyRequest, transfer: ArrayBuffer[] = []) => worker.postMessage(m, transfer);
  send({ id, type: 'begin', data: { schema, config: c.config, vocabulary: c.vocabulary } });
  try {
    let bytes = 0;
    for await (const chunk of body) {
      bytes += chunk.byteLength;
      if (bytes > limit) throw new CmhashError(`request body too large (limit ${limit} bytes)`, 2, 413);
      const copy = new Uint8Array(chunk.byteLength);
      copy.set(chunk);
      send({ id, type: 'chunk', chunk: copy }, [copy.buffer]);
    }
  } catch (e) {
    send({ id, type: 'end' }); // the worker drops the request; its answer is not awaited
    pending.delete(id);
    if (pending.size === 0) worker.unref();
    throw e;
  }
  send({ id, type: 'end' });
  const m = await answer;
  if (m.type === 'error') throw new InputError(m.message);
  const dI = c.config.imageDim, dT = c.config.textDim;
  const items: ItemInput[] = m.ids.map((id, i) => ({
    id, image: m.image.subarray(i * dI, (i + 1) * dI), text: m.text.subarray(i * dT, (i + 1) * dT), labels: m.labels[i]!, metadata: m.metadata[i],
  }));
  return { items, name: m.name, epochs: m.epochs, seed: m.seed };
}
