// JSON items (HTTP bodies, JSON files) → ItemInput: feature arrays checked against the collection's
// widths, raw text turned into text features through the collection's vocabulary.
import { InputError } from '../util/errors.js';
import type { Collection, ItemInput } from './collection.js';
import { checkFeatures, textToFeatures } from './featurize.js';

export interface ItemJson {
  id: string;
  image?: number[];
  text?: number[];
  raw_text?: string | string[];
  labels?: string[];
  metadata?: Record<string, unknown> | null;
}

/** What converting an item needs from a collection (a worker thread gets just this). */
export type ItemContext = Pick<Collection, 'config' | 'vocabulary'>;

export function itemFromJson(c: ItemContext, it: ItemJson, i: number): ItemInput {
  const where = `items[${i}]`;
  if (it.text !== undefined && it.raw_text !== undefined) throw new InputError(`${where}: give text (features) or raw_text, not both`);
  // the HTTP schema refuses these too; items from a file (cmhash add/update) come through here only
  const m: unknown = it.metadata;
  if (m !== undefined && m !== null && (typeof m !== 'object' || Array.isArray(m))) {
    throw new InputError(`${where}.metadata: expected a JSON object or null, got ${Array.isArray(m) ? 'an array' : JSON.stringify(m)}`);
  }
  return {
    id: it.id,
    image: it.image !== undefined ? checkFeatures(it.image, c.config, 'image', `${where}.image`) : null,
    text: it.text !== undefined ? checkFeatures(it.text, c.config, 'text', `${where}.text`)
      : it.raw_text !== undefined ? textToFeatures(it.raw_text, c.vocabulary, c.config) : null,
    labels: it.labels ?? [],
    metadata: it.metadata ?? null,
  };
}
