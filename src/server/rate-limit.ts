// Per-client rate limit (@fastify/rate-limit, in-memory, keyed by the client's address): past
// `perMinute` requests in a one-minute window a client gets 429 with Retry-After and the usual JSON
// error body. /health is exempt so load balancers never see 429. 0 turns the limit off — the
// library default, so `cmhash bench serve` (one loopback client at thousands of requests/s) is
// not throttled; `cmhash serve` sets its own default (cli/commands/serve.ts).
import type { FastifyInstance } from 'fastify';
import rateLimit from '@fastify/rate-limit';

export async function registerRateLimit(app: FastifyInstance, perMinute: number): Promise<void> {
  if (perMinute <= 0) return;
  await app.register(rateLimit, {
    global: true,
    max: perMinute,
    timeWindow: 60_000,
    // the message the error handler sends as the 429 body
    errorResponseBuilder: (_req, ctx) => Object.assign(new Error(`rate limit exceeded: at most ${ctx.max} requests per minute per client; retry in ${ctx.after}`), { statusCode: ctx.statusCode }),
  });
}
