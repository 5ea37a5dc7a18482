// A session request carries thousands of items with hundreds of numbers each (3,000 × 384 features
// ≈ 5 MB of JSON): parsing and schema-validating it took the event loop 130–475 ms, every search
// waiting meanwhile, and even assembling the 5 MB body in one buffer took 15–45 ms. So the session
// route takes the body as a stream, hands each chunk to a worker thread as it arrives, and the worker
// parses, validates (the same JSON schema and messages fastify would give), converts and checks it;
// the event loop only passes chunks on and wraps the features it gets back (transferred, not copied;
// a session update on the training worker hands the same two arrays on, see handOverFeatures).
//
// The chunks travel in buffers the worker hands back once it has copied them (a pool, started with the
// service): on this kind of VM every first touch of a fresh 4 KiB page costs the touching thread
// 15–25 µs, so copying a 5 MB body into fresh buffers took the event loop 20–25 ms per 4 MB
// (`bench serve-train --stalls`: two stalls of ~24 ms on CPU with ~1,030 page faults each); pooled
// buffers are touched once.
import { Worker } from 'node:worker_threads';
import type { CollectionConfig } from '../product/collection-config.js';
import type { Collection, ItemInput } from '../product/collection.js';
import type { Vocabulary } from '../data/text-features.js';
import { handOverFeatures } from '../product/session-update.js';
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
  | { id: number; type: 'free'; buffer: ArrayBuffer }
  | { id: number; type: 'ok'; ids: string[]; labels: string[][]; metadata: unknown[]; image: Float32Array; text: Float32Array; name?: string; epochs?: number; seed?: number }
  | { id: number; type: 'error'; message: string };

/** The worker's answer to a request (its other message, 'free', returns a chunk buffer). */
type SessionBodyAnswer = Exclude<SessionBodyMessage, { type: 'free' }>;

export interface SessionRequest { items: ItemInput[]; name?: string; epochs?: number; seed?: number }

/**
 * One parsing worker per process, started with the service (prestartSessionBodyWorker) so that no
 * thread starts while a session arrives; requests are told apart by id. It keeps the process alive
 * only while a request is in flight; if it dies, the requests in flight fail and the next one
 * starts a new worker.
 */
interface Shared { worker: Worker; pending: Map<number, { resolve: (m: SessionBodyAnswer) => void; reject: (e: Error) => void }> }
let shared: Shared | null = null;
let nextId = 1;

/**
 * Chunk buffers: the worker sends each one back after copying its bytes, so a body streams through
 * the same few pages (touched once, when the pool is filled) instead of fresh memory. Socket chunks
 * (at most 64 KiB) are copied into them; a larger one is split. When the pool is empty the upload
 * waits for a buffer to come back (the request is not read meanwhile: the socket holds the rest)
 * instead of taking fresh memory — a loopback client sends a 5 MB body faster than the parsing
 * worker (at low priority) returns buffers, and the fresh pages cost the serving thread 1,000-2,400
 * page faults, a 4-5 ms stall, at the upload's start. A worker that dies hands its waiters fresh
 * buffers at once (failAll); otherwise a fresh buffer is taken only if none comes back within
 * WAIT_MS (a worker starved of CPU that long, or a buffer that never comes back, must not hold an upload).
 */
const CHUNK_BYTES = 64 << 10;
const POOL_START = 16, POOL_MAX = 64, WAIT_MS = 200;
const pool: ArrayBuffer[] = [];
const waiting: ((b: ArrayBuffer) => void)[] = [];
/** Buffers taken fresh because none came back in time (for tests and diagnostics). */
let freshBuffers = 0;
export function freshChunkBuffers(): number { return freshBuffers; }

function takeBuffer(): ArrayBuffer | Promise<ArrayBuffer> {
  const b = pool.pop();
  if (b) return b;
  return new Promise<ArrayBuffer>((resolve) => {
    const give = (got: ArrayBuffer) => { clearTimeout(timer); resolve(got); };
    const timer = setTimeout(() => {
      const i = waiting.indexOf(give);
      if (i >= 0) waiting.splice(i, 1);
      freshBuffers++;
      resolve(new ArrayBuffer(CHUNK_BYTES));
    }, WAIT_MS);
    waiting.push(give);
  });
}

/** A buffer the worker sent back: to the longest waiting upload, else to the pool. */
function giveBack(b: ArrayBuffer): void {
  if (b.byteLength !== CHUNK_BYTES) return;
  const next = waiting.shift();
  if (next) next(b);
  else if (pool.length < POOL_MAX) pool.push(b);
}

/** Fills the pool with buffers whose pages are already touched (at service start). */
function fillPool(): void {
  while (pool.length < POOL_START) { const b = new ArrayBuffer(CHUNK_BYTES); new Uint8Array(b).fill(1); pool.push(b); }
}

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
    // uploads waiting for a buffer this worker held go on at once (and stop at their failed answer)
    for (const give of waiting.splice(0)) give(new ArrayBuffer(CHUNK_BYTES));
  };
  worker.on('message', (m: SessionBodyMessage) => {
    if (m.type === 'free') { giveBack(m.buffer); return; }
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

/** Stops the parsing worker (requests in flight fail; the next request starts a new one). */
export async function stopSessionBodyWorker(): Promise<void> {
  if (shared) await shared.worker.terminate();
}

/** Starts the parsing worker now (the service calls it at start-up). */
export function prestartSessionBodyWorker(): void { bodyWorker(); fillPool(); }

/**
 * Parses and checks a session body for collection `c` on the parsing worker, streaming the
 * request's bytes to it as they arrive (each socket chunk is copied into a pooled buffer and handed
 * over; the event loop never holds the whole body, nor parses it). Bad input → InputError; more than `limit` bytes → 413.
 */
export async function parseSessionBody(body: AsyncIterable<Uint8Array>, limit: number, schema: object, c: Collection): Promise<SessionRequest> {
  const { worker, pending } = bodyWorker();
  const id = nextId++;
  const answer = new Promise<SessionBodyAnswer>((resolve, reject) => pending.set(id, { resolve, reject }));
  let failed: Error | null = null; // the worker died: stop reading the body
  answer.catch((e: Error) => { failed = e; }); // observed below; a failure while streaming must not go unhandled
  worker.ref();
  const send = (m: SessionBodyRequest, transfer: ArrayBuffer[] = []) => worker.postMessage(m, transfer);
  send({ id, type: 'begin', data: { schema, config: c.config, vocabulary: c.vocabulary } });
  try {
    let bytes = 0;
    for await (const chunk of body) {
      if (failed) throw failed;
      bytes += chunk.byteLength;
      if (bytes > limit) throw new CmhashError(`request body too large (limit ${limit} bytes)`, 2, 413);
      for (let at = 0; at < chunk.byteLength; at += CHUNK_BYTES) {
        const part = chunk.subarray(at, Math.min(chunk.byteLength, at + CHUNK_BYTES));
        const buffer = await takeBuffer();
        const copy = new Uint8Array(buffer, 0, part.byteLength);
        copy.set(part);
        send({ id, type: 'chunk', chunk: copy }, [buffer]);
      }
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
  // the two arrays are these items' only: a session update on the training worker takes them as they are
  handOverFeatures(items, m.image, m.text);
  return { items, name: m.name, epochs: m.epochs, seed: m.seed };
}
