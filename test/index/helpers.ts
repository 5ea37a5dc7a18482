// Shared generators and a brute-force k-NN reference for the index tests.
import { PackedCodes } from '../../src/codes/packed-codes.js';
import { Rng } from '../../src/util/rng.js';

export function randomCodes(rng: Rng, n: number, bits: number): PackedCodes {
  const c = PackedCodes.alloc(bits, n);
  for (let i = 0; i < n; i++) for (let j = 0; j < bits; j++) if (rng.uniform() < 0.5) c.data[i * c.stride + (j >>> 5)]! |= 1 << (j & 31);
  return c;
}

/** Codes around `centers` random centres, each bit flipped with probability `flip` (many near ties). */
export function clusteredCodes(rng: Rng, n: number, bits: number, centers: number, flip: number): PackedCodes {
  const cs = randomCodes(rng, centers, bits), c = PackedCodes.alloc(bits, n);
  for (let i = 0; i < n; i++) {
    const k = rng.int(centers);
    c.data.set(cs.data.subarray(k * c.stride, (k + 1) * c.stride), i * c.stride);
    for (let j = 0; j < bits; j++) if (rng.uniform() < flip) c.data[i * c.stride + (j >>> 5)]! ^= 1 << (j & 31);
  }
  return c;
}

export function bruteKnn(db: PackedCodes, ids: string[], q: PackedCodes, qi: number, k: number, maxD = Infinity) {
  const all = ids.map((id, i) => ({ id, i, d: q.distance(qi, db, i) })).filter((x) => x.d <= maxD);
  all.sort((a, b) => a.d - b.d || a.i - b.i);
  return all.slice(0, k);
}

/** Copies of randomly chosen codes with each bit flipped with probability `flip` (queries near the data). */
export function nearQueries(rng: Rng, db: PackedCodes, count: number, flip: number): PackedCodes {
  const q = db.select(Array.from({ length: count }, () => rng.int(db.count)));
  for (let i = 0; i < count; i++) for (let j = 0; j < q.bits; j++) if (rng.uniform() < flip) q.data[i * q.stride + (j >>> 5)]! ^= 1 << (j & 31);
  return q;
}
