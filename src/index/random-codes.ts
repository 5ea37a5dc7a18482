// Uniformly random packed codes (benchmarks and tests): one 32-bit draw per used word, padding bits zero.
import { PackedCodes } from '../codes/packed-codes.js';
import type { Rng } from '../util/rng.js';

export function randomCodes(rng: Rng, n: number, bits: number): PackedCodes {
  const codes = PackedCodes.alloc(bits, n);
  const d = codes.data, s = codes.stride, full = bits >>> 5, rest = bits & 31;
  for (let i = 0; i < n; i++) {
    const o = i * s;
    for (let w = 0; w < full; w++) d[o + w] = rng.nextU32();
    if (rest) d[o + full] = rng.nextU32() & ((1 << rest) - 1);
  }
  return codes;
}
