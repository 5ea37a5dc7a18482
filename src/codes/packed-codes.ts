// Packed binary codes: `count` codes of `bits` bits (a multiple of 8, 8..1024), each stored in
// words64 = ceil(bits/64) little-endian 64-bit words, exposed as a Uint32Array (2 uint32 per word).
//
// Bit order: bit j of a code (j = 0 .. bits-1, the j-th column of the ±1 matrix) is bit (j mod 64)
// of 64-bit word floor(j/64); in the Uint32Array view that is bit (j mod 32) of uint32 floor(j/32).
// A set bit means +1, a clear bit −1. Padding bits past `bits` are always 0, so XOR+popcount over
// whole words is the Hamming distance. sign(0) is +1 (the same convention as the tensor `sign` op).
import { endianness } from 'node:os';
import { InputError } from '../util/errors.js';
import { popcount32 } from '../util/bits.js';
import { readCodeFile, writeCodeFile } from './code-file.js';

if (endianness() !== 'LE') throw new Error('cmhash packed codes assume a little-endian host');

export const MIN_BITS = 8;
export const MAX_BITS = 1024;

/** Throws InputError unless `bits` is a multiple of 8 in [8, 1024] (the one rule for code lengths). */
export function validateBits(bits: number, what = 'bits', given: string = String(bits)): void {
  if (!Number.isInteger(bits) || bits < MIN_BITS || bits > MAX_BITS || bits % 8 !== 0) {
    throw new InputError(`${what}: expected a multiple of 8 from ${MIN_BITS} to ${MAX_BITS}, got ${given}`);
  }
}

/** uint32 words per code for a bit width (always even: whole 64-bit words). */
export function strideFor(bits: number): number { return 2 * Math.ceil(bits / 64); }

type Rows = readonly ArrayLike<number>[];

export class PackedCodes {
  /** 64-bit words per code. */
  readonly words64: number;
  /** uint32 entries per code (2 · words64). */
  readonly stride: number;

  constructor(readonly bits: number, readonly count: number, readonly data: Uint32Array) {
    validateBits(bits);
    if (!Number.isInteger(count) || count < 0) throw new InputError(`PackedCodes: count must be a non-negative integer, got ${count}`);
    this.words64 = Math.ceil(bits / 64);
    this.stride = 2 * this.words64;
    if (data.length !== count * this.stride) {
      throw new InputError(`PackedCodes: ${count} codes of ${bits} bits need ${count * this.stride} uint32 words, got ${data.length}`);
    }
  }

  /** All-zero (all −1) codes. */
  static alloc(bits: number, count: number): PackedCodes {
    validateBits(bits);
    return new PackedCodes(bits, count, new Uint32Array(count * strideFor(bits)));
  }

  /** From a ±1 matrix (row-major `count`×`bits`, or an array of rows). Any other value is an error. */
  static fromSigns(values: ArrayLike<number> | Rows, count?: number, bits?: number): PackedCodes {
    return packWith(values, count, bits, 'fromSigns', (v) => {
      if (v === 1) return 1; if (v === -1) return 0; return -1;
    });
  }

  /** From a 0/1 matrix (1 ↔ +1). Any other value is an error. */
  static fromBinary(values: ArrayLike<number> | Rows, count?: number, bits?: number): PackedCodes {
    return packWith(values, count, bits, 'fromBinary', (v) => {
      if (v === 1) return 1; if (v === 0) return 0; return -1;
    });
  }

  /** sign() of real-valued outputs: v >= 0 (including 0 and −0) → +1, v < 0 → −1; NaN is an error. */
  static fromReal(values: ArrayLike<number> | Rows, count?: number, bits?: number): PackedCodes {
    return packWith(values, count, bits, 'fromReal', (v) => (v >= 0 ? 1 : v < 0 ? 0 : -1));
  }

  /** The uint32 words of code i (a view, not a copy). */
  code(i: number): Uint32Array {
    this.checkIndex(i);
    return this.data.subarray(i * this.stride, (i + 1) * this.stride);
  }

  /** Bit j of code i as 0/1. */
  bit(i: number, j: number): 0 | 1 {
    this.checkIndex(i);
    if (j < 0 || j >= this.bits) throw new InputError(`PackedCodes.bit: bit ${j} outside 0..${this.bits - 1}`);
    return ((this.data[i * this.stride + (j >>> 5)]! >>> (j & 31)) & 1) as 0 | 1;
  }

  /** Row-major count×bits matrix of ±1. */
  toSigns(): Float32Array {
    const out = new Float32Array(this.count * this.bits);
    for (let i = 0; i < this.count; i++) {
      const o = i * this.stride;
      for (let j = 0; j < this.bits; j++) out[i * this.bits + j] = (this.data[o + (j >>> 5)]! >>> (j & 31)) & 1 ? 1 : -1;
    }
    return out;
  }

  /** Row-major count×bits matrix of 0/1. */
  toBinary(): Uint8Array {
    const out = new Uint8Array(this.count * this.bits);
    for (let i = 0; i < this.count; i++) {
      const o = i * this.stride;
      for (let j = 0; j < this.bits; j++) out[i * this.bits + j] = (this.data[o + (j >>> 5)]! >>> (j & 31)) & 1;
    }
    return out;
  }

  /** Hamming distance between code i of this set and code j of `other` (same width). */
  distance(i: number, other: PackedCodes, j: number): number {
    if (other.bits !== this.bits) throw new InputError(`PackedCodes.distance: ${this.bits}-bit vs ${other.bits}-bit codes`);
    this.checkIndex(i); other.checkIndex(j);
    return hammingWords(this.data, i * this.stride, other.data, j * other.stride, this.stride);
  }

  /** A copy holding codes [start, end). */
  slice(start: number, end = this.count): PackedCodes {
    if (start < 0 || end > this.count || start > end) throw new InputError(`PackedCodes.slice: [${start}, ${end}) outside 0..${this.count}`);
    return new PackedCodes(this.bits, end - start, this.data.slice(start * this.stride, end * this.stride));
  }

  /** A copy holding the codes at the given positions, in that order. */
  select(indices: ArrayLike<number>): PackedCodes {
    const out = PackedCodes.alloc(this.bits, indices.length);
    for (let r = 0; r < indices.length; r++) {
      const i = indices[r]!;
      this.checkIndex(i);
      out.data.set(this.data.subarray(i * this.stride, (i + 1) * this.stride), r * this.stride);
    }
    return out;
  }

  /** Codes of several sets of the same width, back to back. */
  static concat(list: readonly PackedCodes[]): PackedCodes {
    if (list.length === 0) throw new InputError('PackedCodes.concat: empty list');
    const bits = list[0]!.bits;
    let total = 0;
    for (const c of list) {
      if (c.bits !== bits) throw new InputError(`PackedCodes.concat: ${bits}-bit vs ${c.bits}-bit codes`);
      total += c.count;
    }
    const out = PackedCodes.alloc(bits, total);
    let o = 0;
    for (const c of list) { out.data.set(c.data, o); o += c.data.length; }
    return out;
  }

  equals(other: PackedCodes): boolean {
    if (other.bits !== this.bits || other.count !== this.count) return false;
    for (let i = 0; i < this.data.length; i++) if (this.data[i] !== other.data[i]) return false;
    return true;
  }

  private checkIndex(i: number): void {
    if (!Number.isInteger(i) || i < 0 || i >= this.count) throw new InputError(`PackedCodes: code index ${i} outside 0..${this.count - 1}`);
  }
}

/** Hamming distance between `stride` uint32 words of a (from ao) and b (from bo). */
export function hammingWords(a: Uint32Array, ao: number, b: Uint32Array, bo: number, stride: number): number {
  let d = 0;
  for (let w = 0; w < stride; w++) d += popcount32(a[ao + w]! ^ b[bo + w]!);
  return d;
}

/** Hamming distance between two single codes given as uint32 words. */
export function hammingDistance(a: Uint32Array, b: Uint32Array): number {
  if (a.length !== b.length) throw new InputError(`hammingDistance: codes of ${a.length} vs ${b.length} uint32 words`);
  return hammingWords(a, 0, b, 0, a.length);
}

function packWith(values: ArrayLike<number> | Rows, count: number | undefined, bits: number | undefined,
  op: string, toBit: (v: number) => number): PackedCodes {
  let get: (i: number, j: number) => number;
  if (isRows(values)) {
    const rows = values;
    count ??= rows.length;
    bits ??= rows.length > 0 ? rows[0]!.length : 0;
    if (rows.length !== count) throw new InputError(`PackedCodes.${op}: expected ${count} rows, got ${rows.length}`);
    for (let i = 0; i < rows.length; i++) {
      if (rows[i]!.length !== bits) throw new InputError(`PackedCodes.${op}: row ${i} has ${rows[i]!.length} values, expected ${bits}`);
    }
    get = (i, j) => rows[i]![j]!;
  } else {
    const flat = values;
    if (count === undefined || bits === undefined) throw new InputError(`PackedCodes.${op}: a flat matrix needs count and bits`);
    if (flat.length !== count * bits) throw new InputError(`PackedCodes.${op}: expected ${count}×${bits} = ${count * bits} values, got ${flat.length}`);
    const b = bits;
    get = (i, j) => flat[i * b + j]!;
  }
  validateBits(bits, `PackedCodes.${op}: code width`);
  const out = PackedCodes.alloc(bits, count);
  const s = out.stride;
  for (let i = 0; i < count; i++) {
    for (let j = 0; j < bits; j++) {
      const v = get(i, j);
      const bit = toBit(v);
      if (bit < 0) throw new InputError(`PackedCodes.${op}: value at [${i}, ${j}] is ${v}, not allowed here`);
      if (bit) out.data[i * s + (j >>> 5)]! |= 1 << (j & 31);
    }
  }
  return out;
}

function isRows(v: ArrayLike<number> | Rows): v is Rows {
  return Array.isArray(v) && (v.length === 0 || typeof v[0] !== 'number');
}

/** Writes codes to a compact binary file atomically (magic CMHC, version, bits, count, payload, CRC32). */
export function writeCodesFile(path: string, codes: PackedCodes): void {
  writeCodeFile(path, { magic: 'CMHC', bits: codes.bits, codes: codes.data, count: codes.count });
}

/** Reads a file written by writeCodesFile; truncation, bad magic or checksum → CorruptDataError. */
export function readCodesFile(path: string): PackedCodes {
  const f = readCodeFile(path, 'CMHC');
  return new PackedCodes(f.bits, f.count, f.codes);
}
