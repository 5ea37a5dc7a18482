// Names a user picks (collections, item ids in URLs) end up in file paths and URLs, so they are
// checked in one place: a collection name is a single safe path segment, never "." or "..".
import { InputError } from '../util/errors.js';

const COLLECTION_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Throws InputError unless `name` is 1–64 of [A-Za-z0-9._-], starting with a letter or digit. */
export function checkCollectionName(name: unknown, what = 'collection name'): string {
  if (typeof name !== 'string' || !COLLECTION_NAME.test(name) || name.includes('..')) {
    throw new InputError(`${what}: expected 1–64 characters of A–Z a–z 0–9 . _ - starting with a letter or digit (no "..", no "/"), got ${JSON.stringify(name)}`);
  }
  return name;
}
