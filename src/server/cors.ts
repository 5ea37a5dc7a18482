// CORS: off unless origins are listed (`serve --cors-origin https://a.example …`). Only exact
// origins are allowed — no "*", no patterns — so a browser page on another site can call the API
// only when its origin was named; tokens are still required on top (access.ts).
import type { FastifyInstance } from 'fastify';
import cors from '@fastify/cors';
import { InputError } from '../util/errors.js';

/** Checks that each entry is an origin as browsers send it: scheme://host[:port], nothing more. */
export function checkCorsOrigins(origins: readonly string[]): string[] {
  return origins.map((o) => {
    let u: URL | null = null;
    try { u = new URL(o); } catch { /* reported below */ }
    if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:') || u.origin !== o) {
      throw new InputError(`--cors-origin ${JSON.stringify(o)}: expected an origin like https://app.example.com or http://localhost:3000 (scheme, host, optional port; no path, no trailing slash, no "*")`);
    }
    return o;
  });
}

export async function registerCors(app: FastifyInstance, origins: readonly string[]): Promise<void> {
  if (origins.length === 0) return;
  await app.register(cors, {
    origin: checkCorsOrigins(origins),
    methods: ['GET', 'HEAD', 'POST', 'DELETE'],
    allowedHeaders: ['content-type', 'authorization', 'x-api-key'],
    exposedHeaders: ['retry-after', 'x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset'],
    maxAge: 600,
  });
}
