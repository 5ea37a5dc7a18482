// Builds any index from a short spec string (FAISS-style factory) and loads saved indexes.
//   "flat"          exact scan
//   "multi"         multi-index hashing, m chosen from N and bits
//   "multi:m=4"     multi-index hashing with 4 substrings
import type { CodeIndex } from './code-index.js';
import { PackedCodes } from '../codes/packed-codes.js';
import { FlatIndex } from './flat.js';
import { MultiIndex } from './multi-index.js';
import { readIndexFile, INDEX_KIND_CODE } from './index-file.js';
import { CorruptDataError, InputError } from '../util/errors.js';

export type IndexSpec = 'flat' | 'multi' | `multi:m=${number}`;

export function createIndex(spec: string, bits: number): CodeIndex {
  const s = spec.trim().toLowerCase();
  if (s === 'flat') return new FlatIndex(bits);
  if (s === 'multi') return new MultiIndex(bits);
  const m = /^multi:m=(\d+)$/.exec(s);
  if (m) return new MultiIndex(bits, { m: Number(m[1]) });
  throw new InputError(`index spec: expected "flat", "multi" or "multi:m=<substrings>", got ${JSON.stringify(spec)}`);
}

/** The spec string that recreates an index's kind and parameters. */
export function indexSpec(index: CodeIndex): string {
  if (index instanceof MultiIndex) return index.requestedSubstrings ? `multi:m=${index.requestedSubstrings}` : 'multi';
  return index.kind;
}

/** Loads any index written by CodeIndex.save (truncated/damaged file → CorruptDataError). */
export function loadIndex(path: string): CodeIndex {
  const f = readIndexFile(path);
  let index: CodeIndex;
  if (f.param0 === INDEX_KIND_CODE.flat) index = new FlatIndex(f.bits);
  else if (f.param0 === INDEX_KIND_CODE.multi) index = new MultiIndex(f.bits, f.param1 ? { m: f.param1 } : {});
  else throw new CorruptDataError(`${path}: unknown index kind ${f.param0}`);
  if (!f.ids) throw new CorruptDataError(`${path}: index file without ids`);
  index.add(f.ids, new PackedCodes(f.bits, f.count, f.codes));
  return index;
}
