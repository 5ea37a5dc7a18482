// The worker thread of session-body.ts (one per process, requests by id): gathers a session
// request's bytes as they are sent to it, parses the JSON, refuses prototype-poisoning
// keys, validates it against the route's JSON schema (ajv with the service's options, fastify's
// message format), converts the items (feature widths, float32 range, raw text through the
// vocabulary) and checks them as a session (both modalities, a label each) — then sends the
// features back as two transferred Float32Arrays and the rest as plain data. Each chunk's buffer
// goes back to the serving thread's pool as soon as its bytes are copied ({type: 'free'}).
import { parentPort } from 'node:worker_threads';
import { Ajv } from 'ajv';
import { itemFromJson, type ItemContext, type ItemJson } from '../product/item-input.js';
import { checkSessionItems } from '../product/session-update.js';
import { poisonedKeyMessage } from './json-body.js';
import type { SessionBodyMessage, SessionBodyRequest, SessionBodyWorkerData } from './session-body.js';

function parse(id: number, d: SessionBodyWorkerData, bytes: Buffer): SessionBodyMessage & { type: 'ok' } {
  const text = bytes.toString('utf8');
  let body: unknown;
  try { body = JSON.parse(text); } catch (e) { throw new Error(`request body is not valid JSON (${(e as Error).message})`); }
  const poisoned = poisonedKeyMessage(body);
  if (poisoned) throw new Error(poisoned);
  const ajv = new Ajv({ allErrors: false, coerceTypes: false, removeAdditional: false, useDefaults: true, strict: false });
  const validate = ajv.compile(d.schema);
  if (!validate(body)) {
    const e = validate.errors![0]!;
    throw new Error(`invalid request: body${e.instancePath} ${e.message}`);
  }
  const b = body as { items: ItemJson[]; name?: string; epochs?: number; seed?: number };
  const ctx = { config: d.config, vocabulary: d.vocabulary } as ItemContext;
  const items = b.items.map((it, i) => itemFromJson(ctx, it, i));
  checkSessionItems(items);
  const n = items.length, dI = d.config.imageDim, dT = d.config.textDim;
  const image = new Float32Array(n * dI), text32 = new Float32Array(n * dT);
  items.forEach((it, i) => { image.set(it.image!, i * dI); text32.set(it.text!, i * dT); });
  return {
    id, type: 'ok', ids: items.map((it) => it.id), labels: items.map((it) => [...it.labels!]), metadata: items.map((it) => it.metadata ?? null),
    image, text: text32, name: b.name, epochs: b.epochs, seed: b.seed,
  };
}

const port = parentPort!;
// requests in flight: their settings and the chunks received so far
const open = new Map<number, { data: SessionBodyWorkerData; chunks: Buffer[] }>();
port.on('message', (m: SessionBodyRequest) => {
  if (m.type === 'begin') { open.set(m.id, { data: m.data, chunks: [] }); return; }
  if (m.type === 'chunk') {
    // copy the bytes out and send the buffer back for the next chunk
    open.get(m.id)?.chunks.push(Buffer.from(m.chunk));
    port.postMessage({ id: m.id, type: 'free', buffer: m.chunk.buffer as ArrayBuffer } satisfies SessionBodyMessage, [m.chunk.buffer as ArrayBuffer]);
    return;
  }
  const r = open.get(m.id);
  if (!r) return;
  open.delete(m.id);
  try {
    const ok = parse(m.id, r.data, Buffer.concat(r.chunks));
    port.postMessage(ok, [ok.image.buffer, ok.text.buffer] as ArrayBuffer[]);
  } catch (e) {
    port.postMessage({ id: m.id, type: 'error', message: e instanceof Error ? e.message : String(e) } satisfies SessionBodyMessage);
  }
});
