// The page, health, metrics and the OpenAPI document. With access tokens (access.ts) the page's
// HTML, /health (for load balancers) and /openapi.json (the API's shape, no data) stay open;
// /metrics needs a read token. /health is also exempt from the rate limit.
import type { FastifyInstance } from 'fastify';
import { SEARCH_PAGE_HTML, SEARCH_PAGE_SCRIPT_CSP_HASH, SEARCH_PAGE_STYLE_CSP_HASH } from '../page/index.js';
import type { ServiceContext } from '../app.js';

export function registerSystemRoutes(app: FastifyInstance, ctx: ServiceContext): void {
  const csp = `default-src 'none'; script-src ${SEARCH_PAGE_SCRIPT_CSP_HASH}; style-src ${SEARCH_PAGE_STYLE_CSP_HASH}; img-src 'self' data: blob:; connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'`;
  app.get('/', { config: { summary: 'the search page (HTML)', produces: 'text/html', access: 'open' } }, async (_req, reply) => {
    void reply.header('content-type', 'text/html; charset=utf-8').header('content-security-policy', csp).header('x-content-type-options', 'nosniff');
    return SEARCH_PAGE_HTML;
  });
  app.get('/health', { schema: { response: { 200: ctx.schemas.health } }, config: { summary: 'liveness: status, uptime, collections loaded, jobs by status', access: 'open', rateLimit: false } }, async () => ({
    status: 'ok', uptime_s: (Date.now() - ctx.started) / 1000, collections: ctx.collections.list().length, jobs: ctx.jobs.counts(),
  }));
  app.get('/metrics', { config: { summary: 'Prometheus metrics (text exposition format)', produces: 'text/plain' } }, async (_req, reply) => {
    void reply.header('content-type', ctx.metrics.registry.contentType);
    return ctx.metrics.registry.metrics();
  });
  app.get('/openapi.json', { config: { summary: 'this document', access: 'open' } }, async () => ctx.openapi.document({ title: 'cmhash service', version: ctx.version }));
}
