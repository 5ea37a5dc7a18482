// Cross-site request forgery: a page on another site can make the browser send a POST here without
// asking first — a multipart/form-data upload is a CORS "simple" request, no preflight — and the
// write happens even though the page cannot read the answer. So a request that may change something
// (any method but GET, HEAD, OPTIONS) is refused with 403 when the browser says it comes from
// another origin: an `Origin` that is neither this service's own nor a --cors-origin, or
// `Sec-Fetch-Site: cross-site` without a --cors-origin Origin. Requests without these headers
// (curl, the CLI, scripts) are not sent by a web page and pass. Applied with or without tokens: a
// page cannot attach a bearer token, but one rule is simpler to state and to check.
import type { FastifyInstance } from 'fastify';

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Whether `origin` is this service's own origin: its host[:port] is the Host header's. Either scheme
 * counts — the service speaks http, but behind an HTTPS proxy that passes Host on, its page's
 * origin is https://<Host>; an origin can have this host and port only if it is served from them.
 */
export function isOwnOrigin(origin: string, host: string | undefined): boolean {
  if (!host || /[\s/\\@?#]/.test(host)) return false;
  try {
    const o = new URL(origin);
    if (o.protocol !== 'http:' && o.protocol !== 'https:') return false;
    return o.host === new URL(`${o.protocol}//${host}`).host; // both without the scheme's default port
  } catch { return false; } // "null" (sandboxed frames, file: pages) and other non-URLs
}

type Headers = Record<string, string | string[] | undefined>;
const one = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v.join(', ') : v);

/** The refusal message for a request from another origin, or null when it may proceed. */
export function crossOriginRefusal(method: string, headers: Headers, corsOrigins: ReadonlySet<string>): string | null {
  if (SAFE.has(method)) return null;
  const origin = one(headers.origin);
  if (origin !== undefined && corsOrigins.has(origin)) return null;
  if (origin !== undefined && !isOwnOrigin(origin, one(headers.host))) {
    return `cross-origin ${method} refused: Origin ${JSON.stringify(origin)} is neither this service's origin nor one of its --cors-origin origins`;
  }
  if (one(headers['sec-fetch-site']) === 'cross-site') {
    return `cross-origin ${method} refused: Sec-Fetch-Site is cross-site and the Origin (${origin === undefined ? 'none' : JSON.stringify(origin)}) is not one of this service's --cors-origin origins`;
  }
  return null;
}

/** Adds the check as an onRequest hook on every route (call before any route is registered). */
export function registerOriginCheck(app: FastifyInstance, corsOrigins: readonly string[]): void {
  const allowed = new Set(corsOrigins);
  app.addHook('onRequest', async (req, reply) => {
    const refusal = crossOriginRefusal(req.method, req.headers, allowed);
    if (refusal) return reply.status(403).send({ statusCode: 403, error: 'Forbidden', message: refusal });
  });
}
