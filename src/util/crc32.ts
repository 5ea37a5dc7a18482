// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320) — zlib's crc32 is not in every Node 20.
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

/** CRC-32 of bytes; pass a previous result as `prev` to continue over concatenated chunks. */
export function crc32(bytes: Uint8Array, prev = 0): number {
  const t = (table ??= makeTable());
  let c = (prev ^ 0xffffffff) >>> 0;
  for (let i = 0; i < bytes.length; i++) c = t[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
