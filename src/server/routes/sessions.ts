// Session updates as background jobs: the request is checked at once (400 on bad items), then a
// job trains the model on the session and commits a new version; searches keep using the previous
// version until that commit. GET the job for its status. The training runs on a worker thread
// (jobs.trainInWorker, default on: product/train-in-worker.ts), so the event loop only validates,
// builds the session's arrays and commits; the worker's per-epoch progress shows in the job.
import type { FastifyInstance } from 'fastify';
import { itemFromJson, type ItemJson } from '../../product/item-input.js';
import { applySessionUpdate, assertUpdatable, checkItemsInSlices, checkSessionItems } from '../../product/session-update.js';
import type { ItemInput } from '../../product/collection.js';
import type { ServiceContext } from '../app.js';
import { jobParams, nameParams } from '../schemas.js';

interface SessionBody { items: ItemJson[]; name?: string; epochs?: number; seed?: number }

export function registerSessionRoutes(app: FastifyInstance, ctx: ServiceContext): void {
  const { collections, schemas: s, limits, jobs } = ctx;

  app.post<{ Params: { name: string }; Body: SessionBody }>('/api/collections/:name/sessions', {
    bodyLimit: limits.itemsBodyBytes,
    schema: { params: nameParams, body: s.sessionBody, response: { 202: s.job, ...s.err } },
    config: { summary: 'apply a new session (labelled image+text items, new labels allowed): trains in the background, returns a job; the new model version is committed atomically' },
  }, async (req, reply) => {
    const c = collections.get(req.params.name);
    // a session may hold thousands of items: converted and checked in slices, with turns of the
    // event loop between them, so searches keep being answered meanwhile
    const items: ItemInput[] = [];
    for (let i = 0; i < req.body.items.length; i++) {
      items.push(itemFromJson(c, req.body.items[i]!, i));
      if (i % 500 === 499) await new Promise<void>((r) => setImmediate(r));
    }
    checkSessionItems(items);
    await checkItemsInSlices(c, items);
    assertUpdatable(c); // refuses methods that cannot learn from a session, before queueing (the job loads the model)
    const { name, epochs, seed } = req.body;
    const job = jobs.submit(c.name, 'session-update', (progress) => {
      let at: { epoch?: number; epochs?: number } = {};
      return applySessionUpdate(c, items, {
        name, epochs, seed, inWorker: jobs.trainInWorker,
        onProgress: (p) => { at = { epoch: p.epoch, epochs: p.epochs }; progress({ ...at, message: 'training' }); },
        onStage: (stage) => progress({ ...at, message: stage }),
      });
    });
    return reply.status(202).send(job);
  });

  app.get<{ Params: { id: string } }>('/api/jobs/:id', {
    schema: { params: jobParams, response: { 200: s.job, ...s.err } },
    config: { summary: 'a background job: status queued|running|succeeded|failed, progress, result or error' },
  }, async (req) => jobs.get(req.params.id));

  app.get<{ Params: { name: string } }>('/api/collections/:name/jobs', {
    schema: { params: nameParams, response: { 200: { type: 'array', items: s.job }, ...s.err } },
    config: { summary: 'jobs of a collection (recent first)' },
  }, async (req) => jobs.list(collections.get(req.params.name).name).reverse());
}
