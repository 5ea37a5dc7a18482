// The portable backend: TypeScript kernels, always available (selected when the addon cannot load
// or with CMHASH_BACKEND=js). Tests check it, like the native one, against the plain references in
// test/kernels/reference.ts.
import type { Backend } from './backend.js';

export class JsBackend implements Backend {
  readonly name = 'js' as const;
  readonly variant = 'typescript';

  sgemm(transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number,
    a: Float32Array, lda: number, b: Float32Array, ldb: number, beta: number, c: Float32Array, ldc: number): void {
    checkGemmArgs(transA, transB, m, n, k, alpha, a, lda, b, ldb, c, ldc);
    for (let i = 0; i < m; i++) {
      const ci = i * ldc;
      if (beta === 0) c.fill(0, ci, ci + n);
      else if (beta !== 1) for (let j = 0; j < n; j++) c[ci + j]! *= beta;
    }
    if (alpha === 0 || k === 0 || m === 0 || n === 0) return;
    // Blocked over k; op(A) and op(B) are packed into 4-wide panels (all transposes handled by the
    // packing), and a 4×4 tile is accumulated in 16 locals (V8 keeps them in registers) — about
    // 8× faster than a plain triple loop.
    const mp = (m + 3) & ~3, np = (n + 3) & ~3;
    const kcMax = Math.min(KC, k);
    const ap = scratch(0, mp * kcMax), bp = scratch(1, np * kcMax);
    for (let p0 = 0; p0 < k; p0 += KC) {
      const kc = Math.min(KC, k - p0);
      packPanels(transA, a, lda, m, p0, kc, ap);
      packPanels(!transB, b, ldb, n, p0, kc, bp);
      for (let i = 0; i < m; i += 4) {
        const mr = Math.min(4, m - i);
        for (let j = 0; j < n; j += 4) {
          let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
          let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
          let ao = i * kc, bo = j * kc;
          for (let p = 0; p < kc; p++, ao += 4, bo += 4) {
            const a0 = ap[ao]!, a1 = ap[ao + 1]!, a2 = ap[ao + 2]!, a3 = ap[ao + 3]!;
            const b0 = bp[bo]!, b1 = bp[bo + 1]!, b2 = bp[bo + 2]!, b3 = bp[bo + 3]!;
            c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
            c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
            c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
            c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
          }
          const nr = Math.min(4, n - j);
          if (mr === 4 && nr === 4) {
            let o = i * ldc + j;
            c[o] += alpha * c00; c[o + 1] += alpha * c01; c[o + 2] += alpha * c02; c[o + 3] += alpha * c03; o += ldc;
            c[o] += alpha * c10; c[o + 1] += alpha * c11; c[o + 2] += alpha * c12; c[o + 3] += alpha * c13; o += ldc;
            c[o] += alpha * c20; c[o + 1] += alpha * c21; c[o + 2] += alpha * c22; c[o + 3] += alpha * c23; o += ldc;
            c[o] += alpha * c30; c[o + 1] += alpha * c31; c[o + 2] += alpha * c32; c[o + 3] += alpha * c33;
          } else {
            const t = [c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33];
            for (let r = 0; r < mr; r++) for (let q = 0; q < nr; q++) c[(i + r) * ldc + j + q] += alpha * t[r * 4 + q]!;
          }
        }
      }
    }
  }

  setThreads(_n: number): void { /* single-threaded */ }
  getThreads(): number { return 1; }

  hammingDistances(query: Uint32Array, db: Uint32Array, n: number, words64: number, out: Uint16Array): void {
    const w = 2 * words64;
    for (let i = 0; i < n; i++) {
      let d = 0;
      const o = i * w;
      for (let j = 0; j < w; j++) d += popcount32(query[j]! ^ db[o + j]!);
      out[i] = d;
    }
  }

  hammingKnn(queries: Uint32Array, nq: number, db: Uint32Array, n: number, words64: number, k: number,
    outIds: Int32Array, outDist: Int32Array): void {
    if (!(k >= 1) || !Number.isInteger(k)) throw new RangeError(`k must be an integer >= 1, got ${k}`);
    const w = 2 * words64;
    if (words64 === 1 && k <= 64) {
      for (let q = 0; q < nq; q++) knn64Fused(queries[2 * q]!, queries[2 * q + 1]!, db, n, k, outIds, outDist, q * k);
      return;
    }
    const maxD = 64 * words64;
    const dist = new Uint16Array(n);
    const counts = new Int32Array(maxD + 2);
    for (let q = 0; q < nq; q++) {
      const query = queries.subarray(q * w, q * w + w);
      this.hammingDistances(query, db, n, words64, dist);
      // counting sort on distance, stable by position; only the first k are kept
      counts.fill(0);
      for (let i = 0; i < n; i++) counts[dist[i]! + 1]!++;
      let cutoff = 0, acc = 0;
      while (cutoff <= maxD && acc + counts[cutoff + 1]! < k) { acc += counts[cutoff + 1]!; cutoff++; }
      for (let d = 1; d <= maxD + 1; d++) counts[d]! += counts[d - 1]!;
      const base = q * k;
      outIds.fill(-1, base, base + k); outDist.fill(-1, base, base + k);
      for (let i = 0; i < n; i++) {
        const d = dist[i]!;
        if (d > cutoff) continue;
        const slot = counts[d]!;
        if (slot < k) { outIds[base + slot] = i; outDist[base + slot] = d; }
        counts[d]!++;
      }
    }
  }

  hammingRange(query: Uint32Array, db: Uint32Array, n: number, words64: number, r: number): { ids: Int32Array; dist: Int32Array } {
    const dist = new Uint16Array(n);
    this.hammingDistances(query, db, n, words64, dist);
    let cnt = 0;
    for (let i = 0; i < n; i++) if (dist[i]! <= r) cnt++;
    const ids = new Int32Array(cnt), dd = new Int32Array(cnt);
    for (let i = 0, j = 0; i < n; i++) if (dist[i]! <= r) { ids[j] = i; dd[j++] = dist[i]!; }
    return { ids, dist: dd };
  }
}

/**
 * 64-bit codes, small k: one pass with a bounded sorted top-k; a code enters only with a distance
 * strictly below the current k-th (positions arrive in order, so ties keep the earlier one).
 */
function knn64Fused(q0: number, q1: number, db: Uint32Array, n: number, k: number, ids: Int32Array, dist: Int32Array, base: number): void {
  let count = 0, bound = 65;
  for (let i = 0; i < n; i++) {
    const d = popcount32(db[2 * i]! ^ q0) + popcount32(db[2 * i + 1]! ^ q1);
    if (d >= bound) continue;
    let pos = count < k ? count++ : k - 1;
    while (pos > 0 && dist[base + pos - 1]! > d) { dist[base + pos] = dist[base + pos - 1]!; ids[base + pos] = ids[base + pos - 1]!; pos--; }
    dist[base + pos] = d; ids[base + pos] = i;
    if (count === k) bound = dist[base + k - 1]!;
  }
  for (let s = count; s < k; s++) { ids[base + s] = -1; dist[base + s] = -1; }
}

const KC = 256;
const scratchBufs: Float32Array[] = [new Float32Array(0), new Float32Array(0)];
function scratch(which: number, size: number): Float32Array {
  if (scratchBufs[which]!.length < size) scratchBufs[which] = new Float32Array(size);
  return scratchBufs[which]!;
}

/**
 * Packs rows [0, rows) × k-columns [p0, p0+kc) of a logical matrix X (X[r][p] = src[r*ld + p], or
 * src[p*ld + r] when `stored transposed`) into 4-row panels laid out [panel][p][4], zero-padded.
 * op(A) is such an X directly; op(B)ᵀ is one too (so B is packed with the flag inverted).
 */
function packPanels(transposed: boolean, src: Float32Array, ld: number, rows: number, p0: number, kc: number, out: Float32Array): void {
  for (let r0 = 0; r0 < rows; r0 += 4) {
    const base = r0 * kc;
    for (let q = 0; q < 4; q++) {
      const r = r0 + q;
      if (r >= rows) { for (let p = 0; p < kc; p++) out[base + p * 4 + q] = 0; continue; }
      if (transposed) for (let p = 0; p < kc; p++) out[base + p * 4 + q] = src[(p0 + p) * ld + r]!;
      else { const o = r * ld + p0; for (let p = 0; p < kc; p++) out[base + p * 4 + q] = src[o + p]!; }
    }
  }
}

/** Throws a RangeError when an operand is too small for its shape and leading dimension. */
export function checkGemmArgs(transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number,
  a: Float32Array, lda: number, b: Float32Array, ldb: number, c: Float32Array, ldc: number): void {
  const check = (name: string, len: number, rows: number, cols: number, ld: number) => {
    if (rows === 0 || cols === 0) return;
    if (ld < cols) throw new RangeError(`sgemm ${name}: leading dimension ${ld} < row length ${cols}`);
    const need = (rows - 1) * ld + cols;
    if (len < need) throw new RangeError(`sgemm ${name}: ${rows}x${cols} with stride ${ld} needs ${need} elements, array has ${len}`);
  };
  for (const [nm, v] of [['m', m], ['n', n], ['k', k]] as const) {
    if (!Number.isInteger(v) || v < 0) throw new RangeError(`sgemm: ${nm} must be a non-negative integer, got ${v}`);
  }
  if (k > 0 && alpha !== 0) {
    check(transA ? 'A (stored k x m)' : 'A (m x k)', a.length, transA ? k : m, transA ? m : k, lda);
    check(transB ? 'B (stored n x k)' : 'B (k x n)', b.length, transB ? n : k, transB ? k : n, ldb);
  }
  check('C (m x n)', c.length, m, n, ldc);
}

export function popcount32(x: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
}
