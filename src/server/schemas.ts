// JSON schemas of every route: fastify validates requests and serialises responses with them, and
// the OpenAPI document (openapi.ts) is generated from the same objects, so the two cannot drift.
import type { ServiceLimits } from './limits.js';
import { MAX_SESSION_EPOCHS } from '../product/session-limits.js';

export const errorSchema = {
  type: 'object',
  properties: { statusCode: { type: 'integer' }, error: { type: 'string' }, message: { type: 'string' } },
  required: ['statusCode', 'error', 'message'],
} as const;

export const collectionName = { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$', description: 'collection name (letters, digits, . _ -; no "/" or "..")' } as const;
export const itemId = { type: 'string', minLength: 1, maxLength: 512, pattern: '^[^\\n\\r]+$' } as const;

export const nameParams = { type: 'object', properties: { name: collectionName }, required: ['name'], additionalProperties: false } as const;
export const itemParams = { type: 'object', properties: { name: collectionName, id: itemId }, required: ['name', 'id'], additionalProperties: false } as const;
export const jobParams = { type: 'object', properties: { id: { type: 'string', pattern: '^[0-9a-f-]{36}$' } }, required: ['id'], additionalProperties: false } as const;

const numberArray = (maxItems: number) => ({ type: 'array', items: { type: 'number' }, maxItems } as const);

export function schemas(l: ServiceLimits) {
  const modality = { type: 'string', enum: ['image', 'text'], description: "the query's modality; results come from the other one" } as const;
  const k = { type: 'integer', minimum: 1, maximum: l.maxK, description: `number of results (1–${l.maxK}, default 20)` } as const;
  const radius = { type: 'integer', minimum: 0, maximum: 1024, description: 'only results within this Hamming distance (inclusive)' } as const;
  const labels = { type: 'array', items: { type: 'string', minLength: 1, maxLength: 200 }, maxItems: 1000 } as const;

  const hit = {
    type: 'object',
    properties: {
      id: { type: 'string' }, distance: { type: 'integer' }, labels: { type: 'array', items: { type: 'string' } },
      metadata: {}, thumbnail_url: { type: 'string' },
    },
    required: ['id', 'distance', 'labels'],
  } as const;
  const searchResponse = {
    type: 'object',
    properties: {
      results: { type: 'array', items: hit }, model_version: { type: ['integer', 'null'] }, took_ms: { type: 'number' },
      modality: { type: 'string' }, target: { type: 'string' },
    },
    required: ['results', 'model_version', 'took_ms'],
  } as const;

  const searchBody = {
    type: 'object',
    properties: {
      modality,
      query: {
        type: 'object',
        description: 'exactly one of features, text, itemId, code',
        properties: {
          features: numberArray(l.maxFeatureWidth),
          text: { anyOf: [{ type: 'string', maxLength: l.maxTextLength }, { type: 'array', items: { type: 'string', maxLength: 200 }, maxItems: 1000 }] },
          itemId,
          code: { type: 'string', pattern: '^[0-9a-fA-F]{2,256}$', description: 'a packed code as hex (bits/4 digits, little-endian bytes)' },
        },
        additionalProperties: false,
        minProperties: 1, maxProperties: 1,
      },
      k, radius,
    },
    required: ['modality', 'query'],
    additionalProperties: false,
  } as const;

  const itemInput = {
    type: 'object',
    properties: {
      id: itemId,
      image: numberArray(l.maxFeatureWidth),
      text: numberArray(l.maxFeatureWidth),
      raw_text: { anyOf: [{ type: 'string', maxLength: l.maxTextLength }, { type: 'array', items: { type: 'string', maxLength: 200 }, maxItems: 1000 }], description: 'raw text or tags, encoded through the collection vocabulary (instead of text)' },
      labels,
      metadata: { type: ['object', 'null'], description: 'free JSON; "image" (a path under the collection image folder) gives a thumbnail' },
    },
    required: ['id'],
    additionalProperties: false,
  } as const;

  const collectionSummary = {
    type: 'object',
    properties: { name: { type: 'string' }, items: { type: 'integer' }, bits: { type: 'integer' }, model_version: { type: ['integer', 'null'] }, method: { type: ['string', 'null'] } },
    required: ['name', 'items', 'bits', 'model_version'],
  } as const;

  const collectionInfo = {
    type: 'object',
    properties: {
      ...collectionSummary.properties,
      image_codes: { type: 'integer' }, text_codes: { type: 'integer' }, labels: { type: 'array', items: { type: 'string' } },
      image_dim: { type: 'integer' }, text_dim: { type: 'integer' }, raw_text: { type: 'boolean' }, image_upload: { type: 'boolean' },
      thumbnails: { type: 'boolean' }, committed: { type: ['string', 'null'] }, persistent: { type: 'boolean' },
      searches: { type: 'integer' }, versions: { type: 'array', items: { type: 'object', additionalProperties: true } },
      sessions: { type: 'array', items: { type: 'object', additionalProperties: true } },
    },
    required: ['name', 'items', 'bits', 'model_version'],
  } as const;

  const job = {
    type: 'object',
    properties: {
      id: { type: 'string' }, kind: { type: 'string' }, collection: { type: 'string' }, status: { type: 'string', enum: ['queued', 'running', 'succeeded', 'failed'] },
      created: { type: 'string' }, started: { type: ['string', 'null'] }, finished: { type: ['string', 'null'] },
      progress: { type: ['object', 'null'], additionalProperties: true }, result: {}, error: { type: ['string', 'null'] },
    },
    required: ['id', 'status', 'collection'],
  } as const;

  const err = { 400: errorSchema, 404: errorSchema, 413: errorSchema, 415: errorSchema, 500: errorSchema };

  return {
    searchBody, searchResponse, hit, itemInput, collectionSummary, collectionInfo, job, err,
    addItemsBody: { type: 'object', properties: { items: { type: 'array', items: itemInput, minItems: 1, maxItems: l.maxItemsPerRequest } }, required: ['items'], additionalProperties: false } as const,
    addItemsResponse: { type: 'object', properties: { added: { type: 'integer' }, model_version: { type: 'integer' } }, required: ['added', 'model_version'] } as const,
    sessionBody: {
      type: 'object',
      properties: {
        items: { type: 'array', items: itemInput, minItems: 1, maxItems: l.maxItemsPerRequest },
        name: { type: 'string', minLength: 1, maxLength: 200 },
        epochs: { type: 'integer', minimum: 1, maximum: MAX_SESSION_EPOCHS },
        seed: { type: 'integer', minimum: 0, maximum: 2 ** 31 - 1 },
      },
      required: ['items'],
      additionalProperties: false,
    } as const,
    item: {
      type: 'object',
      properties: { id: { type: 'string' }, labels: { type: 'array', items: { type: 'string' } }, metadata: {}, session: { type: ['integer', 'null'] }, has_image: { type: 'boolean' }, has_text: { type: 'boolean' } },
      required: ['id', 'labels'],
    } as const,
    health: { type: 'object', properties: { status: { type: 'string' }, uptime_s: { type: 'number' }, collections: { type: 'integer' }, jobs: { type: 'object', additionalProperties: { type: 'integer' } } }, required: ['status'] } as const,
  };
}
