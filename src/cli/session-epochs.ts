// `--epochs` of a session trained into a collection (`update`, `demo`, `bench serve-train`): the
// same bound as a session posted to the HTTP API (product/session-limits.ts; the CLI took any
// number, and 100000000 epochs train practically forever).
import { InputError } from '../util/errors.js';
import { MAX_SESSION_EPOCHS } from '../product/session-limits.js';

/** `--epochs` (or the flag `name`) of a session: an integer from 1 to MAX_SESSION_EPOCHS; undefined stays undefined. */
export function sessionEpochs(v: string | undefined, name = 'epochs'): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isInteger(n) || n < 1 || n > MAX_SESSION_EPOCHS) {
    throw new InputError(`--${name}: expected an integer from 1 to ${MAX_SESSION_EPOCHS} (the most a session may train, as in the HTTP API), got ${v}`);
  }
  return n;
}
