// The HTTP service (fastify): collections, cross-modal search, item additions, session updates as
// background jobs, thumbnails, the search page, health, Prometheus metrics and the OpenAPI
// document. Every route has JSON schemas; every body is size-limited; every error is a 4xx/5xx
// JSON body {statusCode, error, message} — a request can fail, the process does not.
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import multipart from '@fastify/multipart';
import { STATUS_CODES } from 'node:http';
import { CmhashError } from '../util/errors.js';
import { JobManager } from '../product/jobs.js';
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
}

export async function buildService(o: ServiceOptions): Promise<FastifyInstance> {
  const limits: ServiceLimits = { ...DEFAULT_LIMITS, ...o.limits };
  const jobs = o.jobs ?? new JobManager();
  const ctx: ServiceContext = {
    collections: o.collections, jobs, limits, metrics: new ServiceMetrics(o.collections, jobs, o.processMetrics ?? true),
    openapi: new OpenApiCollector(), schemas: schemas(limits), started: Date.now(), version: o.version ?? '0.1.0',
    searches: new SearchBatcher(limits.maxK, o.scanWorker ? () => ScanOffload.start() : null, o.scanWorkerMinCodes ?? 100_000),
  };
  const app = Fastify({
    logger: o.logger ?? false,
    bodyLimit: limits.searchBodyBytes,
    // ids in URLs may be long (up to 512 characters)
    routerOptions: { maxParamLength: 600 },
    ajv: { customOptions: { allErrors: false, coerceTypes: false, removeAdditional: false } },
  });
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
  await app.register(multipart, { limits: { fileSize: limits.uploadBytes, files: 1, fields: 20, fieldSize: 1 << 20, parts: 25 } });
  registerSystemRoutes(app, ctx);
  registerCollectionRoutes(app, ctx);
  registerItemRoutes(app, ctx);
  registerSessionRoutes(app, ctx);
  return app;
}
