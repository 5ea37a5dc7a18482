// Session updates as background jobs: the request is checked at once (400 on bad items), then a
// job trains the model on the session and commits a new version; searches keep using the previous
// version until that commit. GET the job for its status. Parsing the body, training and committing
// run on worker threads (session-body.ts; jobs.trainInWorker, default on: product/train-in-worker.ts),
// so the event loop only checks ids against the store and swaps in the committed snapshot; the
// worker's per-epoch progress shows in the job.
import type { FastifyInstance } from 'fastify';
import { assertUpdatable, checkItemsInSlices } from '../../product/session-update.js';
import { sessionJobRunner } from '../../product/session-job.js';
import { prestartTrainingWorker } from '../../product/train-in-worker.js';
import { CmhashError, InputError, NotFoundError } from '../../util/errors.js';
import { parseSessionBody, prestartSessionBodyWorker } from '../session-body.js';
import type { ServiceContext } from '../app.js';
import { jobParams, nameParams } from '../schemas.js';

export function registerSessionRoutes(app: FastifyInstance, ctx: ServiceContext): void {
  const { collections, schemas: s, limits, jobs } = ctx;
  const run = sessionJobRunner(jobs.trainInWorker);
  // their threads start now, not while a session arrives
  prestartSessionBodyWorker();
  if (jobs.trainInWorker) void prestartTrainingWorker();

  // The session route takes its body as the raw stream (its own scope's parser) and parses it on a
  // worker thread (session-body.ts); the JSON schema is still the route's, applied there and documented.
  void app.register(async (scope) => {
    scope.removeContentTypeParser('application/json');
    scope.addContentTypeParser('application/json', (_req, payload, done) => done(null, payload)); // the raw stream
    scope.post<{ Params: { name: string } }>('/api/collections/:name/sessions', {
      bodyLimit: limits.itemsBodyBytes,
      schema: { params: nameParams, response: { 202: s.job, ...s.err } },
      config: { summary: 'apply a new session (labelled image+text items, new labels allowed): trains in the background, returns a job; the new model version is committed atomically', body: s.sessionBody },
    }, async (req, reply) => {
      const c = collections.get(req.params.name);
      assertUpdatable(c); // refuses methods that cannot learn from a session, before any work
      const body = req.body as AsyncIterable<Uint8Array> | undefined;
      if (!body || typeof body[Symbol.asyncIterator] !== 'function') throw new InputError('a session needs a JSON body (content-type application/json)');
      const declared = Number(req.headers['content-length'] ?? 0);
      if (declared > limits.itemsBodyBytes) throw new CmhashError(`request body too large (limit ${limits.itemsBodyBytes} bytes)`, 2, 413);
      const { items, name, epochs, seed } = await parseSessionBody(body, limits.itemsBodyBytes, s.sessionBody, c);
      // existing ids and labels against the store, in slices with turns of the event loop between them
      await checkItemsInSlices(c, items);
      // a PostgreSQL collection's job is recorded in the database: any replica reports it, and
      // another replica takes it over if this one dies (product/durable-jobs.ts)
      const job = c.backend === 'postgresql' && ctx.durableJobs
        ? await ctx.durableJobs.submit(c, items, { name, epochs, seed })
        : jobs.submit(c.name, 'session-update', (progress) => run(c, items, { name, epochs, seed }, null, progress));
      return reply.status(202).send(job);
    });
  });

  app.get<{ Params: { id: string } }>('/api/jobs/:id', {
    schema: { params: jobParams, response: { 200: s.job, ...s.err } },
    config: { summary: 'a background job: status queued|running|succeeded|failed, progress, result or error' },
  }, async (req) => {
    const id = req.params.id;
    const found = jobs.find(id) ?? await ctx.durableJobs?.find(id);
    if (!found) throw new NotFoundError(`no job ${JSON.stringify(id)}`);
    return found;
  });

  app.get<{ Params: { name: string } }>('/api/collections/:name/jobs', {
    schema: { params: nameParams, response: { 200: { type: 'array', items: s.job }, ...s.err } },
    config: { summary: 'jobs of a collection (recent first)' },
  }, async (req) => {
    const c = collections.get(req.params.name);
    if (c.backend !== 'postgresql' || !ctx.durableJobs) return jobs.list(c.name).reverse();
    // the table has every replica's jobs; this process's own running ones have fresher progress
    return (await ctx.durableJobs.list(c)).map((j) => jobs.find(j.id) ?? j);
  });
}
