// Codes as text: bits/8 bytes in code order (byte b holds code bits 8b..8b+7, bit 8b+i as the byte's
// bit i), each byte two lower-case hex digits — the little-endian hex dump of the packed words.
import { PackedCodes } from '../codes/packed-codes.js';
import { InputError } from '../util/errors.js';

/** Hex of code i: bits/8 bytes in code order, two lower-case digits each. */
export function codeToHex(codes: PackedCodes, i: number): string {
  const words = codes.code(i);
  let s = '';
  for (let b = 0; b < codes.bits / 8; b++) {
    const byte = (words[b >>> 2]! >>> ((b & 3) * 8)) & 0xff;
    s += byte.toString(16).padStart(2, '0');
  }
  return s;
}

/** One code from its hex form (exactly bits/4 hex digits). */
export function hexToCode(hex: string, bits: number, what = 'code'): PackedCodes {
  if (typeof hex !== 'string' || hex.length !== bits / 4 || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new InputError(`${what}: expected ${bits / 4} hex digits (a ${bits}-bit code), got ${typeof hex === 'string' ? `${hex.length} characters` : typeof hex}`);
  }
  const out = PackedCodes.alloc(bits, 1);
  for (let b = 0; b < bits / 8; b++) {
    const byte = parseInt(hex.slice(2 * b, 2 * b + 2), 16);
    out.data[b >>> 2]! |= byte << ((b & 3) * 8);
  }
  return out;
}
