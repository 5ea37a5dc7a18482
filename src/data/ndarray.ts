// A loaded n-dimensional array as every loader returns it (.npy, .mat, .h5), before it becomes part
// of a Dataset. Data is always C order (row-major, last index fastest) in native endianness, so the
// dataset builder never has to know which file format it came from.
import { InputError } from '../util/errors.js';

export type DType = 'float32' | 'float64' | 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'int64' | 'uint64' | 'bool';
export type TypedData = Float32Array | Float64Array | Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | BigInt64Array | BigUint64Array;

export interface NdArray {
  shape: number[];
  dtype: DType;
  /** C-order values; bool is stored as Uint8Array of 0/1. */
  data: TypedData;
}

export const DTYPE_BYTES: Record<DType, number> = {
  float32: 4, float64: 8, int8: 1, uint8: 1, int16: 2, uint16: 2, int32: 4, uint32: 4, int64: 8, uint64: 8, bool: 1,
};

/** Largest element count we are willing to allocate for one array (2^31 - 1: typed array limit in practice). */
export const MAX_ELEMENTS = 2 ** 31 - 1;

/** Product of dims, with a check that each is a sane non-negative integer and the total is allocatable. */
export function elementCount(shape: readonly number[], where: string): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) throw new InputError(`${where}: invalid dimension ${d} in shape [${shape.join(', ')}]`);
    n *= d;
  }
  if (n > MAX_ELEMENTS) throw new InputError(`${where}: shape [${shape.join(', ')}] claims ${n} elements, more than the ${MAX_ELEMENTS} this loader can hold`);
  return n;
}

/** Value i as a JS number (bigints converted; values beyond 2^53 lose precision, as they would in float64). */
export function valueAt(a: NdArray, i: number): number {
  const v = a.data[i]!;
  return typeof v === 'bigint' ? Number(v) : v;
}

/**
 * Reads a 2-D array as a row-major n×d float32 matrix. A 1-D array becomes n×1.
 * `where` names the file and variable for error messages.
 */
export function toFloat32Matrix(a: NdArray, where: string): { rows: number; cols: number; data: Float32Array } {
  if (a.shape.length > 2 || a.shape.length === 0) {
    throw new InputError(`${where}: expected a 2-D matrix (items × features), found shape [${a.shape.join(', ')}] (${a.dtype})`);
  }
  const rows = a.shape[0]!; const cols = a.shape.length === 2 ? a.shape[1]! : 1;
  if (a.data instanceof Float32Array) return { rows, cols, data: a.data };
  const out = new Float32Array(rows * cols);
  if (a.data instanceof BigInt64Array || a.data instanceof BigUint64Array) for (let i = 0; i < out.length; i++) out[i] = Number(a.data[i]!);
  else out.set(a.data as ArrayLike<number>);
  return { rows, cols, data: out };
}

/** Transposes a row-major rows×cols buffer (used for MATLAB's column-major storage). */
export function transpose2d<T extends TypedData>(src: T, rows: number, cols: number): T {
  const Ctor = src.constructor as new (n: number) => T;
  const out = new Ctor(rows * cols);
  // Blocked so both sides stay in cache for large matrices.
  const B = 64;
  for (let r0 = 0; r0 < rows; r0 += B) {
    const r1 = Math.min(rows, r0 + B);
    for (let c0 = 0; c0 < cols; c0 += B) {
      const c1 = Math.min(cols, c0 + B);
      for (let r = r0; r < r1; r++) for (let c = c0; c < c1; c++) (out as any)[c * rows + r] = (src as any)[r * cols + c];
    }
  }
  return out;
}

/**
 * Converts column-major (Fortran/MATLAB) data of the given shape to C order, any rank.
 */
export function fortranToC<T extends TypedData>(src: T, shape: readonly number[]): T {
  if (shape.length <= 1) return src;
  if (shape.length === 2) return transpose2d(src, shape[1]!, shape[0]!);
  const n = src.length;
  const Ctor = src.constructor as new (n: number) => T;
  const out = new Ctor(n);
  const rank = shape.length;
  const fStride = new Array<number>(rank); let s = 1;
  for (let k = 0; k < rank; k++) { fStride[k] = s; s *= shape[k]!; }
  const idx = new Array<number>(rank).fill(0);
  for (let i = 0; i < n; i++) { // i walks C order; idx is its multi-index
    let f = 0; for (let k = 0; k < rank; k++) f += idx[k]! * fStride[k]!;
    (out as any)[i] = (src as any)[f];
    for (let k = rank - 1; k >= 0; k--) { if (++idx[k]! < shape[k]!) break; idx[k] = 0; }
  }
  return out;
}
