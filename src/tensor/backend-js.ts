// The portable backend: plain TypeScript kernels, always available, the reference every other
// backend is tested against.
import type { Backend } from './backend.js';

export class JsBackend implements Backend {
  readonly name = 'js' as const;
  readonly variant = 'typescript';

  sgemm(transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number,
    a: Float32Array, lda: number, b: Float32Array, ldb: number, beta: number, c: Float32Array, ldc: number): void {
    for (let i = 0; i < m; i++) {
      const ci = i * ldc;
      if (beta === 0) c.fill(0, ci, ci + n);
      else if (beta !== 1) for (let j = 0; j < n; j++) c[ci + j]! *= beta;
    }
    if (alpha === 0 || k === 0) return;
    const row = new Float32Array(n);
    for (let i = 0; i < m; i++) {
      row.fill(0);
      for (let p = 0; p < k; p++) {
        const av = transA ? a[p * lda + i]! : a[i * lda + p]!;
        if (av === 0) continue;
        if (!transB) {
          const bo = p * ldb;
          for (let j = 0; j < n; j++) row[j]! += av * b[bo + j]!;
        } else {
          for (let j = 0; j < n; j++) row[j]! += av * b[j * ldb + p]!;
        }
      }
      const ci = i * ldc;
      for (let j = 0; j < n; j++) c[ci + j]! += alpha * row[j]!;
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
    const w = 2 * words64;
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

export function popcount32(x: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
}
