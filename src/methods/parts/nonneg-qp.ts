// A small solver for the non-negatively constrained convex quadratic program
//
//     minimise ½ vᵀ M v + qᵀ v   subject to v ≥ 0,      M symmetric positive semi-definite (k × k),
//
// which is all that both continual-learning pieces need: the dual of the GEM projection (one
// variable per old session) and the non-negative least-squares refit of gradient-matching weights.
// k is small (≤ a few hundred), so projected cyclic coordinate descent is enough and exact at
// convergence: each coordinate step minimises the objective along that axis in closed form,
//     v_i ← max(0, v_i − (M v + q)_i / M_ii),
// which never increases the objective (so warm starts from a feasible point keep monotonicity) and
// converges to the minimiser for PSD M. We stop when the KKT conditions hold to `tol`:
// v_i > 0 ⇒ |(Mv+q)_i| ≤ tol and v_i = 0 ⇒ (Mv+q)_i ≥ −tol (tol relative to the scale of q).

export interface NonNegQpResult {
  v: Float64Array;
  iterations: number;
  /** Largest KKT violation at exit (0 at the exact optimum). */
  kktViolation: number;
  objective: number;
}

export interface NonNegQpOptions {
  maxSweeps?: number;
  tol?: number;
  /** Warm start (must be ≥ 0); copied. */
  init?: ArrayLike<number>;
}

/** Solves min ½vᵀMv + qᵀv, v ≥ 0. `m` is k×k row-major. */
export function solveNonNegativeQp(m: ArrayLike<number>, q: ArrayLike<number>, k: number, opts: NonNegQpOptions = {}): NonNegQpResult {
  if (m.length !== k * k || q.length !== k) throw new Error(`solveNonNegativeQp: expected M ${k}×${k} and q of ${k}, got ${m.length} and ${q.length}`);
  const maxSweeps = opts.maxSweeps ?? 5000;
  let scale = 0;
  for (let i = 0; i < k; i++) scale = Math.max(scale, Math.abs(q[i]!), Math.abs(m[i * k + i]!));
  const tol = (opts.tol ?? 1e-10) * (scale > 0 ? scale : 1);
  const v = new Float64Array(k);
  if (opts.init) for (let i = 0; i < k; i++) v[i] = Math.max(0, opts.init[i] ?? 0);
  // grad = M v + q, kept up to date incrementally.
  const grad = new Float64Array(k);
  for (let i = 0; i < k; i++) grad[i] = rowDot(m, i * k, v, k, q[i]!);
  let sweeps = 0;
  let violation = kkt(v, grad, m, k);
  while (violation > tol && sweeps < maxSweeps) {
    sweep(v, grad, m, k);
    sweeps++;
    violation = kkt(v, grad, m, k);
  }
  let obj = 0;
  for (let i = 0; i < k; i++) obj += v[i]! * (0.5 * (grad[i]! - q[i]!) + q[i]!);
  return { v, iterations: sweeps, kktViolation: violation, objective: obj };
}

// Small functions so V8 optimises them after a few calls (see memory-gradient.ts).

/** start + Σ_j m[off + j] · v[j], summed from `start` in index order. */
function rowDot(m: ArrayLike<number>, off: number, v: Float64Array, k: number, start: number): number {
  let s = start;
  for (let j = 0; j < k; j++) s += m[off + j]! * v[j]!;
  return s;
}

/** One cyclic sweep of exact coordinate steps, keeping grad = Mv + q up to date. */
function sweep(v: Float64Array, grad: Float64Array, m: ArrayLike<number>, k: number): void {
  for (let i = 0; i < k; i++) {
    const mii = m[i * k + i]!;
    if (!(mii > 0)) continue; // a zero row: the variable does not affect the objective's curvature
    const next = Math.max(0, v[i]! - grad[i]! / mii);
    const d = next - v[i]!;
    if (d === 0) continue;
    v[i] = next;
    addColumn(grad, m, k, i, d);
  }
}

/** grad += d · M[:, i], read as row i (M is symmetric; a row is contiguous, a column strides by k). */
function addColumn(grad: Float64Array, m: ArrayLike<number>, k: number, i: number, d: number): void {
  const o = i * k;
  for (let j = 0; j < k; j++) grad[j] += m[o + j]! * d;
}

function kkt(v: Float64Array, grad: Float64Array, m: ArrayLike<number>, k: number): number {
  let worst = 0;
  for (let i = 0; i < k; i++) {
    if (!(m[i * k + i]! > 0)) continue;
    const g = grad[i]!;
    const viol = v[i]! > 0 ? Math.abs(g) : Math.max(0, -g);
    if (viol > worst) worst = viol;
  }
  return worst;
}
