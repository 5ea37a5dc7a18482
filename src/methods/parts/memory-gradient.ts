// Gradient-aware exemplar memory: choose a small weighted subset of an old session whose weighted
// gradient approximates the gradient of that session's whole data (CCMH-GAM's memory; the greedy
// matching follows GradMatch/OMP with non-negative weights).
//
// Per-sample gradients are represented in factored form. For a layer z = a·W + b, the gradient of
// sample i's loss w.r.t. (W, b) is the outer product [aᵢ, 1] ⊗ δᵢ with δᵢ = ∂ℓᵢ/∂zᵢ; for the last
// layer δ has a closed form (see ccmh-gam.ts), which is the fast path the paper suggests. Inner
// products of outer products factor, ⟨a⊗δ, a'⊗δ'⟩ = (a·a')(δ·δ'), so we never materialise the
// (hidden × bits)-long embedding of a sample:
//   K_ij        = Σ_blocks (aᵢ·aⱼ)(δᵢ·δⱼ)
//   ⟨gᵢ, ḡ⟩     = Σ_blocks aᵢᵀ Ḡ δᵢ,   Ḡ = Aᵀ Δ / n       (the full mean gradient, exact, all n rows)
//   ‖ḡ‖²        = Σ_blocks ‖Ḡ‖²_F
// Greedy: repeatedly add the candidate most correlated with the residual ḡ − Σ wⱼgⱼ, then refit all
// weights by non-negative least squares (warm-started, so the residual never grows with the budget).
// The residual ‖ḡ − Σ wⱼgⱼ‖/‖ḡ‖ is reported: it is the exact relative error of the memory's
// last-layer gradient, and the quantity the selection controls (the bound); the error on the whole
// network's flattened gradient is measured separately by the method with autograd.
import { solveNonNegativeQp } from './nonneg-qp.js';
import { getBackend } from '../../tensor/backends.js';
import type { Rng } from '../../util/rng.js';

/** One factored block: n rows of activations (with the bias 1 appended by the caller if wanted) and deltas. */
export interface GradientBlock {
  a: Float32Array; aDim: number;
  d: Float32Array; dDim: number;
}

export interface GradientMatchOptions {
  budget: number;
  /** Candidates scanned (random subset of the session when larger); the mean gradient always uses every row. */
  candidatePool?: number;
  /** Coordinate-descent sweeps of the weight refit after each pick (default 4). */
  maxSweeps?: number;
  rng: Rng;
}

export interface GradientMatchResult {
  /** Selected row indices into the session (in selection order). */
  indices: number[];
  /** Non-negative weights: Σ wⱼ gⱼ ≈ mean gradient of the session. */
  weights: number[];
  /** Relative residual ‖ḡ − Σ wⱼ gⱼ‖ / ‖ḡ‖ after each selection (non-increasing). */
  residualCurve: number[];
  /** Final relative residual (the reported bound on the last-layer gradient error). */
  relativeError: number;
  fullGradientNorm: number;
}

function rowDot(x: Float32Array, i: number, y: Float32Array, j: number, dim: number): number {
  let s = 0;
  const oi = i * dim, oj = j * dim;
  for (let p = 0; p < dim; p++) s += x[oi + p]! * y[oj + p]!;
  return s;
}

/** Mean gradient Ḡ = AᵀΔ/n (aDim × dDim) of one block. */
function meanGradient(b: GradientBlock, n: number): Float64Array {
  const g = new Float64Array(b.aDim * b.dDim);
  for (let i = 0; i < n; i++) {
    const ao = i * b.aDim, doff = i * b.dDim;
    for (let p = 0; p < b.aDim; p++) {
      const ap = b.a[ao + p]!;
      if (ap === 0) continue;
      const go = p * b.dDim;
      for (let q = 0; q < b.dDim; q++) g[go + q] += ap * b.d[doff + q]!;
    }
  }
  for (let i = 0; i < g.length; i++) g[i] /= n;
  return g;
}

/** Ḡ = AᵀΔ/n by one SGEMM (float32 products, float64 result). */
function meanGradientFast(b: GradientBlock, n: number): Float64Array {
  const g = new Float32Array(b.aDim * b.dDim);
  getBackend().sgemm(true, false, b.aDim, b.dDim, n, 1 / n, b.a, b.aDim, b.d, b.dDim, 0, g, b.dDim);
  return Float64Array.from(g);
}

/** ⟨gᵢ, ḡ⟩ for one block: aᵢᵀ Ḡ δᵢ. */
function corrWithMean(b: GradientBlock, gbar: Float64Array, i: number): number {
  let s = 0;
  const ao = i * b.aDim, doff = i * b.dDim;
  for (let p = 0; p < b.aDim; p++) {
    const ap = b.a[ao + p]!;
    if (ap === 0) continue;
    let t = 0;
    const go = p * b.dDim;
    for (let q = 0; q < b.dDim; q++) t += gbar[go + q]! * b.d[doff + q]!;
    s += ap * t;
  }
  return s;
}

/** Exact kernel entry K_ij over all blocks. */
export function gradientKernel(blocks: GradientBlock[], i: number, j: number): number {
  let s = 0;
  for (const b of blocks) s += rowDot(b.a, i, b.a, j, b.aDim) * rowDot(b.d, i, b.d, j, b.dDim);
  return s;
}

/**
 * The candidates' whole kernel K = Σ_blocks (A_c A_cᵀ) ⊙ (D_c D_cᵀ) (nc × nc) by two SGEMMs per block:
 * one pass of the fast kernels instead of a per-pick column of row dot products.
 */
function candidateKernel(blocks: GradientBlock[], cand: Int32Array, n: number): Float32Array {
  const nc = cand.length;
  const be = getBackend();
  const K = new Float32Array(nc * nc);
  const aa = new Float32Array(nc * nc), dd = new Float32Array(nc * nc);
  for (const b of blocks) {
    // Every row is a candidate when the pool covers the session: no gather needed.
    const a = nc === n ? b.a : gatherCandidates(b.a, b.aDim, cand), d = nc === n ? b.d : gatherCandidates(b.d, b.dDim, cand);
    be.sgemm(false, true, nc, nc, b.aDim, 1, a, b.aDim, a, b.aDim, 0, aa, nc);
    be.sgemm(false, true, nc, nc, b.dDim, 1, d, b.dDim, d, b.dDim, 0, dd, nc);
    hadamardAccumulate(K, aa, dd);
  }
  return K;
}

// The loops below are small functions on purpose: memory selection runs once per session, and V8
// optimises a small hot function after a few calls, while a loop inside one large function ran in
// the interpreter for most of the first selections (measured: 108 ms cold vs 24 ms warm).

function gatherCandidates(x: Float32Array, dim: number, cand: Int32Array): Float32Array {
  const out = new Float32Array(cand.length * dim);
  for (let c = 0; c < cand.length; c++) out.set(x.subarray(cand[c]! * dim, (cand[c]! + 1) * dim), c * dim);
  return out;
}

function hadamardAccumulate(K: Float32Array, x: Float32Array, y: Float32Array): void {
  for (let i = 0; i < K.length; i++) K[i] += x[i]! * y[i]!;
}

/** Position of the largest v[c] with taken[c] = 0 (−1 when none). */
function argmaxUntaken(v: Float64Array, taken: Uint8Array): number {
  let best = -1, bestVal = -Infinity;
  for (let c = 0; c < v.length; c++) if (taken[c] === 0 && v[c]! > bestVal) { bestVal = v[c]!; best = c; }
  return best;
}

/** dst −= s · col. */
function subtractScaled(dst: Float64Array, s: number, col: Float32Array | Float64Array): void {
  for (let c = 0; c < dst.length; c++) dst[c] -= s * col[c]!;
}

/** m (k × k) with m[i][j] = col_j[pos_i]: the kernel among the selected candidates. */
function selectedKernel(cols: (Float32Array | Float64Array)[], pos: number[], k: number): Float64Array {
  const m = new Float64Array(k * k);
  for (let i = 0; i < k; i++) {
    const p = pos[i]!;
    for (let j = 0; j < k; j++) m[i * k + j] = cols[j]![p]!;
  }
  return m;
}

/** Greedy gradient matching with non-negative weights over `n` samples. */
export function selectByGradientMatching(blocks: GradientBlock[], n: number, opts: GradientMatchOptions): GradientMatchResult {
  if (n === 0) return { indices: [], weights: [], residualCurve: [], relativeError: 0, fullGradientNorm: 0 };
  for (const b of blocks) {
    if (b.a.length !== n * b.aDim || b.d.length !== n * b.dDim) throw new Error(`selectByGradientMatching: block shapes [${b.a.length}/${b.aDim}], [${b.d.length}/${b.dDim}] do not match ${n} rows`);
  }
  const budget = Math.max(0, Math.min(opts.budget, n));
  const gbars = blocks.map((b) => meanGradientFast(b, n));
  let full2 = 0;
  for (const g of gbars) for (let i = 0; i < g.length; i++) full2 += g[i]! * g[i]!;
  const fullNorm = Math.sqrt(full2);
  // Candidate pool: every row when small, else a random subset.
  const pool = opts.candidatePool ?? 2000;
  let cand: Int32Array;
  if (n <= pool) { cand = new Int32Array(n); for (let i = 0; i < n; i++) cand[i] = i; }
  else cand = opts.rng.permutation(n).subarray(0, pool).slice();
  const nc = cand.length;
  const corr = new Float64Array(nc); // ⟨g_c, ḡ⟩ = Σ_blocks a_cᵀ Ḡ δ_c: one SGEMM (A·Ḡ) per block, then row dots
  const be = getBackend();
  blocks.forEach((b, bi) => {
    const ag = new Float32Array(n * b.dDim);
    be.sgemm(false, false, n, b.dDim, b.aDim, 1, b.a, b.aDim, Float32Array.from(gbars[bi]!), b.dDim, 0, ag, b.dDim);
    for (let c = 0; c < nc; c++) corr[c] += rowDot(ag, cand[c]!, b.d, cand[c]!, b.dDim);
  });
  const selected: number[] = []; // positions in cand
  const kCols: (Float32Array | Float64Array)[] = []; // K[:, s] over candidates, per selected s (a row view of K: K is symmetric)
  let w: Float64Array = new Float64Array(0);
  const curve: number[] = [];
  const taken = new Uint8Array(nc);
  const residualCorr = Float64Array.from(corr); // ⟨g_c, r⟩ with r = ḡ − Σ w g
  if (!(full2 > 0)) return { indices: [], weights: [], residualCurve: [], relativeError: 0, fullGradientNorm: 0 };
  let rel = 1;
  let objective = 0;
  // Precomputed candidate kernel when it fits (≤ 4,000 candidates: ≤ 64 MB); else columns on demand.
  const Kc = budget > 0 && nc <= 4000 ? candidateKernel(blocks, cand, n) : null;
  while (selected.length < budget) {
    const best = argmaxUntaken(residualCorr, taken);
    if (best < 0 || !(residualCorr[best]! > 0)) break; // nothing left that reduces the residual with a positive weight
    taken[best] = 1;
    selected.push(best);
    let col: Float32Array | Float64Array;
    if (Kc) col = Kc.subarray(best * nc, (best + 1) * nc);
    else { col = new Float64Array(nc); for (let c = 0; c < nc; c++) col[c] = gradientKernel(blocks, cand[c]!, cand[best]!); }
    kCols.push(col);
    const k = selected.length;
    // Full non-negative refit of all weights for the first 16 picks, then every 32nd pick and at the
    // end; in between, the new pick alone gets its exact 1-D optimal weight (one coordinate step of
    // the same objective). Both only ever lower ½wᵀKw − wᵀcorr, so the residual never grows. (Refits
    // only at powers of two were tried: faster, but on Wikipedia the kept memory lost a third of its
    // items to zero weights and the matching residual rose from ~.08 to ~.14.)
    if (k <= 16 || k % 32 === 0 || k === budget) {
      const m = selectedKernel(kCols, selected, k);
      const q = new Float64Array(k);
      for (let i = 0; i < k; i++) q[i] = -corr[selected[i]!]!;
      const init = new Float64Array(k); init.set(w);
      // Warm-started from the previous weights, a few sweeps suffice (coordinate descent never raises
      // the objective, so stopping short of the exact NNLS optimum keeps the residual non-increasing).
      const sol = solveNonNegativeQp(m, q, k, { init, tol: 1e-6, maxSweeps: opts.maxSweeps ?? 4 });
      w = sol.v;
      objective = sol.objective;
      residualCorr.set(corr);
      for (let j = 0; j < k; j++) {
        if (w[j]! !== 0) subtractScaled(residualCorr, w[j]!, kCols[j]!);
      }
    } else {
      const kbb = col[best]!;
      const step = kbb > 0 ? Math.max(0, residualCorr[best]! / kbb) : 0;
      const nw = new Float64Array(k); nw.set(w); nw[k - 1] = step; w = nw;
      objective -= 0.5 * step * residualCorr[best]!;
      subtractScaled(residualCorr, step, col);
    }
    // residual² = ‖ḡ‖² + 2·objective  (objective = ½wᵀKw − wᵀcorr)
    const r2 = Math.max(0, full2 + 2 * objective);
    rel = Math.sqrt(r2) / fullNorm;
    curve.push(rel);
  }
  // Drop zero-weight picks (NNLS may zero some out); they carry nothing.
  const indices: number[] = [], weights: number[] = [];
  for (let j = 0; j < selected.length; j++) if (w[j]! > 0) { indices.push(cand[selected[j]!]!); weights.push(w[j]!); }
  return { indices, weights, residualCurve: curve, relativeError: rel, fullGradientNorm: fullNorm };
}

/** Relative error ‖ḡ − Σ wⱼgⱼ‖/‖ḡ‖ of an arbitrary weighted subset (used to score random memory the same way). */
export function matchingError(blocks: GradientBlock[], n: number, indices: number[], weights: number[]): number {
  if (n === 0) return 0;
  const gbars = blocks.map((b) => meanGradient(b, n));
  let full2 = 0;
  for (const g of gbars) for (let i = 0; i < g.length; i++) full2 += g[i]! * g[i]!;
  if (!(full2 > 0)) return 0;
  let cross = 0, quad = 0;
  for (let j = 0; j < indices.length; j++) {
    let s = 0;
    for (let b = 0; b < blocks.length; b++) s += corrWithMean(blocks[b]!, gbars[b]!, indices[j]!);
    cross += weights[j]! * s;
    for (let l = 0; l < indices.length; l++) quad += weights[j]! * weights[l]! * gradientKernel(blocks, indices[j]!, indices[l]!);
  }
  return Math.sqrt(Math.max(0, full2 - 2 * cross + quad)) / Math.sqrt(full2);
}

