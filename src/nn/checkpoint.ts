// Model checkpoints: one self-checking binary file.
//
// Layout (all integers little-endian):
//   0   8 bytes  magic "CMHASHCK"
//   8   u32      format version (CHECKPOINT_VERSION)
//   12  u32      header length H in bytes (JSON, UTF-8, space-padded to a multiple of 4)
//   16  u64      payload length P in bytes
//   24  u32      CRC-32 (IEEE) over header + payload
//   28  H bytes  header: { kind, architecture, meta, tensors: [{ name, rows, cols, offset }] }
//   28+H P bytes payload: float32 tensors back to back (offset counts float32 elements)
// The file must be exactly 28 + H + P bytes. Loading checks magic, version, lengths, checksum and
// every tensor's bounds before building anything, so a damaged file is an error, never weights.
import { readFileSync } from 'node:fs';
import { CorruptDataError, InputError, NotFoundError } from '../util/errors.js';
import { Tensor } from '../tensor/tensor.js';
import type { Module } from './module.js';
import { crc32 } from '../util/crc32.js';
import { writeFileAtomic } from '../util/atomic-write.js';

export const CHECKPOINT_MAGIC = 'CMHASHCK';
export const CHECKPOINT_VERSION = 1;
const PREFIX = 28;

export interface CheckpointData {
  kind: string;
  architecture: unknown;
  tensors: Record<string, Tensor>;
  meta?: unknown;
}

interface TensorEntry { name: string; rows: number; cols: number; offset: number }


/** Writes `path` atomically (temp file in the same folder, fsync, rename). float64 tensors are stored as float32. */
export function saveCheckpoint(path: string, ck: CheckpointData): void {
  if (typeof ck.kind !== 'string' || ck.kind.length === 0) throw new InputError('saveCheckpoint: kind must be a non-empty string');
  const entries: TensorEntry[] = [];
  let offset = 0;
  for (const [name, t] of Object.entries(ck.tensors)) {
    if (!(t instanceof Tensor)) throw new InputError(`saveCheckpoint: tensors.${name} is not a Tensor`);
    entries.push({ name, rows: t.rows, cols: t.cols, offset });
    offset += t.size;
  }
  const headerText = JSON.stringify({ kind: ck.kind, architecture: ck.architecture ?? null, meta: ck.meta ?? null, tensors: entries });
  const header0 = Buffer.from(headerText, 'utf8');
  const pad = (4 - (header0.length % 4)) % 4;
  const header = pad ? Buffer.concat([header0, Buffer.alloc(pad, 0x20)]) : header0;
  const payload = Buffer.alloc(offset * 4);
  const f32 = new Float32Array(payload.buffer, payload.byteOffset, offset);
  let o = 0;
  for (const t of Object.values(ck.tensors)) { f32.set(t.data, o); o += t.size; } // f64 → f32 rounds here
  if (!littleEndian()) for (let i = 0; i < offset; i++) payload.writeFloatLE(f32[i]!, i * 4);
  const prefix = Buffer.alloc(PREFIX);
  prefix.write(CHECKPOINT_MAGIC, 0, 'latin1');
  prefix.writeUInt32LE(CHECKPOINT_VERSION, 8);
  prefix.writeUInt32LE(header.length, 12);
  prefix.writeBigUInt64LE(BigInt(payload.length), 16);
  prefix.writeUInt32LE(crc32(payload, crc32(header)), 24);
  writeFileAtomic(path, [prefix, header, payload]);
}


/** Reads and verifies a checkpoint; CorruptDataError on any damage, NotFoundError when missing. */
export function loadCheckpoint(path: string): CheckpointData & { meta: unknown } {
  let buf: Buffer;
  try { buf = readFileSync(path); } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(`checkpoint ${path} does not exist`);
    throw e;
  }
  const bad = (why: string): CorruptDataError => new CorruptDataError(`checkpoint ${path}: ${why}`);
  if (buf.length < PREFIX) {
    if (buf.length >= 8 && buf.toString('latin1', 0, 8) !== CHECKPOINT_MAGIC) throw bad('not a cmhash checkpoint (bad magic)');
    throw bad(`truncated: ${buf.length} bytes, smaller than the ${PREFIX}-byte preamble`);
  }
  if (buf.toString('latin1', 0, 8) !== CHECKPOINT_MAGIC) {
    throw bad(`not a cmhash checkpoint (bad magic ${JSON.stringify(buf.toString('latin1', 0, 8))}, expected "${CHECKPOINT_MAGIC}")`);
  }
  const version = buf.readUInt32LE(8);
  if (version > CHECKPOINT_VERSION) throw bad(`format version ${version} is newer than this build reads (<= ${CHECKPOINT_VERSION}); upgrade cmhash`);
  if (version < 1) throw bad(`invalid format version ${version}`);
  const headerLen = buf.readUInt32LE(12);
  const payloadLen = Number(buf.readBigUInt64LE(16));
  const expected = PREFIX + headerLen + payloadLen;
  if (buf.length < expected) throw bad(`truncated: ${buf.length} bytes, expected ${expected}`);
  if (buf.length > expected) throw bad(`${buf.length - expected} unexpected trailing bytes (expected ${expected} bytes in total)`);
  if (payloadLen % 4 !== 0) throw bad(`payload length ${payloadLen} is not a whole number of float32 values`);
  const header = buf.subarray(PREFIX, PREFIX + headerLen);
  const payload = buf.subarray(PREFIX + headerLen, expected);
  const stored = buf.readUInt32LE(24), actual = crc32(payload, crc32(header));
  if (stored !== actual) {
    throw bad(`checksum mismatch (stored ${hex(stored)}, computed ${hex(actual)}): the file is damaged`);
  }
  let h: { kind?: unknown; architecture?: unknown; meta?: unknown; tensors?: unknown };
  try { h = JSON.parse(header.toString('utf8')); } catch (e) { throw bad(`header is not valid JSON (${(e as Error).message})`); }
  if (typeof h.kind !== 'string' || !Array.isArray(h.tensors)) throw bad('header lacks kind or tensors');
  const count = payloadLen / 4;
  const tensors: Record<string, Tensor> = {};
  for (const e of h.tensors as TensorEntry[]) {
    const ok = e && typeof e.name === 'string' && Number.isInteger(e.rows) && Number.isInteger(e.cols) && Number.isInteger(e.offset)
      && e.rows >= 0 && e.cols >= 0 && e.offset >= 0 && e.offset + e.rows * e.cols <= count;
    if (!ok) throw bad(`tensor entry ${JSON.stringify(e)} is malformed or out of bounds (payload holds ${count} values)`);
    if (e.name in tensors) throw bad(`tensor ${e.name} appears twice`);
    const data = new Float32Array(e.rows * e.cols);
    const src = payload.subarray(e.offset * 4, (e.offset + data.length) * 4);
    if (littleEndian()) new Uint8Array(data.buffer).set(src);
    else for (let i = 0; i < data.length; i++) data[i] = src.readFloatLE(i * 4);
    tensors[e.name] = new Tensor(e.rows, e.cols, data);
  }
  return { kind: h.kind, architecture: h.architecture ?? null, tensors, meta: h.meta ?? null };
}

/** A module's parameters by name (what saveCheckpoint's `tensors` usually is). */
export function moduleTensors(m: Module): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const [n, t] of m.namedParameters()) out[n] = t;
  return out;
}

/**
 * Copies loaded tensors into a module's parameters. Names and shapes must match exactly (among
 * names starting with `prefix`); otherwise one InputError lists every difference, and nothing is copied.
 */
export function loadIntoModule(m: Module, tensors: Record<string, Tensor>, prefix = ''): void {
  const named = m.namedParameters();
  const want = new Set(named.map(([n]) => prefix + n));
  const problems: string[] = [];
  const missing = [...want].filter((n) => !(n in tensors));
  if (missing.length) problems.push(`lacks ${missing.join(', ')}`);
  for (const [n, p] of named) {
    const t = tensors[prefix + n];
    if (t && (t.rows !== p.rows || t.cols !== p.cols)) {
      problems.push(`${prefix + n} has shape [${t.rows}×${t.cols}], the model expects [${p.rows}×${p.cols}]`);
    }
  }
  const extra = Object.keys(tensors).filter((n) => n.startsWith(prefix) && !want.has(n));
  if (extra.length) problems.push(`has unexpected tensors ${extra.join(', ')}`);
  if (problems.length) throw new InputError(`loadIntoModule: checkpoint does not match the model: ${problems.join('; ')}`);
  for (const [n, p] of named) p.data.set(tensors[prefix + n]!.data);
}

function hex(x: number): string { return '0x' + x.toString(16).padStart(8, '0'); }

let le: boolean | null = null;
function littleEndian(): boolean { return (le ??= new Uint8Array(new Uint16Array([1]).buffer)[0] === 1); }

/** Adds fields to a saved checkpoint's meta record (e.g. the settings `--tune` chose), rewriting it atomically. */
export function addCheckpointMeta(path: string, fields: Record<string, unknown>): void {
  const ck = loadCheckpoint(path);
  const meta = ck.meta && typeof ck.meta === 'object' ? ck.meta as Record<string, unknown> : {};
  saveCheckpoint(path, { kind: ck.kind, architecture: ck.architecture, tensors: ck.tensors, meta: { ...meta, ...fields } });
}
