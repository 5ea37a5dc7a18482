// Typed-array helpers used across layers.

type Typed = Float32Array | Uint8Array | Int32Array | Uint32Array;

/** The arrays back to back in one new array of the first one's type (an empty list needs `empty`). */
export function concatArrays<T extends Typed>(parts: readonly T[], empty?: T): T {
  const first = parts[0] ?? empty;
  if (!first) throw new RangeError('concatArrays: no arrays and no empty value to take the type from');
  const out = new (first.constructor as new (n: number) => T)(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}
