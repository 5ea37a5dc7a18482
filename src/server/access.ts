// Access control of the service. With tokens configured every route needs one, by scope:
//   open  — no token: the search page's HTML, /health (load balancers), /openapi.json, CORS preflight;
//   read  — GET/HEAD routes (collections, items, thumbnails, jobs, /metrics) and routes whose config
//           says `access: 'read'` (the search POSTs, which change nothing);
//   write — every other method (adds, removals, sessions), so a new DELETE or POST route is
//           write-only unless it opts down explicitly.
// A token comes as `Authorization: Bearer T` or `X-Api-Key: T`. 401 when it is missing or unknown,
// 403 when a read token asks for a write route. Presented tokens are hashed and compared with
// every configured hash in constant time, so neither the match nor its position leaks by timing.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest, RouteOptions } from 'fastify';

export type Scope = 'read' | 'write';
export type Access = 'open' | Scope;
export interface AccessToken { scope: Scope; token: string }

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Token scope the route needs when tokens are configured (default: read for GET/HEAD, else write). */
    access?: Access;
  }
}

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** The scope a route needs: its config's `access`, else read for GET/HEAD/OPTIONS-free reads, write otherwise. */
export function routeAccess(method: string, config: { access?: Access } | undefined): Access {
  if (method === 'OPTIONS') return 'open'; // CORS preflight never carries credentials
  if (config?.access) return config.access;
  return method === 'GET' || method === 'HEAD' ? 'read' : 'write';
}

/** The token of a request, from `Authorization: Bearer` or `X-Api-Key`; null when neither is there. */
export function presentedToken(req: FastifyRequest): string | null {
  const auth = req.headers.authorization;
  if (typeof auth === 'string') {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    return m ? m[1]! : '';
  }
  const key = req.headers['x-api-key'];
  return typeof key === 'string' ? key.trim() : null;
}

export class AccessTokens {
  private readonly hashes: { scope: Scope; hash: Buffer }[];
  constructor(tokens: readonly AccessToken[]) {
    this.hashes = tokens.map((t) => ({ scope: t.scope, hash: digest(t.token) }));
  }

  get enabled(): boolean { return this.hashes.length > 0; }

  /** The scope of a presented token, or null. Looks at every entry (no early exit). */
  scopeOf(token: string): Scope | null {
    const h = digest(token);
    let found: Scope | null = null;
    for (const e of this.hashes) if (timingSafeEqual(h, e.hash) && found === null) found = e.scope;
    return found;
  }

  /** A route-level onRequest hook enforcing the route's scope. */
  hookFor(route: RouteOptions): ((req: FastifyRequest, reply: FastifyReply) => Promise<void>) | null {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const needs = new Map(methods.map((m) => [m, routeAccess(m, route.config as { access?: Access })]));
    if ([...needs.values()].every((a) => a === 'open')) return null;
    return async (req, reply) => {
      const need = needs.get(req.method) ?? 'write';
      if (need === 'open') return;
      const token = presentedToken(req);
      const scope = token ? this.scopeOf(token) : null;
      if (!scope) {
        const message = token === null
          ? `this service needs an access token: send "Authorization: Bearer <token>" (or "X-Api-Key: <token>") with a ${need} token`
          : 'the access token is not valid';
        void reply.header('www-authenticate', 'Bearer realm="cmhash"');
        return reply.status(401).send({ statusCode: 401, error: 'Unauthorized', message });
      }
      if (need === 'write' && scope !== 'write') {
        return reply.status(403).send({ statusCode: 403, error: 'Forbidden', message: `${req.method} ${req.routeOptions.url ?? ''} needs a write token; this token is read-only` });
      }
    };
  }
}

/** Adds the access hook to every route registered after it (call after the rate limiter, so it runs first). */
export function attachAccessControl(app: { addHook(name: 'onRoute', fn: (r: RouteOptions) => void): unknown }, tokens: AccessTokens): void {
  if (!tokens.enabled) return;
  app.addHook('onRoute', (route) => {
    const hook = tokens.hookFor(route);
    if (!hook) return;
    const existing = route.onRequest;
    route.onRequest = existing ? [...(Array.isArray(existing) ? existing : [existing]), hook] : [hook];
  });
}
