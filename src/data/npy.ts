// NumPy .npy / .npz reader and .npy writer. Every header field is checked against the bytes that
// are actually there before anything is allocated, so a corrupt or hostile header cannot make us
// allocate more than the file holds.
import { closeSync, fstatSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { unzipSync } from 'fflate';
import { CorruptDataError, InputError, NotFoundError } from '../util/errors.js';
import { DTYPE_BYTES, elementCount, fortranToC, type DType, type NdArray, type TypedData } from './ndarray.js';
import { writeFileAtomic } from '../util/atomic-write.js';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

const DESCR: Record<string, DType> = {
  b1: 'bool', i1: 'int8', u1: 'uint8', i2: 'int16', u2: 'uint16', i4: 'int32', u4: 'uint32',
  i8: 'int64', u8: 'uint64', f4: 'float32', f8: 'float64',
};

function ctorFor(dtype: DType): new (buf: ArrayBuffer) => TypedData {
  switch (dtype) {
    case 'float32': return Float32Array; case 'float64': return Float64Array;
    case 'int8': return Int8Array; case 'uint8': case 'bool': return Uint8Array;
    case 'int16': return Int16Array; case 'uint16': return Uint16Array;
    case 'int32': return Int32Array; case 'uint32': return Uint32Array;
    case 'int64': return BigInt64Array; case 'uint64': return BigUint64Array;
  }
}

interface NpyHeader { dtype: DType; shape: number[]; fortran: boolean; bigEndian: boolean; dataStart: number }

/** The header of .npy bytes (magic, version, dict); `bytes` may be just the file's start. */
function parseNpyHeader(bytes: Uint8Array, where: string): NpyHeader {
  if (bytes.length < 10 || !MAGIC.every((b, i) => bytes[i] === b)) {
    throw new CorruptDataError(`${where}: not a .npy file (wrong magic; expected \\x93NUMPY)`);
  }
  const major = bytes[6]!;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLen: number; let headerStart: number;
  if (major === 1) { headerLen = dv.getUint16(8, true); headerStart = 10; }
  else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw new CorruptDataError(`${where}: truncated .npy header`);
    headerLen = dv.getUint32(8, true); headerStart = 12;
  } else throw new CorruptDataError(`${where}: unsupported .npy format version ${major}`);
  if (headerStart + headerLen > bytes.length) throw new CorruptDataError(`${where}: truncated .npy header (claims ${headerLen} bytes, file has ${bytes.length - headerStart})`);
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(headerStart, headerStart + headerLen));
  const descrM = /'descr'\s*:\s*'([<>|=])([a-zA-Z]\d+)'/.exec(header);
  const fortranM = /'fortran_order'\s*:\s*(True|False)/.exec(header);
  const shapeM = /'shape'\s*:\s*\(([^)]*)\)/.exec(header);
  if (!descrM || !fortranM || !shapeM) throw new CorruptDataError(`${where}: malformed .npy header ${JSON.stringify(header.trim())}`);
  const dtype = DESCR[descrM[2]!];
  if (!dtype) throw new InputError(`${where}: unsupported dtype '${descrM[1]}${descrM[2]}' (supported: bool, (u)int8/16/32/64, float32/64)`);
  const shape = shapeM[1]!.split(',').map((s) => s.trim()).filter((s) => s.length > 0).map((s) => {
    if (!/^\d+L?$/.test(s)) throw new CorruptDataError(`${where}: malformed shape entry '${s}' in .npy header`);
    return Number.parseInt(s, 10);
  });
  return { dtype, shape, fortran: fortranM[1] === 'True', bigEndian: descrM[1] === '>' && DTYPE_BYTES[dtype] > 1, dataStart: headerStart + headerLen };
}

/** Shape and dtype of an .npy file from its header alone (the data is not read). */
export function npyInfo(path: string): { shape: number[]; dtype: DType } {
  let fd: number;
  try { fd = openSync(path, 'r'); } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new NotFoundError(`${path}: no such file`);
    throw new InputError(`${path}: cannot read (${code ?? (e as Error).message})`);
  }
  try {
    const size = fstatSync(fd).size;
    let buf = Buffer.alloc(Math.min(size, 4096));
    readSync(fd, buf, 0, buf.length, 0);
    if (buf.length >= 12 && buf[6]! >= 2) { // v2/v3: 4-byte header length, may exceed the first read
      const need = Math.min(size, 12 + buf.readUInt32LE(8));
      if (need > buf.length) { buf = Buffer.alloc(need); readSync(fd, buf, 0, need, 0); }
    }
    const h = parseNpyHeader(buf, path);
    return { shape: h.shape, dtype: h.dtype };
  } finally { closeSync(fd); }
}

/** Parses .npy bytes. `where` names the file (and the npz member) in error messages. */
export function parseNpy(bytes: Uint8Array, where: string): NdArray {
  const { dtype, shape, fortran, bigEndian, dataStart } = parseNpyHeader(bytes, where);
  const n = elementCount(shape, where);
  const itemSize = DTYPE_BYTES[dtype];
  const need = n * itemSize;
  const have = bytes.length - dataStart;
  if (have < need) throw new CorruptDataError(`${where}: truncated data: shape [${shape.join(', ')}] ${dtype} needs ${need} bytes, file has ${have}`);
  // Copy into a fresh aligned buffer (the source offset need not be a multiple of the item size).
  const buf = new ArrayBuffer(need);
  new Uint8Array(buf).set(bytes.subarray(dataStart, dataStart + need));
  if (bigEndian) swapBytes(new Uint8Array(buf), itemSize);
  let data = new (ctorFor(dtype))(buf);
  if (dtype === 'bool') for (let i = 0; i < data.length; i++) if ((data as Uint8Array)[i]! > 1) (data as Uint8Array)[i] = 1;
  if (fortran) data = fortranToC(data, shape);
  return { shape, dtype, data };
}

function swapBytes(b: Uint8Array, size: number): void {
  for (let i = 0; i + size <= b.length; i += size) {
    for (let lo = i, hi = i + size - 1; lo < hi; lo++, hi--) { const t = b[lo]!; b[lo] = b[hi]!; b[hi] = t; }
  }
}

export function readNpy(path: string): NdArray {
  return parseNpy(readBytes(path), path);
}

export function readBytes(path: string): Uint8Array {
  try { return readFileSync(path); } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new NotFoundError(`${path}: no such file`);
    throw new InputError(`${path}: cannot read (${code ?? (e as Error).message})`);
  }
}

/** Largest uncompressed npz member we accept (guards against zip bombs): 4 GiB or 64× the archive. */
function npzMemberLimit(archiveBytes: number): number { return Math.min(2 ** 32, Math.max(archiveBytes * 64, 2 ** 28)); }

/** Reads the arrays of an .npz archive (all, or only `names`). Keys drop the `.npy` suffix. */
export function readNpz(path: string, names?: string[]): Map<string, NdArray> {
  const bytes = readBytes(path);
  if (bytes.length < 4 || bytes[0] !== 0x50 || bytes[1] !== 0x4b) throw new CorruptDataError(`${path}: not an .npz file (wrong magic; expected a zip archive 'PK')`);
  const limit = npzMemberLimit(bytes.length);
  let files: Record<string, Uint8Array>;
  const members: string[] = [];
  try {
    files = unzipSync(bytes, {
      filter: (f) => {
        const key = f.name.replace(/\.npy$/, '');
        members.push(key);
        if (names && !names.includes(key)) return false;
        if (f.originalSize > limit) throw new CorruptDataError(`${path}: member ${f.name} claims ${f.originalSize} bytes uncompressed, over the ${limit}-byte limit`);
        return true;
      },
    });
  } catch (e) {
    if (e instanceof CorruptDataError) throw e;
    throw new CorruptDataError(`${path}: corrupt or truncated zip archive (${(e as Error).message})`);
  }
  const out = new Map<string, NdArray>();
  for (const [name, data] of Object.entries(files)) {
    if (!name.endsWith('.npy')) continue;
    const key = name.slice(0, -4);
    out.set(key, parseNpy(data, `${path}:${key}`));
  }
  if (names) for (const n of names) if (!out.has(n)) throw new NotFoundError(`${path}: no array '${n}' (found: ${members.join(', ') || 'none'})`);
  return out;
}

const DESCR_OUT: Partial<Record<DType, string>> = {
  float32: '<f4', float64: '<f8', int8: '|i1', uint8: '|u1', int16: '<i2', uint16: '<u2', int32: '<i4', uint32: '<u4', bool: '|b1',
};

/** Serialises an array as .npy v1.0 bytes (little-endian, C order). */
export function encodeNpy(a: NdArray): Uint8Array {
  const descr = DESCR_OUT[a.dtype];
  if (!descr) throw new InputError(`encodeNpy: dtype ${a.dtype} not supported for writing`);
  if ((a.data.length) !== elementCount(a.shape, 'encodeNpy')) throw new InputError(`encodeNpy: data has ${a.data.length} values, shape [${a.shape.join(', ')}] needs ${elementCount(a.shape, 'encodeNpy')}`);
  const shapeStr = a.shape.length === 1 ? `(${a.shape[0]},)` : `(${a.shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeStr}, }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const h = new TextEncoder().encode(header);
  const body = new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength);
  const out = new Uint8Array(10 + h.length + body.length);
  out.set(MAGIC, 0); out[6] = 1; out[7] = 0;
  new DataView(out.buffer).setUint16(8, h.length, true);
  out.set(h, 10); out.set(body, 10 + h.length);
  return out;
}

/** Writes an .npy file atomically (temp file + rename). */
export function writeNpy(path: string, a: NdArray): void {
  writeFileAtomic(path, encodeNpy(a));
}

export function fileSize(path: string): number { return statSync(path).size; }
