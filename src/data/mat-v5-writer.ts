// Writes MATLAB v5 .mat files: numeric, logical, char and sparse 2-D arrays and 1×1 structs of
// them, optionally compressed. Used to export features and by the tests to build files in the layouts other
// repositories ship (the reader in mat-v5.ts is checked against files written here and against
// real MATLAB-written files).
import { deflateSync } from 'node:zlib';
import { InputError } from '../util/errors.js';
import { transpose2d, type DType, type NdArray } from './ndarray.js';
import { MI, MX } from './mat-v5.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { concatArrays } from '../util/arrays.js';

export interface MatWriteVariable {
  name: string;
  /** C-order array; written column-major as MATLAB expects. */
  array?: NdArray;
  /** Write as a logical array (values 0/1). */
  logical?: boolean;
  /** Write a 2-D array as a MATLAB sparse matrix (double, or logical with `logical`). */
  sparse?: boolean;
  /** A char row vector instead of a numeric array. */
  text?: string;
  /** A 1×1 struct with these fields (each named by its field name), as `s.X1 = …; save f s`. */
  fields?: MatWriteVariable[];
}

export interface MatWriteOptions { compress?: boolean; bigEndian?: boolean; /** store a double array in this smaller type, as MATLAB does for integer-valued doubles */ storeAs?: Record<string, 'uint8' | 'int16' | 'single'> }

const CLASS_OF: Partial<Record<DType, [number, number, number]>> = { // [mx class, mi type, bytes]
  float64: [MX.DOUBLE, MI.DOUBLE, 8], float32: [MX.SINGLE, MI.SINGLE, 4], int8: [MX.INT8, MI.INT8, 1], uint8: [MX.UINT8, MI.UINT8, 1],
  int16: [MX.INT16, MI.INT16, 2], uint16: [MX.UINT16, MI.UINT16, 2], int32: [MX.INT32, MI.INT32, 4], uint32: [MX.UINT32, MI.UINT32, 4],
  bool: [MX.UINT8, MI.UINT8, 1],
};

class Writer {
  parts: Uint8Array[] = [];
  constructor(readonly le: boolean) {}
  /** One element: tag + payload + padding to 8 bytes. */
  element(type: number, payload: Uint8Array): void {
    const tag = new DataView(new ArrayBuffer(8));
    tag.setUint32(0, type, this.le); tag.setUint32(4, payload.length, this.le);
    this.parts.push(new Uint8Array(tag.buffer), payload);
    const pad = (8 - (payload.length % 8)) % 8;
    if (pad) this.parts.push(new Uint8Array(pad));
  }
  numbers(type: number, size: number, values: ArrayLike<number>): void {
    const b = new DataView(new ArrayBuffer(values.length * size));
    for (let i = 0; i < values.length; i++) {
      const x = values[i]!;
      switch (type) {
        case MI.INT8: b.setInt8(i, x); break; case MI.UINT8: b.setUint8(i, x); break;
        case MI.INT16: b.setInt16(2 * i, x, this.le); break; case MI.UINT16: b.setUint16(2 * i, x, this.le); break;
        case MI.INT32: b.setInt32(4 * i, x, this.le); break; case MI.UINT32: b.setUint32(4 * i, x, this.le); break;
        case MI.SINGLE: b.setFloat32(4 * i, x, this.le); break; case MI.DOUBLE: b.setFloat64(8 * i, x, this.le); break;
      }
    }
    this.element(type, new Uint8Array(b.buffer));
  }
  bytes(): Uint8Array { return concatArrays(this.parts, new Uint8Array(0)); }
}

/** Struct payload: flags, dims 1×1, name, field-name length (small element), names, one miMATRIX per field. */
function structPayload(v: MatWriteVariable, le: boolean): Uint8Array {
  const w = new Writer(le);
  const fields = v.fields!;
  const flen = Math.max(32, ...fields.map((f) => f.name.length + 1));
  if (flen > 64) throw new InputError(`writeMatV5: struct '${v.name}' has a field name longer than 63 characters`);
  w.numbers(MI.UINT32, 4, [MX.STRUCT, 0]);
  w.numbers(MI.INT32, 4, [1, 1]);
  w.element(MI.INT8, new TextEncoder().encode(v.name));
  const small = new DataView(new ArrayBuffer(8)); // small data element: 4-byte payload inside the tag
  small.setUint32(0, (4 << 16) | MI.INT32, le); small.setInt32(4, flen, le);
  w.parts.push(new Uint8Array(small.buffer));
  const names = new Uint8Array(flen * fields.length);
  fields.forEach((f, i) => names.set(new TextEncoder().encode(f.name), i * flen));
  w.element(MI.INT8, names);
  for (const f of fields) w.element(MI.MATRIX, matrixPayload({ ...f, name: '' }, le));
  return w.bytes();
}

function matrixPayload(v: MatWriteVariable, le: boolean, storeAs?: 'uint8' | 'int16' | 'single'): Uint8Array {
  if (v.fields) return structPayload(v, le);
  const w = new Writer(le);
  let cls: number; let dims: number[];
  if (v.text !== undefined) { cls = MX.CHAR; dims = [1, v.text.length]; }
  else if (v.array) {
    dims = v.array.shape.length === 1 ? [v.array.shape[0]!, 1] : v.array.shape.slice();
    if (dims.length !== 2) throw new InputError(`writeMatV5: '${v.name}' must be 1-D or 2-D, got [${v.array.shape.join(', ')}]`);
    cls = v.sparse ? MX.SPARSE : (CLASS_OF[v.array.dtype]?.[0] ?? -1);
    if (cls < 0) throw new InputError(`writeMatV5: dtype ${v.array.dtype} not supported`);
  } else throw new InputError(`writeMatV5: '${v.name}' has neither array nor text`);
  const flags = cls | (v.logical ? 0x200 : 0);
  const [rows, cols] = dims as [number, number];
  let nnz = 0;
  const colMajor = v.array ? transpose2d(v.array.data, rows, cols) : null; // C rows×cols → column-major
  if (v.sparse && colMajor) for (let i = 0; i < colMajor.length; i++) if (Number(colMajor[i]) !== 0) nnz++;
  w.numbers(MI.UINT32, 4, [flags, v.sparse ? Math.max(nnz, 1) : 0]);
  w.numbers(MI.INT32, 4, dims);
  w.element(MI.INT8, new TextEncoder().encode(v.name));
  if (v.text !== undefined) {
    w.numbers(MI.UINT16, 2, Array.from(v.text, (c) => c.charCodeAt(0)));
  } else if (v.sparse) {
    const ir: number[] = []; const jc: number[] = [0]; const pr: number[] = [];
    for (let c = 0; c < cols; c++) {
      for (let r = 0; r < rows; r++) { const x = Number(colMajor![c * rows + r]); if (x !== 0) { ir.push(r); pr.push(x); } }
      jc.push(ir.length);
    }
    w.numbers(MI.INT32, 4, ir); w.numbers(MI.INT32, 4, jc);
    if (v.logical) w.numbers(MI.UINT8, 1, pr); else w.numbers(MI.DOUBLE, 8, pr);
  } else {
    let [, mi, size] = CLASS_OF[v.array!.dtype]!;
    if (storeAs === 'uint8') { mi = MI.UINT8; size = 1; } else if (storeAs === 'int16') { mi = MI.INT16; size = 2; } else if (storeAs === 'single') { mi = MI.SINGLE; size = 4; }
    w.numbers(mi, size, colMajor as ArrayLike<number>);
  }
  return w.bytes();
}

/** Serialises variables as a v5 .mat file. */
export function encodeMatV5(vars: MatWriteVariable[], opts: MatWriteOptions = {}): Uint8Array {
  const le = !opts.bigEndian;
  const header = new Uint8Array(128);
  const text = 'MATLAB 5.0 MAT-file, Platform: cmhash, Created by cmhash';
  header.set(new TextEncoder().encode(text.padEnd(116, ' ')), 0);
  header.fill(0x20, 116, 124);
  const hv = new DataView(header.buffer);
  hv.setUint16(124, 0x0100, le);
  header[126] = le ? 0x49 : 0x4d; header[127] = le ? 0x4d : 0x49; // 'IM' little-endian, 'MI' big
  const parts: Uint8Array[] = [header];
  for (const v of vars) {
    const payload = matrixPayload(v, le, opts.storeAs?.[v.name]);
    const w = new Writer(le);
    if (opts.compress) {
      const inner = new Writer(le); inner.element(MI.MATRIX, payload);
      const z = deflateSync(inner.bytes());
      const tag = new DataView(new ArrayBuffer(8));
      tag.setUint32(0, MI.COMPRESSED, le); tag.setUint32(4, z.length, le);
      parts.push(new Uint8Array(tag.buffer), z);
    } else { w.element(MI.MATRIX, payload); parts.push(w.bytes()); }
  }
  return concatArrays(parts, new Uint8Array(0));
}

export function writeMatV5(path: string, vars: MatWriteVariable[], opts: MatWriteOptions = {}): void {
  writeFileAtomic(path, encodeMatV5(vars, opts));
}
