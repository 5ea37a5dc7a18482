// The worker thread of session-body.ts: gathers a session request's bytes as they are sent to it,
// parses the JSON, refuses prototype-poisoning
// keys, validates it against the route's JSON schema (ajv with the service's options, fastify's
// message format), converts the items (feature widths, float32 range, raw text through the
// vocabulary) and checks them as a session (both modalities, a label each) — then sends the
// features back as two transferred Float32Arrays and the rest as plain data.
import { parentPort, workerData } from 'node:worker_threads';
import { Ajv } from 'ajv';
import { itemFromJson, type ItemContext, type ItemJson } from '../product/item-input.js';
import { checkSessionItems } from '../product/session-update.js';
import { poisonedKeyMessage } from './json-body.js';
import type { SessionBodyWorkerData, SessionBodyMessage } from './session-body.js';

function parse(d: SessionBodyWorkerData, bytes: Buffer): SessionBodyMessage & { type: 'ok' } {
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
    type: 'ok', ids: items.map((it) => it.id), labels: items.map((it) => [...it.labels!]), metadata: items.map((it) => it.metadata ?? null),
    image, text: text32, name: b.name, epochs: b.epochs, seed: b.seed,
  };
}

const port = parentPort!;
const chunks: Uint8Array[] = [];
port.on('message', (m: Uint8Array | 'end') => {
  if (m !== 'end') { chunks.push(m); return; }
  try {
    const r = parse(workerData as SessionBodyWorkerData, Buffer.concat(chunks));
    port.postMessage(r, [r.image.buffer, r.text.buffer] as ArrayBuffer[]);
  } catch (e) {
    port.postMessage({ type: 'error', message: e instanceof Error ? e.message : String(e) } satisfies SessionBodyMessage);
  }
  port.close();
});
