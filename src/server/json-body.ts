// The JSON body parser: fastify's own (secure-json-parse, which refuses `__proto__` keys and
// `constructor.prototype` — prototype-poisoning payloads), with accurate messages. Fastify's parser
// answers every refusal with "Body is not valid JSON"; this one says whether the JSON is malformed
// (and where) or valid but carries a forbidden key.
import type { FastifyInstance } from 'fastify';
import { InputError } from '../util/errors.js';

export function registerJsonParser(app: FastifyInstance): void {
  const secure = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    secure(req, body as string, (err, value) => {
      if (!err || (err as { code?: string }).code !== 'FST_ERR_CTP_INVALID_JSON_BODY') { done(err, value); return; }
      done(new InputError(whyNotAccepted(String(body))), undefined);
    });
  });
}

/** Why a body refused by secure-json-parse was refused. */
export function whyNotAccepted(text: string): string {
  let value: unknown;
  try {
    value = JSON.parse(text); // plain JSON.parse keeps "__proto__" as an ordinary own key
  } catch (e) {
    return `request body is not valid JSON (${(e as Error).message})`;
  }
  return poisonedKeyMessage(value) ?? 'request body contains a "constructor" key with a "prototype" key inside, which is not accepted (prototype poisoning)';
}

/** The refusal for a parsed body carrying a prototype-poisoning key, or null when it has none. */
export function poisonedKeyMessage(value: unknown): string | null {
  if (hasOwnKey(value, '__proto__')) return 'request body contains a "__proto__" key, which is not accepted (prototype poisoning)';
  if (hasConstructorPrototype(value)) return 'request body contains a "constructor" key with a "prototype" key inside, which is not accepted (prototype poisoning)';
  return null;
}

function hasConstructorPrototype(root: unknown): boolean {
  const stack = [root];
  while (stack.length > 0) {
    const v = stack.pop();
    if (v === null || typeof v !== 'object') continue;
    const ctor = Array.isArray(v) ? undefined : (Object.prototype.hasOwnProperty.call(v, 'constructor') ? (v as { constructor: unknown }).constructor : undefined);
    if (ctor !== null && typeof ctor === 'object' && Object.prototype.hasOwnProperty.call(ctor, 'prototype')) return true;
    for (const child of Object.values(v as object)) stack.push(child);
  }
  return false;
}

function hasOwnKey(root: unknown, key: string): boolean {
  const stack = [root];
  while (stack.length > 0) {
    const v = stack.pop();
    if (v === null || typeof v !== 'object') continue;
    if (!Array.isArray(v) && Object.prototype.hasOwnProperty.call(v, key)) return true;
    for (const child of Object.values(v as object)) stack.push(child);
  }
  return false;
}
