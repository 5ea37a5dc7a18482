// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320). zlib's native crc32 (Node ≥ 20.15) when
// the running Node has it — checkpoints and code files are checked on every load, and the table
// loop below took ~1 ms per MB, the largest part of loading a model; the loop otherwise.
import * as zlib from 'node:zlib';

let table: Uint32Array | null = null;

function makeTable(): Uint32Array {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
}

/** The portable CRC-32 (same results as zlib's). */
export function crc32Portable(bytes: Uint8Array, prev = 0): number {
  const t = (table ??= makeTable());
  let c = (prev ^ 0xffffffff) >>> 0;
  for (let i = 0; i < bytes.length; i++) c = t[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const native = (zlib as unknown as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

/** CRC-32 of bytes; pass a previous result as `prev` to continue over concatenated chunks. */
export function crc32(bytes: Uint8Array, prev = 0): number {
  if (bytes.length === 0) return prev >>> 0; // zlib's gives 0 for an empty view of an empty ArrayBuffer
  return native ? native(bytes, prev) >>> 0 : crc32Portable(bytes, prev);
}
