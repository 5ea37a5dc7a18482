// One binary layout for every file that holds packed codes (code files, index files, store
// segments), so they share one reader, one writer and one set of corruption checks.
//
//   0  magic (4 ASCII bytes: CMHC codes, CMHI index, CMHS segment)
//   4  format version (u32, currently 1)
//   8  bits (u32)            12  flags (u32: 1 = has ids, 2 = has keys)
//  16  count (u64)           24  param0 (u32)   28  param1 (u32)
//  32  id bytes (u64)
//  40  codes: count · stride uint32 (little-endian 64-bit words)
//      keys:  count uint32 (when flag 2)
//      ids:   UTF-8, '\n'-joined (when flag 1)
//  end CRC32 (u32) of everything before it
import { readFileSync } from 'node:fs';
import { crc32 } from '../util/crc32.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { CorruptDataError, InputError } from '../util/errors.js';

export const CODE_FILE_VERSION = 1;
const HEADER = 40;
const FLAG_IDS = 1, FLAG_KEYS = 2;

export interface CodeFileContent {
  magic: string;
  bits: number;
  count: number;
  codes: Uint32Array;
  ids?: readonly string[];
  keys?: Uint32Array;
  param0?: number;
  param1?: number;
}

export interface CodeFileRead {
  bits: number; count: number; codes: Uint32Array;
  ids: string[] | null; keys: Uint32Array | null; param0: number; param1: number;
}

/** Encodes the file bytes (as a list of chunks, to avoid one big copy). */
export function encodeCodeFile(c: CodeFileContent): Buffer[] {
  const stride = 2 * Math.ceil(c.bits / 64);
  if (c.codes.length !== c.count * stride) throw new InputError(`code file: ${c.count} codes need ${c.count * stride} words, got ${c.codes.length}`);
  let idBytes: Buffer | null = null;
  if (c.ids) {
    if (c.ids.length !== c.count) throw new InputError(`code file: ${c.count} codes but ${c.ids.length} ids`);
    idBytes = Buffer.from(c.ids.join('\n'), 'utf8');
  }
  if (c.keys && c.keys.length !== c.count) throw new InputError(`code file: ${c.count} codes but ${c.keys.length} keys`);
  const head = Buffer.alloc(HEADER);
  head.write(c.magic, 0, 4, 'ascii');
  head.writeUInt32LE(CODE_FILE_VERSION, 4);
  head.writeUInt32LE(c.bits, 8);
  head.writeUInt32LE((idBytes ? FLAG_IDS : 0) | (c.keys ? FLAG_KEYS : 0), 12);
  head.writeBigUInt64LE(BigInt(c.count), 16);
  head.writeUInt32LE(c.param0 ?? 0, 24);
  head.writeUInt32LE(c.param1 ?? 0, 28);
  head.writeBigUInt64LE(BigInt(idBytes ? idBytes.length : 0), 32);
  const chunks = [head, Buffer.from(c.codes.buffer, c.codes.byteOffset, c.codes.byteLength)];
  if (c.keys) chunks.push(Buffer.from(c.keys.buffer, c.keys.byteOffset, c.keys.byteLength));
  if (idBytes) chunks.push(idBytes);
  let crc = 0;
  for (const ch of chunks) crc = crc32(ch, crc);
  const tail = Buffer.alloc(4);
  tail.writeUInt32LE(crc >>> 0, 0);
  chunks.push(tail);
  return chunks;
}


export function writeCodeFile(path: string, c: CodeFileContent): void {
  writeFileAtomic(path, encodeCodeFile(c));
}

/** Reads and validates a code file; every defect is a CorruptDataError naming the file. */
export function readCodeFile(path: string, magic: string): CodeFileRead {
  let buf: Buffer;
  try { buf = readFileSync(path); } catch (e) {
    throw new InputError(`${path}: cannot read code file (${(e as Error).message})`);
  }
  return decodeCodeFile(buf, path, magic);
}

export function decodeCodeFile(buf: Buffer, path: string, magic: string): CodeFileRead {
  if (buf.length < HEADER + 4) throw new CorruptDataError(`${path}: truncated (${buf.length} bytes, a header needs ${HEADER + 4})`);
  const got = buf.toString('ascii', 0, 4);
  if (got !== magic) throw new CorruptDataError(`${path}: not a cmhash ${magic} file (magic ${JSON.stringify(got)})`);
  const version = buf.readUInt32LE(4);
  if (version > CODE_FILE_VERSION) {
    throw new CorruptDataError(`${path}: written by a newer cmhash (file format ${version}, this version reads up to ${CODE_FILE_VERSION}); upgrade cmhash`);
  }
  const bits = buf.readUInt32LE(8), flags = buf.readUInt32LE(12);
  const count = Number(buf.readBigUInt64LE(16));
  const param0 = buf.readUInt32LE(24), param1 = buf.readUInt32LE(28);
  const idBytes = Number(buf.readBigUInt64LE(32));
  if (bits < 8 || bits > 1024 || bits % 8 !== 0) throw new CorruptDataError(`${path}: invalid code width ${bits}`);
  const stride = 2 * Math.ceil(bits / 64);
  const codeBytes = count * stride * 4, keyBytes = flags & FLAG_KEYS ? count * 4 : 0;
  const expected = HEADER + codeBytes + keyBytes + idBytes + 4;
  if (buf.length !== expected) {
    throw new CorruptDataError(`${path}: ${buf.length < expected ? 'truncated' : 'trailing bytes'}: expected ${expected} bytes for ${count} ${bits}-bit codes, got ${buf.length}`);
  }
  const crc = crc32(buf.subarray(0, expected - 4)) >>> 0;
  if (crc !== buf.readUInt32LE(expected - 4)) throw new CorruptDataError(`${path}: checksum mismatch (file damaged)`);
  const codes = alignedU32(buf, HEADER, count * stride);
  const keys = flags & FLAG_KEYS ? alignedU32(buf, HEADER + codeBytes, count) : null;
  let ids: string[] | null = null;
  if (flags & FLAG_IDS) {
    const start = HEADER + codeBytes + keyBytes;
    ids = count === 0 ? [] : buf.toString('utf8', start, start + idBytes).split('\n');
    if (ids.length !== count) throw new CorruptDataError(`${path}: ${count} codes but ${ids.length} ids`);
  }
  return { bits, count, codes, ids, keys, param0, param1 };
}

function alignedU32(buf: Buffer, offset: number, length: number): Uint32Array {
  const at = buf.byteOffset + offset;
  if (at % 4 === 0) return new Uint32Array(buf.buffer, at, length);
  const out = new Uint32Array(length);
  new Uint8Array(out.buffer).set(buf.subarray(offset, offset + length * 4));
  return out;
}
