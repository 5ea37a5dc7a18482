// Hamming ranking: a counting sort over the c+1 possible distances, stable by database index
// (ties keep database order). O(N + c) per query, no comparison sort.
import { getBackend } from '../tensor/backends.js';
import type { PackedCodes } from '../codes/packed-codes.js';
import { InputError } from '../util/errors.js';

/** Database positions ordered by (distance, position). `dist` holds distances in 0..bits. */
export function hammingOrder(dist: Uint16Array, n: number, bits: number, out = new Int32Array(n)): Int32Array {
  const start = new Int32Array(bits + 2);
  for (let i = 0; i < n; i++) start[dist[i]! + 1]!++;
  for (let d = 1; d <= bits + 1; d++) start[d]! += start[d - 1]!;
  for (let i = 0; i < n; i++) out[start[dist[i]!]!++] = i;
  return out;
}

/** rank[i] = 0-based position of item i in the ranking (the inverse of hammingOrder). */
export function hammingRanks(dist: Uint16Array, n: number, bits: number, out = new Int32Array(n)): Int32Array {
  const start = new Int32Array(bits + 2);
  for (let i = 0; i < n; i++) start[dist[i]! + 1]!++;
  for (let d = 1; d <= bits + 1; d++) start[d]! += start[d - 1]!;
  for (let i = 0; i < n; i++) out[i] = start[dist[i]!]!++;
  return out;
}

export function checkSameWidth(queries: PackedCodes, database: PackedCodes): void {
  if (queries.bits !== database.bits) {
    throw new InputError(`codes: query codes have ${queries.bits} bits but database codes have ${database.bits}`);
  }
}

/**
 * Distances of queries [q0, q1) to the whole database, written row by row into `out`
 * ((q1-q0)·N Uint16). This is the query-block primitive every metric uses: memory is
 * block × N, never N × N. (A native kernel doing the whole block at once would save the
 * per-query call overhead; today it calls the backend's one-query kernel per row.)
 */
export function distanceBlock(queries: PackedCodes, q0: number, q1: number, database: PackedCodes, out: Uint16Array): void {
  checkSameWidth(queries, database);
  const be = getBackend(), n = database.count, s = queries.stride;
  for (let q = q0; q < q1; q++) {
    be.hammingDistances(queries.data.subarray(q * s, (q + 1) * s), database.data, n, queries.words64, out.subarray((q - q0) * n, (q - q0 + 1) * n));
  }
}
