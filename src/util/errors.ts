// Errors a user can act on. The CLI prints `message` on one line (stack only with --debug) and
// exits with `exitCode`; the HTTP service maps `status` to the response code.

export class CmhashError extends Error {
  constructor(message: string, readonly exitCode = 1, readonly status = 500) {
    super(message);
    this.name = new.target.name;
  }
}

/** Bad input from the user: a file, field, shape or option that is not what was expected. */
export class InputError extends CmhashError {
  constructor(message: string) { super(message, 2, 400); }
}

/** Something named does not exist (file, collection, item, model version). */
export class NotFoundError extends CmhashError {
  constructor(message: string) { super(message, 3, 404); }
}

/** Stored data that fails validation (checksum, truncation, wrong magic, newer format). */
export class CorruptDataError extends CmhashError {
  constructor(message: string) { super(message, 4, 422); }
}

/** A service the data lives in (the PostgreSQL server) cannot be reached now; trying again later may work. */
export class UnavailableError extends CmhashError {
  constructor(message: string) { super(message, 5, 503); }
}

/** Shape mismatch between operands: names the op and both shapes. */
export function shapeError(op: string, a: readonly number[], b: readonly number[], what = ''): InputError {
  return new InputError(`${op}: shape mismatch ${what ? what + ' ' : ''}[${a.join('×')}] vs [${b.join('×')}]`);
}
