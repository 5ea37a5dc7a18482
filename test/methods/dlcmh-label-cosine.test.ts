// DLCMH's label-cosine matrix (computed once per pair of distinct label rows, then gathered) against
// the per-pair definition, with zero rows, repeated rows and different widths (zero-padded labels).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { labelCosMatrix } from '../../src/methods/dlcmh.js';
import { Rng } from '../../src/util/rng.js';

function reference(A: Uint8Array, na: number, wa: number, B: Uint8Array, nb: number, wb: number): Float32Array {
  const out = new Float32Array(na * nb);
  for (let i = 0; i < na; i++) for (let j = 0; j < nb; j++) {
    let ca = 0, cb = 0, s = 0;
    for (let k = 0; k < wa; k++) ca += A[i * wa + k]!;
    for (let k = 0; k < wb; k++) cb += B[j * wb + k]!;
    for (let k = 0; k < Math.min(wa, wb); k++) s += A[i * wa + k]! & B[j * wb + k]!;
    if (ca && cb && s) out[i * nb + j] = s / Math.sqrt(ca * cb);
  }
  return out;
}

function labels(rng: Rng, n: number, w: number, patterns: number): Uint8Array {
  // a few distinct rows (as in a class-incremental session), one of them all-zero
  const pool = Array.from({ length: patterns }, (_, p) => Uint8Array.from({ length: w }, () => (p === 0 ? 0 : rng.uniform() < 0.3 ? 1 : 0)));
  const out = new Uint8Array(n * w);
  for (let i = 0; i < n; i++) out.set(pool[rng.int(patterns)]!, i * w);
  return out;
}

test('labelCosMatrix equals the per-pair cosine bit for bit (odd sizes, zero rows, unequal widths)', () => {
  const rng = new Rng(8);
  // few distinct rows (a table of distinct pairs, gathered) and mostly distinct rows (every pair computed)
  for (const [na, wa, nb, wb, pat] of [[1, 1, 1, 1, 1], [7, 5, 3, 5, 3], [37, 10, 53, 7, 6], [120, 24, 90, 24, 40], [9, 3, 11, 6, 9], [50, 30, 60, 30, 400]] as const) {
    const A = labels(rng, na, wa, pat), B = labels(rng, nb, wb, pat);
    assert.deepEqual(Array.from(labelCosMatrix(A, na, wa, B, nb, wb)), Array.from(reference(A, na, wa, B, nb, wb)), `${na}×${wa} vs ${nb}×${wb}`);
  }
  assert.equal(labelCosMatrix(new Uint8Array(0), 0, 4, new Uint8Array(8), 2, 4).length, 0);
});
