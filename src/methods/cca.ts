// cca — regularised CCA + (optional) ITQ + sign (the unsupervised baseline). The shared
// machinery (kept data, standardisation, encoders, refit at each session, checkpoint, export) is
// RefitBaseline in linear.ts; labels are kept with the items but never read.
//
//   1. standardise each feature column with the training statistics;
//   2. covariances of the centred standardised features, each with a ridge that is relative to its
//      mean variance and grows with dimension over items: C_xx = X_cᵀX_c/n + r·(d_x/n)·(tr(X_cᵀX_c/n)/d_x)·I,
//      likewise C_yy, and C_xy = X_cᵀY_c/n (r = `regulariser`, default 3). The sampling error of a
//      covariance grows with d/n, and the best fixed ridge on the validation splits ran from ~0.1
//      (Wikipedia, d/n ≤ 0.07) to ~100 (MIRFlickr photo rows, d/n ≈ 1.3–2.3); r·d/n with r = 3 is
//      within ~.01 validation mAP of the best on both (docs/methods.md). bench/baselines/cca_wikipedia.py
//      puts an absolute ridge of 1e-4 on the raw covariances;
//   3. canonical directions from C_xx = L_xL_xᵀ, C_yy = L_yL_yᵀ (Cholesky) and the SVD of
//      M = L_x⁻¹C_xyL_y⁻ᵀ = UΣVᵀ, done as the top-`bits` eigenpairs of MMᵀ or MᵀM (whichever is
//      smaller; parts/dense.ts symmetricEigenTop): W_x = L_x⁻ᵀU, W_y = L_y⁻ᵀV, so
//      W_xᵀC_xxW_x = W_yᵀC_yyW_y = I and W_xᵀC_xyW_y = Σ (the regularised canonical correlations,
//      descending). Only pairs with a correlation above 1e-6·ρ₁ count (r ≤ min(d_x, d_y, bits)).
//      Each pair's sign is fixed so that the largest-magnitude entry of its image direction is
//      positive (the same convention as the numpy reference, bench/baselines/linear_cca_reference.py);
//   4. the top k = min(bits, r) pairs project the centred features; when bits > r the k canonical
//      coordinates are padded with bits − k seeded Gaussian combinations of them (the matrix
//      [I_k | G], G ~ N(0, 1) k × (bits − k)) — cca_wikipedia.py instead maps its 10 directions
//      through one Gaussian 10 × c matrix; keeping the canonical coordinates as the first bits
//      loses nothing they carry;
//   5. `itq` iterations of ITQ (Gong & Lazebnik 2011) learn an orthogonal bits × bits rotation R
//      minimising ‖B − VR‖² over the training projections V of both modalities stacked (2n × bits),
//      B = sign(VR), from a seeded random orthogonal start; R is the polar factor of VᵀB at each
//      step. With itq = 0 there is no rotation;
//   6. encode() returns the real values; the code is their sign (0 → +1).
// Deterministic from TrainOptions.seed (the padding and ITQ's start). The canonical step is O(d³)
// (Cholesky of both covariances, triangular solves, the eigen-solver on the smaller side).
import { InputError } from '../util/errors.js';
import { Rng } from '../util/rng.js';
import type { OptionSchema } from './options.js';
import type { LoadedCheckpoint } from './checkpoint-io.js';
import { RefitBaseline, type LinearSolution, type RefitBaselineConfig, type SolveInput } from './linear.js';
import {
  choleskyWithJitter, columnMeans, crossProduct, matmul, nearestOrthogonal, projectRows, randomOrthonormal, rowGram, solveLower, solveLowerT, symmetricEigenTop, transpose,
} from './parts/dense.js';

export const CCA_KIND = 'cmhash/cca';
/** Default covariance ridge r, in units of (d/n)·mean variance (see the header and docs/methods.md for how it was chosen). */
export const CCA_DEFAULT_REGULARISER = 3;
/** Default ITQ iterations (better than none at 32 and 64 bits on both validation splits; see docs/methods.md). */
export const CCA_DEFAULT_ITQ = 50;

export const CCA_OPTIONS: OptionSchema = {
  regulariser: { type: 'number', min: 0, default: CCA_DEFAULT_REGULARISER, doc: 'ridge r on each covariance, scaled by d/n and the mean variance: C_xx + r·(d_x/n)·(tr C_xx/d_x)·I (0: none; then n > d is needed)' },
  itq: { type: 'integer', min: 0, max: 10000, default: CCA_DEFAULT_ITQ, doc: 'ITQ iterations: an orthogonal rotation of the projections minimising the quantisation error (0: no rotation)' },
};

export interface CcaConfig { bits: number; name?: string; regulariser?: number; itq?: number }

/** Canonical pairs of a regularised CCA (see the header): directions d × k, correlations descending. */
export interface CanonicalPairs { imageDirections: Float64Array; textDirections: Float64Array; k: number; correlations: Float64Array; rank: number }

/** Centred covariance (XᵀY − n·x̄ȳᵀ)/n of two float32 blocks over the same n rows. */
function covariance(a: Float32Array, da: number, am: Float64Array, b: Float32Array, db: number, bm: Float64Array, n: number): Float64Array {
  const c = crossProduct(a, da, b, db, n);
  for (let i = 0; i < da; i++) for (let j = 0; j < db; j++) c[i * db + j] = (c[i * db + j]! - n * am[i]! * bm[j]!) / n;
  return c;
}

function addRidge(c: Float64Array, d: number, r: number, n: number): void {
  let tr = 0;
  for (let i = 0; i < d; i++) tr += c[i * d + i]!;
  const ridge = r * (d / n) * (tr > 0 ? tr / d : 1);
  for (let i = 0; i < d; i++) c[i * d + i]! += ridge;
}

/** The top `want` canonical pairs of standardised X (n × dx) and Y (n × dy) with covariance ridge `reg`. */
export function canonicalPairs(X: Float32Array, dx: number, Y: Float32Array, dy: number, n: number, reg: number, want: number): CanonicalPairs {
  const mx = columnMeans(X, n, dx), my = columnMeans(Y, n, dy);
  const cxx = covariance(X, dx, mx, X, dx, mx, n), cyy = covariance(Y, dy, my, Y, dy, my, n), cxy = covariance(X, dx, mx, Y, dy, my, n);
  addRidge(cxx, dx, reg, n); addRidge(cyy, dy, reg, n);
  const fx = choleskyWithJitter(cxx, dx), fy = choleskyWithJitter(cyy, dy);
  if (!fx || !fy) throw new InputError(`cca: the ${fx ? 'text' : 'image'} covariance is not positive definite with regulariser ${reg} (use a larger regulariser)`);
  const lx = fx.L, ly = fy.L;
  const t = solveLower(lx, dx, cxy, dy);                  // L_x⁻¹ C_xy (dx × dy)
  const mt = solveLower(ly, dy, transpose(t, dx, dy), dx); // Mᵀ = L_y⁻¹ (L_x⁻¹ C_xy)ᵀ (dy × dx)
  const m = transpose(mt, dy, dx);                          // M (dx × dy)
  const small = Math.min(dx, dy);
  const top = Math.min(want, small);
  const { values, vectors } = dx <= dy ? symmetricEigenTop(rowGram(m, dx, dy), dx, top) : symmetricEigenTop(rowGram(mt, dy, dx), dy, top);
  const sigma = Array.from(values, (v) => Math.sqrt(Math.max(v, 0)));
  let rank = 0;
  while (rank < top && sigma[rank]! > 1e-6 * sigma[0]! && sigma[0]! > 0) rank++;
  if (rank === 0) throw new InputError('cca: the image and text features of the training items are uncorrelated (no canonical pair)');
  const k = Math.min(want, rank);
  // Singular vector pairs: the eigenvectors on the smaller side, the other side by M or Mᵀ over σ.
  const U = new Float64Array(dx * k), V = new Float64Array(dy * k);
  for (let j = 0; j < k; j++) {
    const s = sigma[j]!;
    const ev = vectors.subarray(j * small, (j + 1) * small);
    if (dx <= dy) {
      for (let i = 0; i < dx; i++) U[i * k + j] = ev[i]!;
      for (let i = 0; i < dy; i++) { let acc = 0; for (let p = 0; p < dx; p++) acc += mt[i * dx + p]! * ev[p]!; V[i * k + j] = acc / s; }
    } else {
      for (let i = 0; i < dy; i++) V[i * k + j] = ev[i]!;
      for (let i = 0; i < dx; i++) { let acc = 0; for (let p = 0; p < dy; p++) acc += m[i * dy + p]! * ev[p]!; U[i * k + j] = acc / s; }
    }
  }
  const wx = solveLowerT(lx, dx, U, k), wy = solveLowerT(ly, dy, V, k);
  // Sign convention: the largest-magnitude entry of each image direction is positive.
  for (let j = 0; j < k; j++) {
    let at = 0, best = -1;
    for (let i = 0; i < dx; i++) { const v = Math.abs(wx[i * k + j]!); if (v > best) { best = v; at = i; } }
    if (wx[at * k + j]! < 0) {
      for (let i = 0; i < dx; i++) wx[i * k + j] = -wx[i * k + j]!;
      for (let i = 0; i < dy; i++) wy[i * k + j] = -wy[i * k + j]!;
    }
  }
  return { imageDirections: wx, textDirections: wy, k, correlations: Float64Array.from(sigma.slice(0, k)), rank };
}

/** Centred float32 projections (rows × cols) of standardised features z through the float32 map w (d × cols). */
function centredProjection(z: Float32Array, rows: number, d: number, w: Float32Array, cols: number): Float32Array {
  const p = projectRows(z, rows, d, w, cols);
  const m = columnMeans(p, rows, cols);
  for (let r = 0; r < rows; r++) for (let j = 0; j < cols; j++) p[r * cols + j] -= m[j]!;
  return p;
}

/**
 * ITQ: `iterations` steps of B = sign(VR), R = polar(VᵀB) from `start` (bits × bits orthogonal), on
 * V (rows × bits, centred). Returns R and the quantisation error ‖B − VR‖²/(rows·bits) of the final R.
 */
export function itqRotation(V: Float32Array, rows: number, bits: number, start: Float64Array, iterations: number): { rotation: Float64Array; quantization: number } {
  let R = start;
  const B = new Float32Array(rows * bits);
  const step = () => {
    const vr = projectRows(V, rows, bits, Float32Array.from(R), bits);
    let q = 0;
    for (let i = 0; i < vr.length; i++) { const b = vr[i]! >= 0 ? 1 : -1; B[i] = b; q += (b - vr[i]!) ** 2; }
    return q / (rows * bits);
  };
  for (let it = 0; it < iterations; it++) {
    step();
    R = nearestOrthogonal(crossProduct(V, bits, B, bits, rows), bits);
  }
  return { rotation: R, quantization: step() };
}

export class CcaBaseline extends RefitBaseline {
  constructor(config: CcaConfig) { super(config as RefitBaselineConfig, 'cca', CCA_KIND, CCA_OPTIONS); }

  protected solve({ data, X, Y, seed, options }: SolveInput): LinearSolution {
    const n = data.n, dx = data.imageDim, dy = data.textDim, bits = this.bits;
    const reg = (options.regulariser as number | undefined) ?? CCA_DEFAULT_REGULARISER;
    const iterations = (options.itq as number | undefined) ?? CCA_DEFAULT_ITQ;
    const pairs = canonicalPairs(X, dx, Y, dy, n, reg, bits);
    const k = pairs.k;
    const rng = new Rng(seed);
    // k × bits: [I_k | G] (G Gaussian, only when bits > k).
    let rotation: Float64Array = new Float64Array(k * bits);
    for (let j = 0; j < k; j++) rotation[j * bits + j] = 1;
    for (let j = 0; j < k; j++) for (let c = k; c < bits; c++) rotation[j * bits + c] = rng.normal();
    const loss: Record<string, number> = { correlation: pairs.correlations.reduce((s, v) => s + v, 0) / k };
    if (iterations > 0) {
      const start = randomOrthonormal(bits, bits, rng.fork());
      const vx = centredProjection(X, n, dx, Float32Array.from(matmul(pairs.imageDirections, dx, k, rotation, bits)), bits);
      const vy = centredProjection(Y, n, dy, Float32Array.from(matmul(pairs.textDirections, dy, k, rotation, bits)), bits);
      const V = new Float32Array(2 * n * bits); V.set(vx); V.set(vy, n * bits);
      const itq = itqRotation(V, 2 * n, bits, start, iterations);
      rotation = matmul(rotation, k, bits, itq.rotation, bits);
      loss.quantization = itq.quantization;
    }
    return {
      imageProjection: pairs.imageDirections, textProjection: pairs.textDirections, k, rotation, loss,
      meta: { canonicalCorrelations: Array.from(pairs.correlations), canonicalRank: pairs.rank },
    };
  }

  static fromCheckpoint(ck: LoadedCheckpoint, path: string): CcaBaseline {
    const a = RefitBaseline.architectureOf(ck, path);
    const m = new CcaBaseline({ bits: a.bits, name: a.name, ...(a.options as Partial<CcaConfig>) });
    m.restore(ck, path, a);
    return m;
  }
}
