// Reads a small multipart form: text fields and at most one file, within the service's limits.
import type { FastifyRequest } from 'fastify';
import { CmhashError, InputError } from '../../util/errors.js';

export interface Form { fields: Record<string, string>; file: { field: string; name: string; bytes: Buffer } | null }

export async function readForm(req: FastifyRequest, fileField: string): Promise<Form> {
  if (!req.isMultipart()) throw new CmhashError('expected a multipart/form-data body', 2, 415);
  const fields: Record<string, string> = {};
  let file: Form['file'] = null;
  for await (const part of req.parts()) {
    if (part.type === 'file') {
      // (a second file is refused by the multipart limits: 413)
      if (part.fieldname !== fileField) { await part.toBuffer(); throw new InputError(`unexpected file field "${part.fieldname}" (expected "${fileField}")`); }
      file = { field: part.fieldname, name: part.filename, bytes: await part.toBuffer() };
    } else {
      // keeping the last of a repeated field silently stored another item than the first one named
      if (Object.hasOwn(fields, part.fieldname)) throw new InputError(`field "${part.fieldname}" given more than once`);
      fields[part.fieldname] = String(part.value);
    }
  }
  return { fields, file };
}

/** An optional integer form field within [min, max]. */
export function intField(fields: Record<string, string>, name: string, min: number, max: number): number | undefined {
  const v = fields[name];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new InputError(`field ${name}: expected an integer from ${min} to ${max}, got ${JSON.stringify(v)}`);
  return n;
}
