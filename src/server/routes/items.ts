// Adding items (encoded by the current model, no training), removing them, and reading one item.
import type { FastifyInstance } from 'fastify';
import type { ItemInput } from '../../product/collection.js';
import { imageToFeatures, textToFeatures } from '../../product/featurize.js';
import { itemFromJson, type ItemJson } from '../../product/item-input.js';
import { InputError } from '../../util/errors.js';
import type { ServiceContext } from '../app.js';
import { itemParams, nameParams } from '../schemas.js';
import { readForm } from './multipart-form.js';

export function registerItemRoutes(app: FastifyInstance, ctx: ServiceContext): void {
  const { collections, schemas: s, limits } = ctx;

  app.post<{ Params: { name: string }; Body: { items: ItemJson[] } }>('/api/collections/:name/items', {
    bodyLimit: limits.itemsBodyBytes,
    schema: { params: nameParams, body: s.addItemsBody, response: { 200: s.addItemsResponse, ...s.err } },
    config: { summary: 'add items (image and/or text features, or raw text) encoded by the current model; labels must be known ones' },
  }, async (req) => {
    const c = collections.get(req.params.name);
    const items = req.body.items.map((it, i) => itemFromJson(c, it, i));
    return c.addItems(items);
  });

  app.post<{ Params: { name: string } }>('/api/collections/:name/items/upload', {
    bodyLimit: limits.uploadBytes + (1 << 20),
    schema: { params: nameParams, response: { 200: s.addItemsResponse, ...s.err } },
    config: { summary: 'add one item from an uploaded image (multipart field "image") and/or raw text (field "text"); fields "id" (required), "labels" (comma-separated), "metadata" (JSON object)', consumes: 'multipart/form-data' },
  }, async (req) => {
    const c = collections.get(req.params.name);
    const form = await readForm(req, 'image');
    const f = form.fields;
    if (!f.id) throw new InputError('field "id" is missing');
    let metadata: unknown = null;
    if (f.metadata) {
      try { metadata = JSON.parse(f.metadata); } catch (e) { throw new InputError(`field metadata: not JSON (${(e as Error).message})`); }
      if (typeof metadata !== 'object' || Array.isArray(metadata)) throw new InputError('field metadata: expected a JSON object');
    }
    const item: ItemInput = {
      id: f.id,
      image: form.file ? await imageToFeatures(form.file.bytes, c.config) : null,
      text: f.text ? textToFeatures(f.text, c.vocabulary, c.config) : null,
      labels: f.labels ? f.labels.split(',').map((x) => x.trim()).filter(Boolean) : [],
      metadata,
    };
    if (!item.image && !item.text) throw new InputError('give an image file (field "image") or raw text (field "text")');
    return c.addItems([item]);
  });

  const removedResponse = { type: 'object', properties: { removed: { type: 'integer' }, model_version: { type: ['integer', 'null'] } }, required: ['removed'] } as const;

  app.delete<{ Params: { name: string; id: string } }>('/api/collections/:name/items/:id', {
    schema: { params: itemParams, response: { 200: removedResponse, ...s.err } },
    config: { summary: 'remove one item: its row and its codes in every model version, in one transaction (404 if unknown)' },
  }, async (req) => collections.get(req.params.name).removeItems([req.params.id]));

  app.post<{ Params: { name: string }; Body: { ids: string[] } }>('/api/collections/:name/items/remove', {
    schema: {
      params: nameParams,
      body: { type: 'object', properties: { ids: { type: 'array', items: { type: 'string', minLength: 1, maxLength: 512 }, minItems: 1, maxItems: limits.maxItemsPerRequest } }, required: ['ids'], additionalProperties: false },
      response: { 200: removedResponse, ...s.err },
    },
    config: { summary: 'remove several items at once: all of them or none (an unknown id removes nothing, 404)' },
  }, async (req) => collections.get(req.params.name).removeItems(req.body.ids));

  app.get<{ Params: { name: string; id: string } }>('/api/collections/:name/items/:id', {
    schema: { params: itemParams, response: { 200: s.item, ...s.err } },
    config: { summary: 'one item: labels, metadata, session, which modalities have codes' },
  }, async (req) => collections.get(req.params.name).items([req.params.id])[0]);
}
