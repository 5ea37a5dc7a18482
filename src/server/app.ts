// The HTTP service (fastify): collections, cross-modal search, item additions, session updates as
// background jobs, thumbnails, the search page, health, Prometheus metrics and the OpenAPI
// document. Every route has JSON schemas; every body is size-limited; every error is a 4xx/5xx
// JSON body {statusCode, error, message} — a request can fail, the process does not.
// Access control (tokens by scope), the Host and Origin checks against DNS rebinding and cross-site
// writes, CORS, a per-client rate limit and socket timeouts are set up here from ServiceOptions /
// ServiceLimits; docs/access-control.md describes them.
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import multipart from '@fastify/multipart';
import { STATUS_CODES } from 'node:http';
import { CmhashError, InputError } from '../util/errors.js';
import { JobManager } from '../product/jobs.js';
import type { DurableSessionJobs } from '../product/durable-jobs.js';
import type { CollectionRegistry } from '../product/registry.js';
import { DEFAULT_LIMITS, type ServiceLimits } from './limits.js';
import { ServiceMetrics } from './metrics.js';
import { OpenApiCollector } from './openapi.js';
import { schemas } from './schemas.js';
import { SearchBatcher } from './search-batcher.js';
import { ScanOffload } from './scan-offload.js';
import { registerSystemRoutes } from './routes/system.js';
import { registerCollectionRoutes } from './routes/collections.js';
import { registerItemRoutes } from './routes/items.js';
import { registerSessionRoutes } from './routes/sessions.js';
import { AccessTokens, attachAccessControl, type AccessToken } from './access.js';
import { checkCorsOrigins, registerCors } from './cors.js';
import { checkAllowedHosts, registerHostCheck } from './host-check.js';
import { registerOriginCheck } from './origin-check.js';
import { registerRateLimit } from './rate-limit.js';
import { registerJsonParser } from './json-body.js';
import { warmServingHeap } from './warm-heap.js';

export interface ServiceOptions {
  collections: CollectionRegistry;
  jobs?: JobManager;
  limits?: Partial<ServiceLimits>;
  /** fastify request logging (default off: the CLI prints its own lines). */
  logger?: boolean;
  /** Node process metrics in /metrics (default true). */
  processMetrics?: boolean;
  /** Version string in /openapi.json and /health. */
  version?: string;
  /**
   * Scan large flat code sets (≥ scanWorkerMinCodes, default 100,000) on a worker thread, so the
   * event loop keeps serving while a batch is scanned. Default off: on the shared 2-core machine it
   * cost more CPU per search than scanning batches on the event loop (docs/product.md).
   */
  scanWorker?: boolean;
  scanWorkerMinCodes?: number;
  /** Access tokens (token-file.ts); none = every route open (loopback use). */
  tokens?: readonly AccessToken[];
  /** Origins allowed to call the API from a browser page on another site (CORS); none = CORS off. */
  corsOrigins?: readonly string[];
  /**
   * Host names answered besides localhost and IP addresses (host-check.ts). Bound to loopback the
   * Host header is always checked; bound elsewhere, only when names are listed here.
   */
  allowedHosts?: readonly string[];
  /** Session jobs of PostgreSQL collections, recorded in the database and shared by replicas. */
  durableJobs?: DurableSessionJobs | null;
}

/** What route files receive. */
export interface ServiceContext {
  collections: CollectionRegistry;
  jobs: JobManager;
  limits: ServiceLimits;
  metrics: ServiceMetrics;
  openapi: OpenApiCollector;
  schemas: ReturnType<typeof schemas>;
  /** Batches concurrent searches' kernel work and coalesces their answers (search-batcher.ts). */
  searches: SearchBatcher;
  started: number;
  version: string;
  durableJobs: DurableSessionJobs | null;
}

export async function buildService(o: ServiceOptions): Promise<FastifyInstance> {
  const limits: ServiceLimits = { ...DEFAULT_LIMITS, ...o.limits };
  if (limits.headersTimeoutMs > limits.requestTimeoutMs) throw new InputError(`headers timeout (${limits.headersTimeoutMs} ms) must not exceed the request timeout (${limits.requestTimeoutMs} ms)`);
  const jobs = o.jobs ?? new JobManager();
  warmServingHeap(); // before the first large request, not during it (warm-heap.ts)
  const ctx: ServiceContext = {
    collections: o.collections, jobs, limits, metrics: new ServiceMetrics(o.collections, jobs, o.processMetrics ?? true),
    openapi: new OpenApiCollector(), schemas: schemas(limits), started: Date.now(), version: o.version ?? '0.1.0', durableJobs: o.durableJobs ?? null,
    searches: new SearchBatcher(limits.maxK, o.scanWorker ? () => ScanOffload.start() : null, o.scanWorkerMinCodes ?? 100_000),
  };
  const app = Fastify({
    logger: o.logger ?? false,
    bodyLimit: limits.searchBodyBytes,
    // ids in URLs may be long (up to 512 characters)
    routerOptions: { maxParamLength: 600 },
    ajv: { customOptions: { allErrors: false, coerceTypes: false, removeAdditional: false } },
    // slow clients cannot hold sockets: headers, whole request, idle keep-alive and inactivity are
    // bounded; Node checks the header/request deadlines every connectionsCheckingInterval ms
    connectionTimeout: limits.requestTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    http: { headersTimeout: limits.headersTimeoutMs, connectionsCheckingInterval: Math.min(1000, Math.max(25, Math.floor(limits.headersTimeoutMs / 4))) },
  });
  registerJsonParser(app);
  // the Host check, then the cross-origin write check, before anything else answers (also preflights)
  const corsOrigins = checkCorsOrigins(o.corsOrigins ?? []);
  registerHostCheck(app, checkAllowedHosts(o.allowedHosts ?? []));
  registerOriginCheck(app, corsOrigins);
  // CORS next: it answers preflights before the hooks below, and its catch-all OPTIONS route stays
  // out of the OpenAPI document (registered before the collector)
  await registerCors(app, corsOrigins);
  app.addHook('onRoute', (r) => ctx.openapi.collect(r));
  app.addHook('onClose', async () => { await ctx.searches.close(); });
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    ctx.metrics.requests.inc({ method: req.method, route, status: String(reply.statusCode) });
    ctx.metrics.requestSeconds.observe({ route }, reply.elapsedTime / 1000);
  });
  app.setErrorHandler((err: FastifyError, req, reply) => {
    let status = 500, message = 'internal error (see the service log)';
    if (err instanceof CmhashError) { status = err.status; message = err.message; }
    else if (err.validation) { status = 400; message = `invalid request: ${err.message}`; }
    else if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
      status = err.statusCode;
      message = err.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? `request body too large (limit ${req.routeOptions.bodyLimit ?? limits.searchBodyBytes} bytes)` : err.message;
    }
    if (status >= 500) req.log.error(err);
    void reply.status(status).send({ statusCode: status, error: STATUS_CODES[status] ?? 'Error', message });
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.status(404).send({ statusCode: 404, error: 'Not Found', message: `no route ${req.method} ${req.url.split('?')[0]}` });
  });
  // the rate limit counts every request (also unauthenticated ones), then the access check runs:
  // both attach to each route registered below, in this order
  await registerRateLimit(app, limits.rateLimitPerMinute);
  attachAccessControl(app, new AccessTokens(o.tokens ?? []));
  await app.register(multipart, { limits: { fileSize: limits.uploadBytes, files: 1, fields: 20, fieldSize: 1 << 20, parts: 25 } });
  registerSystemRoutes(app, ctx);
  registerCollectionRoutes(app, ctx);
  registerItemRoutes(app, ctx);
  registerSessionRoutes(app, ctx);
  return app;
}
