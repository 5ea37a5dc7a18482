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

export type SessionBodyMessage =
  | { type: 'ok'; ids: string[]; labels: string[][]; metadata: unknown[]; image: Float32Array; text: Float32Array; name?: string; epochs?: number; seed?: number }
  | { type: 'error'; message: string };

export interface SessionRequest { items: ItemInput[]; name?: string; epochs?: number; seed?: number }

/**
 * Parses and checks a session body for collection `c` on a worker thread, streaming the request's
 * bytes to it as they arrive (each socket chunk is copied and handed over; the event loop never
 * holds the whole body, nor parses it). Bad input → InputError; more than `limit` bytes → 413.
 */
export async function parseSessionBody(body: AsyncIterable<Uint8Array>, limit: number, schema: object, c: Collection): Promise<SessionRequest> {
  const data: SessionBodyWorkerData = { schema, config: c.config, vocabulary: c.vocabulary };
  // at a lower priority (util/worker-entry.ts): parsing may take a moment longer, searches do not wait
  const entry: WorkerEntry = { module: new URL('./session-body-worker.js', import.meta.url).href, lowPriority: true };
  const worker = new Worker(new URL('../util/worker-entry.js', import.meta.url), { workerData: { ...data, entry } });
  const answer = new Promise<SessionBodyMessage>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', (e) => reject(new Error(`session body worker: ${e.message}`)));
    worker.once('exit', (code) => reject(new Error(`session body worker exited (code ${code})`)));
  });
  answer.catch(() => undefined); // observed below; a failure while streaming must not go unhandled
  try {
    let bytes = 0;
    for await (const chunk of body) {
      bytes += chunk.byteLength;
      if (bytes > limit) throw new CmhashError(`request body too large (limit ${limit} bytes)`, 2, 413);
      const copy = new Uint8Array(chunk.byteLength);
      copy.set(chunk);
      worker.postMessage(copy, [copy.buffer]);
    }
    worker.postMessage('end');
  } catch (e) {
    void worker.terminate();
    throw e;
  }
  const m = await answer;
  if (m.type === 'error') throw new InputError(m.message);
  const dI = c.config.imageDim, dT = c.config.textDim;
  const items: ItemInput[] = m.ids.map((id, i) => ({
    id, image: m.image.subarray(i * dI, (i + 1) * dI), text: m.text.subarray(i * dT, (i + 1) * dT), labels: m.labels[i]!, metadata: m.metadata[i],
  }));
  return { items, name: m.name, epochs: m.epochs, seed: m.seed };
}
