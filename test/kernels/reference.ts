// Plain, obviously-correct reference kernels (float64 triple loop, brute-force Hamming with a full
// sort) that every backend and every native variant is tested against.

export function refSgemm(transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number,
  a: Float32Array, lda: number, b: Float32Array, ldb: number, beta: number, c: Float64Array, ldc: number,
  absScale?: Float64Array): void {
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0, abs = 0;
      for (let p = 0; p < k; p++) {
        const av = transA ? a[p * lda + i]! : a[i * lda + p]!;
        const bv = transB ? b[j * ldb + p]! : b[p * ldb + j]!;
        s += av * bv;
        abs += Math.abs(av * bv);
      }
      const old = c[i * ldc + j]!;
      c[i * ldc + j] = alpha * s + (beta === 0 ? 0 : beta * old);
      if (absScale) absScale[i * ldc + j] = Math.abs(alpha) * abs + (beta === 0 ? 0 : Math.abs(beta * old));
    }
  }
}

function popcount(x: number): number {
  let c = 0;
  for (let v = x >>> 0; v !== 0; v >>>= 1) c += v & 1;
  return c;
}

export function refDistance(q: Uint32Array, qOff: number, db: Uint32Array, i: number, words64: number): number {
  let d = 0;
  for (let w = 0; w < 2 * words64; w++) d += popcount(q[qOff + w]! ^ db[i * 2 * words64 + w]!);
  return d;
}

/** k nearest by (distance, position), padded with -1 when n < k. */
export function refKnn(q: Uint32Array, qOff: number, db: Uint32Array, n: number, words64: number, k: number): { ids: number[]; dist: number[] } {
  const all = Array.from({ length: n }, (_, i) => ({ i, d: refDistance(q, qOff, db, i, words64) }));
  all.sort((x, y) => x.d - y.d || x.i - y.i);
  const ids: number[] = [], dist: number[] = [];
  for (let s = 0; s < k; s++) {
    ids.push(s < n ? all[s]!.i : -1);
    dist.push(s < n ? all[s]!.d : -1);
  }
  return { ids, dist };
}

export function refRange(q: Uint32Array, db: Uint32Array, n: number, words64: number, r: number): { ids: number[]; dist: number[] } {
  const ids: number[] = [], dist: number[] = [];
  for (let i = 0; i < n; i++) {
    const d = refDistance(q, 0, db, i, words64);
    if (d <= r) { ids.push(i); dist.push(d); }
  }
  return { ids, dist };
}
