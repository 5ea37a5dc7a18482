// A small reader for MATLAB v5/v7 .mat files (the format `save` writes by default before v7.3).
// Written here rather than taken from a package: the field needs only numeric, logical, char and
// sparse arrays, and owning the parser lets every length be checked against the bytes present
// before allocating (fuzz safety) and lets errors name the file and variable.
//
// Layout: 128-byte header, then data elements. Each element is a tag (type, byte count) followed
// by its payload padded to 8 bytes; "small" elements pack a ≤4-byte payload into the tag itself.
// miCOMPRESSED (15) wraps one zlib-deflated miMATRIX (14). A matrix holds sub-elements: array
// flags, dimensions, name, then real (and imaginary) data — or ir/jc/pr for sparse — stored
// column-major and possibly in a smaller integer type than its class (MATLAB shrinks doubles of
// integer values to miUINT8 etc.), so values are widened to the class type on read.
import { inflateSync, constants as zconst } from 'node:zlib';
import { CorruptDataError, InputError, NotFoundError } from '../util/errors.js';
import { readBytes } from './npy.js';
import { elementCount, fortranToC, type DType, type NdArray, type TypedData } from './ndarray.js';

export const MI = { INT8: 1, UINT8: 2, INT16: 3, UINT16: 4, INT32: 5, UINT32: 6, SINGLE: 7, DOUBLE: 9, INT64: 12, UINT64: 13, MATRIX: 14, COMPRESSED: 15, UTF8: 16, UTF16: 17, UTF32: 18 } as const;
export const MX = { CELL: 1, STRUCT: 2, OBJECT: 3, CHAR: 4, SPARSE: 5, DOUBLE: 6, SINGLE: 7, INT8: 8, UINT8: 9, INT16: 10, UINT16: 11, INT32: 12, UINT32: 13, INT64: 14, UINT64: 15 } as const;

const MX_NAMES: Record<number, string> = { 1: 'cell', 2: 'struct', 3: 'object', 4: 'char', 5: 'sparse', 6: 'double', 7: 'single', 8: 'int8', 9: 'uint8', 10: 'int16', 11: 'uint16', 12: 'int32', 13: 'uint32', 14: 'int64', 15: 'uint64' };
const MX_DTYPE: Record<number, DType> = { 6: 'float64', 7: 'float32', 8: 'int8', 9: 'uint8', 10: 'int16', 11: 'uint16', 12: 'int32', 13: 'uint32', 14: 'int64', 15: 'uint64' };
const MI_SIZE: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 2, 5: 4, 6: 4, 7: 4, 9: 8, 12: 8, 13: 8, 16: 1, 17: 2, 18: 4 };
const MI_NAMES: Record<number, string> = { 1: 'miINT8', 2: 'miUINT8', 3: 'miINT16', 4: 'miUINT16', 5: 'miINT32', 6: 'miUINT32', 7: 'miSINGLE', 9: 'miDOUBLE', 12: 'miINT64', 13: 'miUINT64', 14: 'miMATRIX', 15: 'miCOMPRESSED', 16: 'miUTF8', 17: 'miUTF16', 18: 'miUTF32' };

export interface MatVariableInfo {
  name: string;
  /** MATLAB dims (rows, cols, ...). */
  dims: number[];
  /** 'double', 'single', 'uint8', ..., 'logical', 'char', 'sparse', 'cell', 'struct'. */
  class: string;
  compressed: boolean;
  /** Structs: the field names (a 1×1 struct is listed as its fields, `name.field`, instead). */
  fieldNames?: string[];
}

export interface MatVariable extends MatVariableInfo {
  /** A decoded 1×1 struct's fields, each named by its path (`data.X1`). */
  fields?: MatVariable[];
  /** Numeric/logical/sparse values, C order with shape = dims (row-major). Absent for char/cell/struct. */
  array?: NdArray;
  /** Char arrays: one string per row. */
  strings?: string[];
}

export interface MatReadOptions {
  /**
   * Only decode these variables (others are skipped without decompressing the whole payload).
   * A field of a 1×1 struct is named by its path: `data.X1` (nested: `data.sub.X`).
   */
  names?: string[];
  /** Largest decompressed size of one variable, bytes (default 2^31). */
  maxBytes?: number;
}

export type MatVersion = 'v5' | 'v7.3' | 'unknown';

/** Which MATLAB format the bytes hold: v5/v7 (this reader) or v7.3 (HDF5, see mat-v73.ts). */
export function matVersion(bytes: Uint8Array): MatVersion {
  if (bytes.length >= 520 && bytes[512] === 0x89 && bytes[513] === 0x48 && bytes[514] === 0x44 && bytes[515] === 0x46) return 'v7.3';
  if (bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x48 && bytes[2] === 0x44 && bytes[3] === 0x46) return 'v7.3';
  if (bytes.length >= 128) {
    const e = String.fromCharCode(bytes[126]!, bytes[127]!);
    const text = new TextDecoder('latin1').decode(bytes.subarray(0, 10));
    if ((e === 'IM' || e === 'MI') && text.startsWith('MATLAB')) return 'v5';
  }
  return 'unknown';
}

interface Tag { type: number; nbytes: number; dataOff: number; next: number }

class Reader {
  constructor(readonly dv: DataView, readonly le: boolean, readonly where: string) {}
  get length(): number { return this.dv.byteLength; }
  u32(off: number): number { return this.dv.getUint32(off, this.le); }
  tag(off: number, end: number, what: string): Tag {
    if (off + 8 > end) throw new CorruptDataError(`${this.where}: truncated ${what} (tag at byte ${off} runs past ${end})`);
    const u = this.u32(off);
    if (u >>> 16 !== 0) {
      const nbytes = u >>> 16;
      if (nbytes > 4) throw new CorruptDataError(`${this.where}: bad small-element tag for ${what} at byte ${off}`);
      return { type: u & 0xffff, nbytes, dataOff: off + 4, next: off + 8 };
    }
    const nbytes = this.u32(off + 4);
    const dataOff = off + 8;
    if (dataOff + nbytes > end) throw new CorruptDataError(`${this.where}: truncated ${what}: element claims ${nbytes} bytes at byte ${dataOff}, only ${end - dataOff} remain`);
    return { type: u, nbytes, dataOff, next: dataOff + nbytes + ((8 - (nbytes % 8)) % 8) };
  }
}

/** Lists the variables (name, dims, class) without decoding their data. */
export function listMatV5(path: string): MatVariableInfo[] {
  return parseMatV5(readBytes(path), path, { names: [] }).infos;
}

/** Reads a .mat v5 file: all variables, or those named in `opts.names`. */
export function readMatV5(path: string, opts: MatReadOptions = {}): Map<string, MatVariable> {
  const { vars, infos } = parseMatV5(readBytes(path), path, opts);
  if (opts.names) for (const n of opts.names) if (!vars.has(n)) {
    throw new NotFoundError(`${path}: no variable '${n}' (found: ${infos.map((i) => i.name).join(', ') || 'none'})`);
  }
  return vars;
}

export function parseMatV5(bytes: Uint8Array, where: string, opts: MatReadOptions = {}): { vars: Map<string, MatVariable>; infos: MatVariableInfo[] } {
  const version = matVersion(bytes);
  if (version === 'v7.3') throw new InputError(`${where}: this is a MATLAB v7.3 (HDF5) file; read it with readMatV73`);
  if (version !== 'v5') throw new CorruptDataError(`${where}: not a MATLAB v5 .mat file (wrong magic: expected 'MATLAB 5.0 MAT-file' header with endian mark 'IM'/'MI' at byte 126)`);
  const le = String.fromCharCode(bytes[126]!, bytes[127]!) === 'IM';
  const r = new Reader(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), le, where);
  const maxBytes = opts.maxBytes ?? 2 ** 31;
  const vars = new Map<string, MatVariable>();
  const infos: MatVariableInfo[] = [];
  const names = opts.names;
  // A top-level variable is wanted when it, or one of its struct fields, was asked for.
  const wanted = (n: string) => !names || names.some((x) => x === n || x.startsWith(`${n}.`));
  const keep = (v: MatVariable) => { for (const leaf of flattenStruct(v)) if (!names || names.includes(leaf.name)) vars.set(leaf.name, leaf); };
  let off = 128; let k = 0;
  while (off + 8 <= bytes.length) {
    const t = r.tag(off, bytes.length, `variable #${k + 1}`);
    if (t.type === MI.COMPRESSED) {
      const raw = bytes.subarray(t.dataOff, t.dataOff + t.nbytes);
      const head = inflatePrefix(raw);
      const info = head ? tryMatrixHeader(head, le, where) : null;
      const isStruct = info?.class === 'struct'; // listing its fields needs the whole payload
      const want = info !== null && wanted(info.name);
      if (info && !isStruct) infos.push({ ...info, compressed: true });
      if (want || !info || isStruct) {
        let inner: Buffer;
        try { inner = inflateSync(raw, { maxOutputLength: maxBytes }); } catch (e) {
          const what = info ? `variable '${info.name}'` : `variable #${k + 1}`;
          const msg = (e as Error).message;
          if (/maxOutputLength|larger than/i.test(msg)) throw new InputError(`${where}: ${what} decompresses to more than ${maxBytes} bytes (raise maxBytes if this is intended)`);
          throw new CorruptDataError(`${where}: ${what}: corrupt or truncated compressed data (${msg})`);
        }
        const ir = new Reader(new DataView(inner.buffer, inner.byteOffset, inner.byteLength), le, where);
        const mt = ir.tag(0, inner.length, `compressed variable #${k + 1}`);
        if (mt.type !== MI.MATRIX) throw new CorruptDataError(`${where}: compressed element #${k + 1} holds ${MI_NAMES[mt.type] ?? mt.type}, expected miMATRIX`);
        const full = info ? want : wanted(parseMatrix(ir, mt.dataOff, mt.dataOff + mt.nbytes, true, 'name').name);
        const v = parseMatrix(ir, mt.dataOff, mt.dataOff + mt.nbytes, true, full ? 'full' : 'header', 0, undefined, names ? wanted : undefined);
        if (!info || isStruct) infos.push(...flattenStruct(v).map(infoOf));
        if (full) keep(v);
      }
      off = t.dataOff + t.nbytes; // compressed elements are not padded
    } else if (t.type === MI.MATRIX) {
      const v = parseMatrix(r, t.dataOff, t.dataOff + t.nbytes, false, 'header');
      infos.push(...flattenStruct(v).map(infoOf));
      if (wanted(v.name)) keep(parseMatrix(r, t.dataOff, t.dataOff + t.nbytes, false, 'full', 0, undefined, names ? wanted : undefined));
      off = t.next;
    } else {
      throw new CorruptDataError(`${where}: unexpected top-level element type ${MI_NAMES[t.type] ?? t.type} at byte ${off} (expected miMATRIX or miCOMPRESSED)`);
    }
    k++;
  }
  return { vars, infos };
}

/** A 1×1 struct as its fields (recursively, named by path); any other variable as itself. */
export function flattenStruct(v: MatVariable): MatVariable[] {
  return v.fields && v.fields.length > 0 ? v.fields.flatMap(flattenStruct) : [v];
}

function infoOf(v: MatVariable): MatVariableInfo {
  const i: MatVariableInfo = { name: v.name, dims: v.dims, class: v.class, compressed: v.compressed };
  if (v.fieldNames) i.fieldNames = v.fieldNames;
  return i;
}

/** Inflates just the start of a compressed element (enough for flags, dims and name). */
function inflatePrefix(raw: Uint8Array): Buffer | null {
  try { return inflateSync(raw.subarray(0, Math.min(raw.length, 1024)), { finishFlush: zconst.Z_SYNC_FLUSH, maxOutputLength: 1 << 20 }); } catch { return null; }
}

function tryMatrixHeader(head: Buffer, le: boolean, where: string): Omit<MatVariableInfo, 'compressed'> | null {
  try {
    const r = new Reader(new DataView(head.buffer, head.byteOffset, head.byteLength), le, where);
    const u = r.u32(0);
    if (u !== MI.MATRIX) return null;
    // The outer byte count refers to the full stream; parse the header with the prefix as the bound.
    const v = parseMatrix(r, 8, head.length, true, 'name');
    return { name: v.name, dims: v.dims, class: v.class };
  } catch { return null; }
}

/** Struct nesting we follow (deeper structs are listed, not decoded). */
const MAX_STRUCT_DEPTH = 8;

/**
 * One miMATRIX payload. mode 'name': flags, dims and name only; 'header': also the fields of a
 * 1×1 struct (their headers); 'full': the data. `path` names a struct field (its own name element
 * is empty); `wanted` limits which struct fields are decoded in full.
 */
function parseMatrix(r: Reader, start: number, end: number, compressed: boolean, mode: 'name' | 'header' | 'full', depth = 0, path?: string, wanted?: (name: string) => boolean): MatVariable {
  const where = r.where;
  if (start === end) return { name: path ?? '', dims: [0, 0], class: 'double', compressed, array: { shape: [0, 0], dtype: 'float64', data: new Float64Array(0) } };
  const flagsT = r.tag(start, end, 'array flags');
  if (flagsT.type !== MI.UINT32 || flagsT.nbytes < 8) throw new CorruptDataError(`${where}: bad array-flags element at byte ${start}`);
  const flags = r.u32(flagsT.dataOff);
  const cls = flags & 0xff;
  const complex = (flags & 0x800) !== 0;
  const logical = (flags & 0x200) !== 0;
  const dimsT = r.tag(flagsT.next, end, 'dimensions');
  if (dimsT.type !== MI.INT32 || dimsT.nbytes % 4 !== 0 || dimsT.nbytes < 8) throw new CorruptDataError(`${where}: bad dimensions element (type ${MI_NAMES[dimsT.type] ?? dimsT.type}, ${dimsT.nbytes} bytes)`);
  const dims: number[] = [];
  for (let i = 0; i < dimsT.nbytes / 4; i++) {
    const d = r.dv.getInt32(dimsT.dataOff + 4 * i, r.le);
    if (d < 0) throw new CorruptDataError(`${where}: negative dimension ${d}`);
    dims.push(d);
  }
  const nameT = r.tag(dimsT.next, end, 'array name');
  if (nameT.type !== MI.INT8 && nameT.type !== MI.UINT8) throw new CorruptDataError(`${where}: bad array-name element type ${MI_NAMES[nameT.type] ?? nameT.type}`);
  const name = path ?? new TextDecoder('latin1').decode(new Uint8Array(r.dv.buffer, r.dv.byteOffset + nameT.dataOff, nameT.nbytes));
  const className = logical ? 'logical' : (MX_NAMES[cls] ?? `class${cls}`);
  const v: MatVariable = { name, dims, class: className, compressed };
  if (mode === 'name') return v;
  if (cls === MX.STRUCT) { parseStruct(r, nameT.next, end, v, compressed, mode, depth, wanted); return v; }
  if (mode === 'header') return v;
  const what = `${where}: variable '${name}'`;
  if (cls === MX.CELL || cls === MX.OBJECT) return v; // not needed by the field's data files; listed, not decoded
  if (complex) throw new InputError(`${what}: complex arrays are not supported (features must be real)`);
  let off = nameT.next;
  if (cls === MX.CHAR) {
    const t = r.tag(off, end, `${name} data`);
    const n = elementCount(dims, what);
    const codes = readElement(r, t, n, 'uint32', what) as Uint32Array;
    v.strings = charRows(codes, dims);
    return v;
  }
  if (cls === MX.SPARSE) {
    if (dims.length !== 2) throw new CorruptDataError(`${what}: sparse array with ${dims.length} dims`);
    const [rows, cols] = dims as [number, number];
    const nDense = elementCount(dims, what);
    const irT = r.tag(off, end, `${name} ir`);
    const jcT = r.tag(irT.next, end, `${name} jc`);
    const prT = r.tag(jcT.next, end, `${name} pr`);
    const nnz = irT.nbytes / (MI_SIZE[irT.type] ?? 4);
    const ir = readElement(r, irT, -1, 'int32', what) as Int32Array;
    const jc = readElement(r, jcT, cols + 1, 'int32', what) as Int32Array;
    const pr = readElement(r, prT, -1, 'float64', what) as Float64Array;
    const dtype: DType = logical ? 'uint8' : 'float64';
    const dense = logical ? new Uint8Array(nDense) : new Float64Array(nDense); // row-major rows×cols
    for (let c = 0; c < cols; c++) {
      const a = jc[c]!; const b = jc[c + 1]!;
      if (a < 0 || b < a || b > nnz) throw new CorruptDataError(`${what}: sparse column pointer jc[${c + 1}]=${b} out of range (nnz ${nnz})`);
      for (let p = a; p < b; p++) {
        const row = ir[p]!;
        if (row < 0 || row >= rows) throw new CorruptDataError(`${what}: sparse row index ${row} out of range [0, ${rows})`);
        dense[row * cols + c] = logical ? (p < pr.length ? (pr[p] ? 1 : 0) : 1) : (pr[p] ?? 0);
      }
    }
    v.array = { shape: [rows, cols], dtype, data: dense };
    return v;
  }
  const dtype = logical ? 'uint8' : MX_DTYPE[cls];
  if (!dtype) throw new InputError(`${what}: unsupported MATLAB class ${cls}`);
  const n = elementCount(dims, what);
  const t = r.tag(off, end, `${name} data`);
  const colMajor = readElement(r, t, n, dtype, what);
  if (logical) for (let i = 0; i < colMajor.length; i++) if ((colMajor as Uint8Array)[i]) (colMajor as Uint8Array)[i] = 1;
  v.array = { shape: dims, dtype: logical ? 'bool' : dtype, data: fortranToC(colMajor, dims) };
  return v;
}

/**
 * Struct payload after the name: field-name length (miINT32), the names (miINT8, NUL-padded to
 * that length), then one miMATRIX per field per element (column-major over the elements). Only a
 * 1×1 struct's fields are decoded, each named `struct.field`; a struct array is listed as is.
 */
function parseStruct(r: Reader, off: number, end: number, v: MatVariable, compressed: boolean, mode: 'header' | 'full', depth: number, wanted?: (name: string) => boolean): void {
  const what = `${r.where}: struct '${v.name}'`;
  const lenT = r.tag(off, end, `${v.name} field-name length`);
  if (lenT.type !== MI.INT32 || lenT.nbytes !== 4) throw new CorruptDataError(`${what}: bad field-name length element (type ${MI_NAMES[lenT.type] ?? lenT.type}, ${lenT.nbytes} bytes)`);
  const flen = r.dv.getInt32(lenT.dataOff, r.le);
  const namesT = r.tag(lenT.next, end, `${v.name} field names`);
  if (namesT.type !== MI.INT8 && namesT.type !== MI.UINT8) throw new CorruptDataError(`${what}: bad field-names element type ${MI_NAMES[namesT.type] ?? namesT.type}`);
  if (flen <= 0 ? namesT.nbytes !== 0 : namesT.nbytes % flen !== 0) throw new CorruptDataError(`${what}: field names take ${namesT.nbytes} bytes, not a multiple of the field-name length ${flen}`);
  const nf = flen > 0 ? namesT.nbytes / flen : 0;
  const fieldNames: string[] = [];
  for (let i = 0; i < nf; i++) {
    const b = new Uint8Array(r.dv.buffer, r.dv.byteOffset + namesT.dataOff + i * flen, flen);
    const z = b.indexOf(0);
    fieldNames.push(new TextDecoder('latin1').decode(z < 0 ? b : b.subarray(0, z)));
  }
  v.fieldNames = fieldNames;
  if (v.dims.length < 2 || v.dims.some((d) => d !== 1) || depth >= MAX_STRUCT_DEPTH) return;
  v.fields = [];
  let p = namesT.next;
  for (const fn of fieldNames) {
    const fpath = `${v.name}.${fn}`;
    const t = r.tag(p, end, `field '${fpath}'`);
    if (t.type !== MI.MATRIX) throw new CorruptDataError(`${what}: field '${fn}' holds ${MI_NAMES[t.type] ?? t.type}, expected miMATRIX`);
    const fmode = mode === 'full' && (!wanted || wanted(fpath)) ? 'full' : 'header';
    v.fields.push(parseMatrix(r, t.dataOff, t.dataOff + t.nbytes, compressed, fmode, depth + 1, fpath, wanted));
    p = t.next;
  }
}

/**
 * Reads one numeric element into a typed array of the target dtype. `expect` is the element count
 * the dims imply (-1: whatever is stored). The byte count was already checked against the buffer,
 * so the allocation here is bounded by the file (or the decompressed payload) size.
 */
function readElement(r: Reader, t: Tag, expect: number, dtype: DType | 'uint32', what: string): TypedData {
  const size = MI_SIZE[t.type];
  if (!size || t.type === MI.MATRIX) throw new CorruptDataError(`${what}: unsupported data element type ${MI_NAMES[t.type] ?? t.type}`);
  if (t.nbytes % size !== 0) throw new CorruptDataError(`${what}: ${MI_NAMES[t.type]} element of ${t.nbytes} bytes is not a multiple of ${size}`);
  const count = t.nbytes / size;
  if (expect >= 0 && count !== expect) throw new CorruptDataError(`${what}: dims imply ${expect} values, data element holds ${count} (${MI_NAMES[t.type]})`);
  const out = allocate(dtype, count);
  const dv = r.dv; const le = r.le; const o = t.dataOff;
  const big = out instanceof BigInt64Array || out instanceof BigUint64Array;
  const put = (i: number, x: number | bigint) => {
    if (big) (out as BigInt64Array)[i] = typeof x === 'bigint' ? x : BigInt(Math.trunc(x));
    else (out as Float64Array)[i] = Number(x);
  };
  switch (t.type) {
    case MI.INT8: for (let i = 0; i < count; i++) put(i, dv.getInt8(o + i)); break;
    case MI.UINT8: case MI.UTF8: for (let i = 0; i < count; i++) put(i, dv.getUint8(o + i)); break;
    case MI.INT16: for (let i = 0; i < count; i++) put(i, dv.getInt16(o + 2 * i, le)); break;
    case MI.UINT16: case MI.UTF16: for (let i = 0; i < count; i++) put(i, dv.getUint16(o + 2 * i, le)); break;
    case MI.INT32: for (let i = 0; i < count; i++) put(i, dv.getInt32(o + 4 * i, le)); break;
    case MI.UINT32: case MI.UTF32: for (let i = 0; i < count; i++) put(i, dv.getUint32(o + 4 * i, le)); break;
    case MI.SINGLE: for (let i = 0; i < count; i++) put(i, dv.getFloat32(o + 4 * i, le)); break;
    case MI.DOUBLE: for (let i = 0; i < count; i++) put(i, dv.getFloat64(o + 8 * i, le)); break;
    case MI.INT64: for (let i = 0; i < count; i++) put(i, big ? dv.getBigInt64(o + 8 * i, le) : Number(dv.getBigInt64(o + 8 * i, le))); break;
    case MI.UINT64: for (let i = 0; i < count; i++) put(i, big ? dv.getBigUint64(o + 8 * i, le) : Number(dv.getBigUint64(o + 8 * i, le))); break;
  }
  return out;
}

function allocate(dtype: DType | 'uint32', n: number): TypedData {
  switch (dtype) {
    case 'float64': return new Float64Array(n); case 'float32': return new Float32Array(n);
    case 'int8': return new Int8Array(n); case 'uint8': case 'bool': return new Uint8Array(n);
    case 'int16': return new Int16Array(n); case 'uint16': return new Uint16Array(n);
    case 'int32': return new Int32Array(n); case 'uint32': return new Uint32Array(n);
    case 'int64': return new BigInt64Array(n); case 'uint64': return new BigUint64Array(n);
  }
}

/** A MATLAB char matrix (column-major codes) as one string per row, trailing blanks trimmed. */
function charRows(codes: Uint32Array, dims: number[]): string[] {
  const rows = dims[0] ?? 0; const cols = dims.length > 1 ? dims.slice(1).reduce((a, b) => a * b, 1) : 1;
  const out: string[] = [];
  for (let i = 0; i < rows; i++) {
    let s = '';
    for (let j = 0; j < cols; j++) s += String.fromCodePoint(codes[j * rows + i]!);
    out.push(s.replace(/\s+$/, ''));
  }
  return out;
}
