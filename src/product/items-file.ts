// Items for `cmhash add` / `cmhash update` from a file: JSON (an array of items, or {"items": [...]})
// or JSONL (one item per line), each {id, image?, text?, raw_text?, labels?, metadata?} as in the HTTP API.
import { readBytes } from '../data/npy.js';
import { extname } from 'node:path';
import { InputError } from '../util/errors.js';
import type { ItemJson } from './item-input.js';

export function readItemsFile(path: string): ItemJson[] {
  const text = new TextDecoder().decode(readBytes(path)); // a missing file: NotFoundError (exit 3)
  let items: unknown[];
  if (extname(path).toLowerCase() === '.jsonl' || extname(path).toLowerCase() === '.ndjson') {
    items = text.split(/\r?\n/).map((l, i) => {
      if (!l.trim()) return null;
      try { return JSON.parse(l); } catch (e) { throw new InputError(`${path}:${i + 1}: not valid JSON (${(e as Error).message})`); }
    }).filter((x) => x !== null);
  } else {
    let v: unknown;
    try { v = JSON.parse(text); } catch (e) { throw new InputError(`${path}: not valid JSON (${(e as Error).message})`); }
    items = Array.isArray(v) ? v : (v as { items?: unknown[] })?.items ?? [];
  }
  items.forEach((it, i) => {
    const o = it as Record<string, unknown>;
    if (typeof o !== 'object' || o === null || typeof o.id !== 'string') throw new InputError(`${path}: item ${i} needs a string "id"`);
    for (const k of ['image', 'text']) if (o[k] !== undefined && !Array.isArray(o[k])) throw new InputError(`${path}: item ${i} (${o.id}): "${k}" must be an array of numbers`);
    if (o.labels !== undefined && (!Array.isArray(o.labels) || o.labels.some((l) => typeof l !== 'string'))) throw new InputError(`${path}: item ${i} (${o.id}): "labels" must be an array of names`);
  });
  if (items.length === 0) throw new InputError(`${path}: no items`);
  return items as ItemJson[];
}
