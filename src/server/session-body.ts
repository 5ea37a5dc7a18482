// A session request carries thousands of items with hundreds of numbers each (3,000 × 384 features
// ≈ 5 MB of JSON): parsing and schema-validating it took the event loop 130–475 ms, every search
// waiting meanwhile. So the session route takes the body as raw bytes and a worker thread parses,
// validates (the same JSON schema and messages fastify would give), converts and checks it; the
// event loop only copies the bytes out and wraps the features it gets back (transferred, not copied).
import { Worker } from 'node:worker_threads';
import type { CollectionConfig } from '../product/collection-config.js';
import type { Collection, ItemInput } from '../product/collection.js';
import type { Vocabulary } from '../data/text-features.js';
import { InputError } from '../util/errors.js';
import type { WorkerEntry } from '../util/worker-entry.js';

export interface SessionBodyWorkerData {
  bytes: ArrayBuffer;
  schema: object;
  config: CollectionConfig;
  vocabulary: Vocabulary | null;
}

export type SessionBodyMessage =
  | { type: 'ok'; ids: string[]; labels: string[][]; metadata: unknown[]; image: Float32Array; text: Float32Array; name?: string; epochs?: number; seed?: number }
  | { type: 'error'; message: string };

export interface SessionRequest { items: ItemInput[]; name?: string; epochs?: number; seed?: number }

/** Parses and checks a session body (raw JSON bytes) for collection `c` on a worker thread; bad input → InputError. */
export function parseSessionBody(body: Buffer, schema: object, c: Collection): Promise<SessionRequest> {
  const bytes = new Uint8Array(body).buffer; // a copy of our own to transfer (fastify's may share a pool)
  const data: SessionBodyWorkerData = { bytes, schema, config: c.config, vocabulary: c.vocabulary };
  return new Promise((resolve, reject) => {
    let done = false;
    // at a lower priority (util/worker-entry.ts): parsing may take a moment longer, searches do not wait
    const entry: WorkerEntry = { module: new URL('./session-body-worker.js', import.meta.url).href, lowPriority: true };
    const worker = new Worker(new URL('../util/worker-entry.js', import.meta.url), { workerData: { ...data, entry }, transferList: [bytes] });
    worker.once('message', (m: SessionBodyMessage) => {
      done = true;
      if (m.type === 'error') { reject(new InputError(m.message)); return; }
      const dI = c.config.imageDim, dT = c.config.textDim;
      const items: ItemInput[] = m.ids.map((id, i) => ({
        id, image: m.image.subarray(i * dI, (i + 1) * dI), text: m.text.subarray(i * dT, (i + 1) * dT), labels: m.labels[i]!, metadata: m.metadata[i],
      }));
      resolve({ items, name: m.name, epochs: m.epochs, seed: m.seed });
    });
    worker.once('error', (e) => { if (!done) { done = true; reject(new Error(`session body worker: ${e.message}`)); } });
    worker.once('exit', (code) => { if (!done) { done = true; reject(new Error(`session body worker exited (code ${code})`)); } });
  });
}
