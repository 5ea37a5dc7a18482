// Code segments: immutable files of one model version's codes (magic CMHS, layout in code-file.ts)
// holding, per row, the code, the item's internal key (never reused) and its id — so loading an
// index needs no database round trip per item. A segment becomes part of the store only when
// the SQLite transaction that references it commits; a file without a reference is garbage.
import { closeSync, openSync, readSync } from 'node:fs';
import { writeCodeFile, readCodeFile, type CodeFileRead } from '../codes/code-file.js';
import { PackedCodes } from '../codes/packed-codes.js';
import { CorruptDataError } from '../util/errors.js';

export interface SegmentRows { keys: Uint32Array; ids: string[]; codes: PackedCodes }

export function writeSegment(path: string, rows: SegmentRows): void {
  writeCodeFile(path, { magic: 'CMHS', bits: rows.codes.bits, count: rows.codes.count, codes: rows.codes.data, keys: rows.keys, ids: rows.ids });
}

export function readSegment(path: string): SegmentRows {
  const f: CodeFileRead = readCodeFile(path, 'CMHS');
  if (!f.keys || !f.ids) throw new CorruptDataError(`${path}: segment without keys or ids`);
  return { keys: f.keys, ids: f.ids, codes: new PackedCodes(f.bits, f.count, f.codes) };
}

/** Only the item keys of a segment (reads the header and the key block, not the codes). */
export function readSegmentKeys(path: string): Uint32Array {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(40);
    if (readSync(fd, head, 0, 40, 0) !== 40) throw new CorruptDataError(`${path}: truncated segment header`);
    const bits = head.readUInt32LE(8), count = Number(head.readBigUInt64LE(16));
    const codeBytes = count * 8 * Math.ceil(bits / 64);
    const keys = new Uint32Array(count);
    const view = Buffer.from(keys.buffer);
    if (count > 0 && readSync(fd, view, 0, view.length, 40 + codeBytes) !== view.length) throw new CorruptDataError(`${path}: truncated segment keys`);
    return keys;
  } finally { closeSync(fd); }
}
