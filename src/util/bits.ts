// Bit helpers shared by the portable kernels (tensor/backend-js.ts), packed codes, the multi-index
// and label relevance. Plain functions on 32-bit words, so every layer can use them.

/** Number of set bits of the low 32 bits of `x`. */
export function popcount32(x: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
}

/** Substring value of `len` (<= 32) bits starting at bit `off` of the code at data[base..]. */
export function extractBits(data: Uint32Array, base: number, off: number, len: number): number {
  const wi = off >>> 5, sh = off & 31;
  let v = data[base + wi]! >>> sh;
  if (sh + len > 32) v |= data[base + wi + 1]! << (32 - sh);
  return len === 32 ? v >>> 0 : (v & ((1 << len) - 1)) >>> 0;
}
