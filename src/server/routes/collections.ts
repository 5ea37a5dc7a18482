// Collections: list, details, cross-modal search (JSON or an uploaded image), thumbnails.
import type { FastifyInstance } from 'fastify';
import { Collection } from '../../product/collection.js';
import { imageToFeatures } from '../../product/featurize.js';
import { queryCode, queryKind, type QueryInput } from '../../product/query.js';
import { InputError } from '../../util/errors.js';
import type { Modality } from '../../methods/hasher.js';
import type { ServiceContext } from '../app.js';
import { nameParams, itemParams } from '../schemas.js';
import { intField, readForm } from './multipart-form.js';
import { Thumbnails } from './thumbnails.js';

interface SearchBody { modality: Modality; query: QueryInput; k?: number; radius?: number }

export function registerCollectionRoutes(app: FastifyInstance, ctx: ServiceContext): void {
  const { collections, schemas: s, limits, metrics } = ctx;
  const thumbs = new Thumbnails();

  app.get('/api/collections', {
    schema: { response: { 200: { type: 'array', items: s.collectionSummary } } },
    config: { summary: 'collections loaded: name, items, bits, model version' },
  }, async () => collections.list().map((c) => {
    const i = c.info();
    return { name: i.name, items: i.items, bits: i.bits, model_version: i.model_version, method: i.method };
  }));

  app.get<{ Params: { name: string } }>('/api/collections/:name', {
    schema: { params: nameParams, response: { 200: s.collectionInfo, ...s.err } },
    config: { summary: 'a collection: sizes, model version, labels, what queries it accepts, versions and sessions' },
  }, async (req) => {
    const c = collections.get(req.params.name);
    const h = c.history();
    return { ...c.info(), searches: metrics.searches.get(c.name) ?? 0, versions: h.versions, sessions: h.sessions };
  });

  const batcher = ctx.searches;
  const searchTimer = new Map<string, (seconds: number) => void>();
  const search = async (c: Collection, modality: Modality, kind: string, code: (snap: ReturnType<Collection['snapshot']>) => ReturnType<typeof queryCode>, k?: number, radius?: number) => {
    const t0 = performance.now();
    const snap = c.snapshot(); // one snapshot for encoding and searching
    const q = { modality, k, radius };
    // codes kept in PostgreSQL (serve --search server) are searched there; the rest in batches here
    const answer = snap.codesOnServer ? await c.searchOnDatabase(snap, code(snap), q, limits.maxK) : await batcher.search(c, snap, code(snap), q);
    const took = performance.now() - t0;
    // bound histogram children, one per (collection, kind): no label hashing per request
    const key = `${c.name}\u0000${kind}`;
    let observe = searchTimer.get(key);
    if (!observe) { const child = metrics.searchSeconds.labels(c.name, kind); observe = (v) => child.observe(v); searchTimer.set(key, observe); }
    observe(took / 1000);
    metrics.countSearch(c.name);
    return { results: answer.results, model_version: answer.model_version, modality: answer.modality, target: answer.target, took_ms: Math.round(took * 1000) / 1000 };
  };

  app.post<{ Params: { name: string }; Body: SearchBody }>('/api/collections/:name/search', {
    schema: { params: nameParams, body: s.searchBody, response: { 200: s.searchResponse, ...s.err } },
    config: { summary: 'cross-modal search: the query (features, raw text, an item id or a hex code) of `modality` against the other modality; k nearest, optionally within `radius`', access: 'read' },
  }, async (req) => {
    const c = collections.get(req.params.name);
    const { modality, query, k, radius } = req.body;
    const kind = queryKind(query);
    return search(c, modality, kind, (snap) => queryCode(c, snap, modality, query), k, radius);
  });

  app.post<{ Params: { name: string } }>('/api/collections/:name/search-image', {
    bodyLimit: limits.uploadBytes + (64 << 10),
    schema: { params: nameParams, response: { 200: s.searchResponse, ...s.err } },
    config: { summary: 'upload an image (multipart field "image"; optional fields k, radius) to find texts', consumes: 'multipart/form-data', access: 'read' },
  }, async (req) => {
    const c = collections.get(req.params.name);
    const form = await readForm(req, 'image');
    if (!form.file) throw new InputError('multipart field "image" (the file) is missing');
    const k = intField(form.fields, 'k', 1, limits.maxK), radius = intField(form.fields, 'radius', 0, 1024);
    const features = await imageToFeatures(form.file.bytes, c.config);
    return search(c, 'image', 'upload', (snap) => Collection.encodeQuery(snap, 'image', features), k, radius);
  });

  app.get<{ Params: { name: string; id: string } }>('/api/collections/:name/items/:id/thumbnail', {
    schema: { params: itemParams, response: s.err },
    config: { summary: "an item's photo as a small JPEG (only files under the collection's image folder)", produces: 'image/jpeg' },
  }, async (req, reply) => {
    const c = collections.get(req.params.name);
    const file = c.thumbnailFile(req.params.id);
    const jpeg = await thumbs.get(file);
    void reply.header('content-type', 'image/jpeg').header('cache-control', 'public, max-age=3600').header('x-content-type-options', 'nosniff');
    return reply.send(jpeg);
  });
}
