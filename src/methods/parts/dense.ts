// Dense float64 linear algebra for the closed-form baselines (methods/linear.ts, methods/cca.ts).
// Matrices are row-major Float64Arrays. Products over the n training rows (XᵀX, XᵀY, XᵀL) run
// through the backend's sgemm one block of rows at a time and are summed in float64, so the
// float32 rounding is that of a sum over one block (≤ 1,024 terms), not over n; everything after
// (Cholesky, triangular solves, the symmetric eigen-solver, orthonormalisation) is float64 TypeScript.
// The eigen-solver is Householder tridiagonalisation + implicit QL (EISPACK tred2/tql2, as in JAMA),
// run on the transpose of JAMA's V so that every inner loop walks contiguous memory; it costs about
// 9·d³ flops. When only the top k eigenpairs are needed (CCA), symmetricEigenTop skips the explicit
// Q and the vector updates of QL: (4/3)·d³ + O(d²·k).
import { getBackend } from '../../tensor/backends.js';
import type { Rng } from '../../util/rng.js';

/** Rows per sgemm block in crossProduct. */
const BLOCK_ROWS = 1024;

/**
 * Aᵀ·B over `rows` rows: A is rows × da (float32), B is rows × db (float32 or 0/1 labels); the
 * result is da × db in float64. Each block of rows is one sgemm; the blocks are summed in float64.
 */
export function crossProduct(a: Float32Array, da: number, b: Float32Array | Uint8Array, db: number, rows: number): Float64Array {
  const out = new Float64Array(da * db);
  if (rows === 0 || da === 0 || db === 0) return out;
  const tmp = new Float32Array(da * db);
  const be = getBackend();
  const bBuf = b instanceof Float32Array ? null : new Float32Array(Math.min(rows, BLOCK_ROWS) * db);
  for (let r0 = 0; r0 < rows; r0 += BLOCK_ROWS) {
    const m = Math.min(BLOCK_ROWS, rows - r0);
    const aBlock = a.subarray(r0 * da, (r0 + m) * da);
    let bBlock: Float32Array;
    if (bBuf) { for (let i = 0; i < m * db; i++) bBuf[i] = b[r0 * db + i]!; bBlock = bBuf.subarray(0, m * db); }
    else bBlock = (b as Float32Array).subarray(r0 * db, (r0 + m) * db);
    be.sgemm(true, false, da, db, m, 1, aBlock, da, bBlock, db, 0, tmp, db);
    for (let i = 0; i < out.length; i++) out[i]! += tmp[i]!;
  }
  return out;
}

/** X·W for float32 X (rows × d) and W (d × k): the float32 product an encoder computes (sgemm). */
export function projectRows(x: Float32Array, rows: number, d: number, w: Float32Array, k: number): Float32Array {
  const out = new Float32Array(rows * k);
  if (rows > 0 && k > 0) getBackend().sgemm(false, false, rows, k, d, 1, x, d, w, k, 0, out, k);
  return out;
}

/** Column means of a rows × d float32 matrix, summed in float64. */
export function columnMeans(x: Float32Array | Uint8Array, rows: number, d: number): Float64Array {
  const m = new Float64Array(d);
  for (let r = 0; r < rows; r++) for (let j = 0; j < d; j++) m[j]! += x[r * d + j]!;
  if (rows > 0) for (let j = 0; j < d; j++) m[j]! /= rows;
  return m;
}

/** (m × k)·(k × n). Four rows of B per pass over an output row (fewer loads and stores per multiply-add). */
export function matmul(a: ArrayLike<number>, m: number, k: number, b: ArrayLike<number>, n: number): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    const o = i * n, ai = i * k;
    let p = 0;
    for (; p + 4 <= k; p += 4) {
      const s0 = a[ai + p]!, s1 = a[ai + p + 1]!, s2 = a[ai + p + 2]!, s3 = a[ai + p + 3]!;
      const b0 = p * n, b1 = b0 + n, b2 = b1 + n, b3 = b2 + n;
      for (let j = 0; j < n; j++) out[o + j]! += s0 * b[b0 + j]! + s1 * b[b1 + j]! + s2 * b[b2 + j]! + s3 * b[b3 + j]!;
    }
    for (; p < k; p++) {
      const s0 = a[ai + p]!, b0 = p * n;
      for (let j = 0; j < n; j++) out[o + j]! += s0 * b[b0 + j]!;
    }
  }
  return out;
}

/**
 * M·Mᵀ (rows × rows, symmetric) of a row-major rows × cols matrix, by dot products of its rows; four
 * rows i at a time share each load of row j (a quarter of the memory traffic).
 */
export function rowGram(mat: Float64Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * rows);
  const put = (i: number, j: number, v: number) => { out[i * rows + j] = v; out[j * rows + i] = v; };
  let i = 0;
  for (; i + 4 <= rows; i += 4) {
    const r0 = i * cols, r1 = r0 + cols, r2 = r1 + cols, r3 = r2 + cols;
    for (let j = 0; j <= i + 3; j++) {
      const rj = j * cols;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let c = 0; c < cols; c++) {
        const y = mat[rj + c]!;
        s0 += mat[r0 + c]! * y; s1 += mat[r1 + c]! * y; s2 += mat[r2 + c]! * y; s3 += mat[r3 + c]! * y;
      }
      if (j <= i) put(i, j, s0);
      if (j <= i + 1) put(i + 1, j, s1);
      if (j <= i + 2) put(i + 2, j, s2);
      put(i + 3, j, s3);
    }
  }
  for (; i < rows; i++) for (let j = 0; j <= i; j++) put(i, j, dot(mat, i * cols, mat, j * cols, cols));
  return out;
}

/** Aᵀ·B with A stored k × m and B stored k × n (result m × n). */
export function matmulTN(a: ArrayLike<number>, k: number, m: number, b: ArrayLike<number>, n: number): Float64Array {
  const out = new Float64Array(m * n);
  for (let p = 0; p < k; p++) {
    const ao = p * m, bo = p * n;
    for (let i = 0; i < m; i++) {
      const s = a[ao + i]!;
      if (s === 0) continue;
      const o = i * n;
      for (let j = 0; j < n; j++) out[o + j]! += s * b[bo + j]!;
    }
  }
  return out;
}

export function transpose(a: ArrayLike<number>, m: number, n: number): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) out[j * m + i] = a[i * n + j]!;
  return out;
}

/** Σ_{p<len} x[xo+p]·y[yo+p] with four partial sums (one dependent chain of adds would bound the loop by the add latency). */
function dot(x: Float64Array, xo: number, y: Float64Array, yo: number, len: number): number {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0, p = 0;
  for (; p + 4 <= len; p += 4) {
    s0 += x[xo + p]! * y[yo + p]!; s1 += x[xo + p + 1]! * y[yo + p + 1]!;
    s2 += x[xo + p + 2]! * y[yo + p + 2]!; s3 += x[xo + p + 3]! * y[yo + p + 3]!;
  }
  for (; p < len; p++) s0 += x[xo + p]! * y[yo + p]!;
  return (s0 + s1) + (s2 + s3);
}

/** Columns per block of the blocked Cholesky (the panel of a block stays in cache during the trailing update). */
const CHOL_BLOCK = 64;

/**
 * The lower Cholesky factor L (row-major d × d, zeros above the diagonal) of a symmetric positive
 * definite matrix, or null when a pivot is not positive (the matrix is not positive definite).
 * Right-looking by blocks of 64 columns: factor the diagonal block, solve the panel below it, update
 * the trailing lower triangle with the panel — the same flops as the unblocked loop (d³/3), but the
 * trailing matrix is streamed d/64 times instead of the whole factor once per row (d = 4,096:
 * ~4 GB of memory traffic instead of ~90 GB).
 */
export function cholesky(a: ArrayLike<number>, d: number): Float64Array | null {
  const L = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let j = 0; j <= i; j++) L[i * d + j] = a[i * d + j]!;
  for (let k0 = 0; k0 < d; k0 += CHOL_BLOCK) {
    const k1 = Math.min(d, k0 + CHOL_BLOCK);
    // diagonal block and panel below it: L[i][j] = (A[i][j] − Σ_{k0 ≤ p < j} L[i][p]·L[j][p]) / L[j][j]
    for (let i = k0; i < d; i++) {
      const li = i * d, jEnd = Math.min(i, k1 - 1);
      for (let j = k0; j <= jEnd; j++) {
        const lj = j * d;
        const s = L[li + j]! - dot(L, li + k0, L, lj + k0, j - k0);
        if (j === i) {
          if (!(s > 0) || !Number.isFinite(s)) return null;
          L[li + i] = Math.sqrt(s);
        } else L[li + j] = s / L[lj + j]!;
      }
    }
    // trailing update of the lower triangle: L[i][j] −= Σ_{k0 ≤ p < k1} L[i][p]·L[j][p], i ≥ j ≥ k1
    const w = k1 - k0;
    for (let i = k1; i < d; i++) {
      const li = i * d;
      for (let j = k1; j <= i; j++) L[li + j]! -= dot(L, li + k0, L, j * d + k0, w);
    }
  }
  return L;
}

/**
 * cholesky(a) of a symmetric positive semi-definite matrix that rounding may have left slightly
 * indefinite (a Gram matrix summed in float32 blocks with linearly dependent columns, e.g. bag-of-
 * words histograms that sum to 1): when the plain factorisation fails, retries with a jitter of
 * 1e-10, 1e-9, …, 1e-4 times the mean diagonal added to the diagonal. Returns null only when all fail.
 */
export function choleskyWithJitter(a: Float64Array, d: number): { L: Float64Array; jitter: number } | null {
  const L = cholesky(a, d);
  if (L) return { L, jitter: 0 };
  let tr = 0;
  for (let i = 0; i < d; i++) tr += a[i * d + i]!;
  const scale = tr > 0 ? tr / d : 1;
  for (let e = -10; e <= -4; e++) {
    const jitter = scale * 10 ** e;
    const b = a.slice();
    for (let i = 0; i < d; i++) b[i * d + i]! += jitter;
    const Lj = cholesky(b, d);
    if (Lj) return { L: Lj, jitter };
  }
  return null;
}

/** Rows per block of solveLower (the block's rows of X stay in cache while earlier rows stream past). */
const SOLVE_BLOCK = 32;

/**
 * X with L·X = B (L lower triangular d × d, B d × k). By blocks of 32 rows: the finished rows above a
 * block are subtracted from all of its rows four at a time (each earlier row is read once per block,
 * not once per row), then the block is solved row by row.
 */
export function solveLower(L: Float64Array, d: number, b: ArrayLike<number>, k: number): Float64Array {
  const x = Float64Array.from({ length: d * k }, (_, i) => b[i]!);
  for (let i0 = 0; i0 < d; i0 += SOLVE_BLOCK) {
    const i1 = Math.min(d, i0 + SOLVE_BLOCK);
    let j = 0;
    for (; j + 4 <= i0; j += 4) {
      const x0 = j * k, x1 = x0 + k, x2 = x1 + k, x3 = x2 + k;
      for (let i = i0; i < i1; i++) {
        const li = i * d, xi = i * k;
        const l0 = L[li + j]!, l1 = L[li + j + 1]!, l2 = L[li + j + 2]!, l3 = L[li + j + 3]!;
        for (let c = 0; c < k; c++) x[xi + c]! -= l0 * x[x0 + c]! + l1 * x[x1 + c]! + l2 * x[x2 + c]! + l3 * x[x3 + c]!;
      }
    }
    for (; j < i0; j++) {
      const xj = j * k;
      for (let i = i0; i < i1; i++) {
        const l = L[i * d + j]!, xi = i * k;
        for (let c = 0; c < k; c++) x[xi + c]! -= l * x[xj + c]!;
      }
    }
    for (let i = i0; i < i1; i++) {
      const li = i * d, xi = i * k;
      for (let jj = i0; jj < i; jj++) {
        const l = L[li + jj]!, xj = jj * k;
        for (let c = 0; c < k; c++) x[xi + c]! -= l * x[xj + c]!;
      }
      const inv = 1 / L[li + i]!;
      for (let c = 0; c < k; c++) x[xi + c]! *= inv;
    }
  }
  return x;
}

/** X with Lᵀ·X = B (L lower triangular d × d, B d × k). */
export function solveLowerT(L: Float64Array, d: number, b: ArrayLike<number>, k: number): Float64Array {
  const x = Float64Array.from({ length: d * k }, (_, i) => b[i]!);
  for (let i = d - 1; i >= 0; i--) {
    const xi = i * k;
    let j = i + 1;
    for (; j + 4 <= d; j += 4) {
      const l0 = L[j * d + i]!, l1 = L[(j + 1) * d + i]!, l2 = L[(j + 2) * d + i]!, l3 = L[(j + 3) * d + i]!;
      const x0 = j * k, x1 = x0 + k, x2 = x1 + k, x3 = x2 + k;
      for (let c = 0; c < k; c++) x[xi + c]! -= l0 * x[x0 + c]! + l1 * x[x1 + c]! + l2 * x[x2 + c]! + l3 * x[x3 + c]!;
    }
    for (; j < d; j++) {
      const l = L[j * d + i]!, xj = j * k;
      for (let c = 0; c < k; c++) x[xi + c]! -= l * x[xj + c]!;
    }
    const inv = 1 / L[i * d + i]!;
    for (let c = 0; c < k; c++) x[xi + c]! *= inv;
  }
  return x;
}

/**
 * Eigen-decomposition of a symmetric d × d matrix: eigenvalues in descending order, and the
 * eigenvectors as the rows of `vectors` (row i belongs to values[i]; orthonormal). The full
 * matrix is read: pass a symmetric one.
 */
export function symmetricEigen(a: ArrayLike<number>, n: number): { values: Float64Array; vectors: Float64Array } {
  // u[j*n + k] holds JAMA's V[k][j] (V starts as A, symmetric, so u starts as A too).
  const u = Float64Array.from({ length: n * n }, (_, i) => a[i]!);
  const d = new Float64Array(n), e = new Float64Array(n);
  if (n === 0) return { values: d, vectors: u };
  tridiagonalise(u, d, e, n);
  accumulate(u, d, n);
  tql2(u, d, e, n);
  // Descending order; rows of u are eigenvectors.
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => d[y]! - d[x]! || x - y);
  const values = new Float64Array(n), vectors = new Float64Array(n * n);
  order.forEach((src, dst) => { values[dst] = d[src]!; vectors.set(u.subarray(src * n, (src + 1) * n), dst * n); });
  return { values, vectors };
}

/**
 * The k largest eigenpairs of a symmetric n × n matrix (k ≤ n): eigenvalues descending and their
 * eigenvectors as the rows of `vectors` (k × n, orthonormal). Householder tridiagonalisation (as in
 * symmetricEigen), all eigenvalues by implicit QL without vectors, the k eigenvectors of the
 * tridiagonal matrix by inverse iteration (vectors of eigenvalues closer than 1e-3·‖T‖ are kept
 * orthogonal, as LAPACK's dstein does), then the Householder reflectors applied to those k vectors
 * — about (4/3)·n³ flops instead of symmetricEigen's ~9·n³ when k ≪ n.
 */
export function symmetricEigenTop(a: ArrayLike<number>, n: number, k: number): { values: Float64Array; vectors: Float64Array } {
  k = Math.max(0, Math.min(k, n));
  const u = Float64Array.from({ length: n * n }, (_, i) => a[i]!);
  const d = new Float64Array(n), e = new Float64Array(n);
  if (n === 0 || k === 0) return { values: new Float64Array(0), vectors: new Float64Array(0) };
  tridiagonalise(u, d, e, n);
  const diag = new Float64Array(n), off = e.slice(); // off[i] couples i − 1 and i (i ≥ 1)
  for (let i = 0; i < n; i++) diag[i] = u[i * n + i]!;
  const all = diag.slice(), ework = off.slice();
  tql2(null, all, ework, n);
  const values = Float64Array.from(Array.from(all).sort((x, y) => y - x).slice(0, k));
  let tnorm = 0;
  for (let i = 0; i < n; i++) tnorm = Math.max(tnorm, Math.abs(diag[i]!) + Math.abs(off[i]!) + (i + 1 < n ? Math.abs(off[i + 1]!) : 0));
  if (tnorm === 0) tnorm = 1;
  const vectors = new Float64Array(k * n);
  const x = new Float64Array(n);
  const D = new Float64Array(n), DL = new Float64Array(n), DU = new Float64Array(n), DU2 = new Float64Array(n);
  const swap = new Uint8Array(n);
  const tiny = 2 ** -52 * tnorm;
  for (let j = 0; j < k; j++) {
    const lambda = values[j]!;
    // LU with partial pivoting of T − λI (LAPACK dgttrf); a zero pivot becomes ±tiny.
    for (let i = 0; i < n; i++) { D[i] = diag[i]! - lambda; DL[i] = i + 1 < n ? off[i + 1]! : 0; DU[i] = DL[i]!; DU2[i] = 0; swap[i] = 0; }
    for (let i = 0; i + 1 < n; i++) {
      if (Math.abs(D[i]!) >= Math.abs(DL[i]!)) {
        if (Math.abs(D[i]!) < tiny) D[i] = D[i]! < 0 ? -tiny : tiny;
        const f = DL[i]! / D[i]!;
        DL[i] = f; D[i + 1]! -= f * DU[i]!;
      } else {
        const f = D[i]! / DL[i]!;
        D[i] = DL[i]!; DL[i] = f;
        const t = DU[i]!; DU[i] = D[i + 1]!; D[i + 1] = t - f * D[i + 1]!;
        if (i + 2 < n) { DU2[i] = DU[i + 1]!; DU[i + 1] = -f * DU[i + 1]!; }
        swap[i] = 1;
      }
    }
    if (Math.abs(D[n - 1]!) < tiny) D[n - 1] = D[n - 1]! < 0 ? -tiny : tiny;
    const cluster: number[] = [];
    for (let p = 0; p < j; p++) if (Math.abs(values[p]! - lambda) <= 1e-3 * tnorm) cluster.push(p);
    let start = 0;
    const fresh = () => { for (let i = 0; i < n; i++) x[i] = (((i + 1) * 7919 + (j + 1 + start) * 104729) % 2003) / 2003 - 0.5 + 1e-3; start++; };
    fresh();
    for (let it = 0; it < 8; it++) {
      // solve L·U·x = x (LAPACK dgtts2)
      for (let i = 0; i + 1 < n; i++) {
        if (!swap[i]) x[i + 1]! -= DL[i]! * x[i]!;
        else { const t = x[i]!; x[i] = x[i + 1]!; x[i + 1] = t - DL[i]! * x[i]!; }
      }
      x[n - 1]! /= D[n - 1]!;
      if (n > 1) x[n - 2] = (x[n - 2]! - DU[n - 2]! * x[n - 1]!) / D[n - 2]!;
      for (let i = n - 3; i >= 0; i--) x[i] = (x[i]! - DU[i]! * x[i + 1]! - DU2[i]! * x[i + 2]!) / D[i]!;
      for (const p of cluster) {
        let t = 0;
        for (let i = 0; i < n; i++) t += vectors[p * n + i]! * x[i]!;
        for (let i = 0; i < n; i++) x[i]! -= t * vectors[p * n + i]!;
      }
      let nrm = 0;
      for (let i = 0; i < n; i++) nrm += x[i]! * x[i]!;
      nrm = Math.sqrt(nrm);
      if (!(nrm > 0) || !Number.isFinite(nrm)) { fresh(); continue; }
      for (let i = 0; i < n; i++) x[i]! /= nrm;
      // residual ‖T·x − λ·x‖
      let r = 0;
      for (let i = 0; i < n; i++) {
        const v = (diag[i]! - lambda) * x[i]! + (i > 0 ? off[i]! * x[i - 1]! : 0) + (i + 1 < n ? off[i + 1]! * x[i + 1]! : 0);
        r += v * v;
      }
      if (it >= 1 && Math.sqrt(r) <= 1e-12 * tnorm) break;
    }
    vectors.set(x, j * n);
  }
  // Back to A's coordinates: x ← H_{n−1}·…·H_1·x, H_m = I − v·vᵀ/h_m on coordinates 0..m−1.
  for (let j = 0; j < k; j++) {
    const o = j * n;
    for (let m = 1; m < n; m++) {
      const h = d[m]!;
      if (h === 0) continue;
      const vm = m * n;
      let t = 0;
      for (let i = 0; i < m; i++) t += u[vm + i]! * vectors[o + i]!;
      t /= h;
      for (let i = 0; i < m; i++) vectors[o + i]! -= t * u[vm + i]!;
    }
  }
  return { values, vectors };
}

/**
 * tred2's first half (EISPACK via JAMA, on u = Vᵀ): Householder reduction to tridiagonal form. After
 * it, T's diagonal is u's diagonal, its sub-diagonal e[1..n−1], and reflector m (1 ≤ m < n, acting on
 * coordinates 0..m−1) is u[m·n + 0..m−1] with scalar d[m] (0: no reflection): H_m = I − v·vᵀ/d[m].
 */
function tridiagonalise(u: Float64Array, d: Float64Array, e: Float64Array, n: number): void {
  for (let j = 0; j < n; j++) d[j] = u[j * n + n - 1]!;
  for (let i = n - 1; i > 0; i--) {
    let scale = 0, h = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(d[k]!);
    if (scale === 0) {
      e[i] = d[i - 1]!;
      for (let j = 0; j < i; j++) { d[j] = u[j * n + i - 1]!; u[j * n + i] = 0; u[i * n + j] = 0; }
    } else {
      for (let k = 0; k < i; k++) { d[k]! /= scale; h += d[k]! * d[k]!; }
      let f = d[i - 1]!;
      let g = Math.sqrt(h);
      if (f > 0) g = -g;
      e[i] = scale * g;
      h -= f * g;
      d[i - 1] = f - g;
      for (let j = 0; j < i; j++) e[j] = 0;
      for (let j = 0; j < i; j++) {
        f = d[j]!;
        u[i * n + j] = f;
        const uj = j * n;
        g = e[j]! + u[uj + j]! * f;
        for (let k = j + 1; k <= i - 1; k++) { const v = u[uj + k]!; g += v * d[k]!; e[k]! += v * f; }
        e[j] = g;
      }
      f = 0;
      for (let j = 0; j < i; j++) { e[j]! /= h; f += e[j]! * d[j]!; }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) e[j]! -= hh * d[j]!;
      for (let j = 0; j < i; j++) {
        f = d[j]!; g = e[j]!;
        const uj = j * n;
        for (let k = j; k <= i - 1; k++) u[uj + k]! -= f * e[k]! + g * d[k]!;
        d[j] = u[uj + i - 1]!;
        u[uj + i] = 0;
      }
    }
    d[i] = h;
  }
  e[0] = 0;
}

/** tred2's second half: the orthogonal Q of the reduction, explicitly, into u (= Qᵀ); d gets T's diagonal. */
function accumulate(u: Float64Array, d: Float64Array, n: number): void {
  // Accumulate the transformations.
  for (let i = 0; i < n - 1; i++) {
    u[i * n + n - 1] = u[i * n + i]!;
    u[i * n + i] = 1;
    const h = d[i + 1]!;
    const ui1 = (i + 1) * n;
    if (h !== 0) {
      for (let k = 0; k <= i; k++) d[k] = u[ui1 + k]! / h;
      for (let j = 0; j <= i; j++) {
        const uj = j * n;
        let g = 0;
        for (let k = 0; k <= i; k++) g += u[ui1 + k]! * u[uj + k]!;
        for (let k = 0; k <= i; k++) u[uj + k]! -= g * d[k]!;
      }
    }
    for (let k = 0; k <= i; k++) u[ui1 + k] = 0;
  }
  for (let j = 0; j < n; j++) { d[j] = u[j * n + n - 1]!; u[j * n + n - 1] = 0; }
  u[(n - 1) * n + n - 1] = 1;
}

/** Implicit QL on the tridiagonal (d, e) (EISPACK tql2 via JAMA), accumulating into u = Vᵀ unless u is null (eigenvalues only). */
function tql2(u: Float64Array | null, d: Float64Array, e: Float64Array, n: number): void {
  for (let i = 1; i < n; i++) e[i - 1] = e[i]!;
  e[n - 1] = 0;
  let f = 0, tst1 = 0;
  const eps = 2 ** -52;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]!) + Math.abs(e[l]!));
    let m = l;
    while (m < n) { if (Math.abs(e[m]!) <= eps * tst1) break; m++; }
    if (m > l) {
      let iter = 0;
      do {
        if (++iter > 100) throw new Error('symmetricEigen: QL iteration did not converge');
        let g = d[l]!;
        let p = (d[l + 1]! - g) / (2 * e[l]!);
        let r = Math.hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l]! / (p + r);
        d[l + 1] = e[l]! * (p + r);
        const dl1 = d[l + 1]!;
        let h = g - d[l]!;
        for (let i = l + 2; i < n; i++) d[i]! -= h;
        f += h;
        p = d[m]!;
        let c = 1, c2 = c, c3 = c, s = 0, s2 = 0;
        const el1 = e[l + 1]!;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2; c2 = c; s2 = s;
          g = c * e[i]!;
          h = c * p;
          r = Math.hypot(p, e[i]!);
          e[i + 1] = s * r;
          s = e[i]! / r;
          c = p / r;
          p = c * d[i]! - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]!);
          if (!u) continue;
          const a = i * n, b = (i + 1) * n;
          for (let k = 0; k < n; k++) {
            const hk = u[b + k]!, vk = u[a + k]!;
            u[b + k] = s * vk + c * hk;
            u[a + k] = c * vk - s * hk;
          }
        }
        p = -s * s2 * c3 * el1 * e[l]! / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l]!) > eps * tst1);
    }
    d[l] = d[l]! + f;
    e[l] = 0;
  }
}

/**
 * Orthonormal columns spanning the columns of `g` (rows × cols, cols ≤ rows): modified Gram–Schmidt
 * run twice ("twice is enough"), so the result is the Q of g = QR with R's diagonal positive.
 */
export function orthonormalColumns(g: ArrayLike<number>, rows: number, cols: number): Float64Array {
  if (cols > rows) throw new Error(`orthonormalColumns: ${cols} columns do not fit in ${rows} dimensions`);
  const q = new Float64Array(rows * cols);
  const v = new Float64Array(rows);
  for (let j = 0; j < cols; j++) {
    for (let i = 0; i < rows; i++) v[i] = g[i * cols + j]!;
    let norm0 = 0;
    for (let i = 0; i < rows; i++) norm0 += v[i]! * v[i]!;
    norm0 = Math.sqrt(norm0);
    for (let pass = 0; pass < 2; pass++) {
      for (let p = 0; p < j; p++) {
        let s = 0;
        for (let i = 0; i < rows; i++) s += q[i * cols + p]! * v[i]!;
        for (let i = 0; i < rows; i++) v[i]! -= s * q[i * cols + p]!;
      }
    }
    let nrm = 0;
    for (let i = 0; i < rows; i++) nrm += v[i]! * v[i]!;
    nrm = Math.sqrt(nrm);
    if (!(nrm > 1e-10 * Math.max(norm0, 1e-300))) throw new Error('orthonormalColumns: the columns are linearly dependent');
    for (let i = 0; i < rows; i++) q[i * cols + j] = v[i]! / nrm;
  }
  return q;
}

/** A seeded rows × cols matrix with orthonormal columns (cols ≤ rows): QR of a Gaussian matrix. */
export function randomOrthonormal(rows: number, cols: number, rng: Rng): Float64Array {
  const g = new Float64Array(rows * cols);
  for (let i = 0; i < g.length; i++) g[i] = rng.normal();
  return orthonormalColumns(g, rows, cols);
}

/**
 * The orthogonal m × m matrix nearest to C (its polar factor): R = W·Zᵀ for C = W·Σ·Zᵀ, which
 * maximises tr(Rᵀ·C). Z and Σ come from the eigen-decomposition of CᵀC; for singular values below
 * 1e-9·σ_max (C rank-deficient) W's columns are completed to an orthonormal basis deterministically
 * (Gram–Schmidt of the unit vectors e₁, e₂, … against the columns found).
 */
export function nearestOrthogonal(c: ArrayLike<number>, m: number): Float64Array {
  const ctc = matmulTN(c, m, m, c, m);
  const { values, vectors: z } = symmetricEigen(ctc, m); // rows of z: eigenvectors
  const sMax = Math.sqrt(Math.max(values[0]!, 0));
  const w = new Float64Array(m * m); // column i = w_i
  const have: number[] = [];
  const col = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    const s = Math.sqrt(Math.max(values[i]!, 0));
    if (!(s > 1e-9 * sMax)) continue;
    // w_i = C z_i / σ_i
    for (let r = 0; r < m; r++) { let t = 0; for (let k = 0; k < m; k++) t += c[r * m + k]! * z[i * m + k]!; col[r] = t / s; }
    for (let r = 0; r < m; r++) w[r * m + i] = col[r]!;
    have.push(i);
  }
  const missing = Array.from({ length: m }, (_, i) => i).filter((i) => !have.includes(i));
  let unit = 0;
  for (const i of missing) {
    for (; unit < m; unit++) {
      col.fill(0); col[unit] = 1;
      for (let pass = 0; pass < 2; pass++) {
        for (const p of have) {
          let t = 0;
          for (let r = 0; r < m; r++) t += w[r * m + p]! * col[r]!;
          for (let r = 0; r < m; r++) col[r]! -= t * w[r * m + p]!;
        }
      }
      let nrm = 0;
      for (let r = 0; r < m; r++) nrm += col[r]! * col[r]!;
      nrm = Math.sqrt(nrm);
      if (nrm > 0.5) { for (let r = 0; r < m; r++) w[r * m + i] = col[r]! / nrm; have.push(i); unit++; break; }
    }
  }
  // R = W Zᵀ: R[r][k] = Σ_i w[r][i] z_i[k]
  return matmul(w, m, m, z, m);
}
