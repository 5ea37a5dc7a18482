// The one rule for item ids, wherever ids enter (indexes, the store, collections): a string of
// 1–512 characters without line breaks (ids are stored '\n'-joined in code files).
import { InputError } from '../util/errors.js';

export const MAX_ID_LENGTH = 512;
const ID_RE = new RegExp(`^[^\\n\\r]{1,${MAX_ID_LENGTH}}$`);

export function isItemId(id: unknown): id is string { return typeof id === 'string' && ID_RE.test(id); }

/** Throws an InputError naming `where` unless `id` follows the rule. */
export function checkItemId(id: unknown, where: string): asserts id is string {
  if (!isItemId(id)) throw new InputError(`${where} must be 1–${MAX_ID_LENGTH} characters without line breaks, got ${JSON.stringify(typeof id === 'string' && id.length > 80 ? `${id.slice(0, 80)}…` : id)}`);
}
