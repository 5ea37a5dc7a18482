// Gradient projection for continual training: the update on a new session must not increase the
// loss on the memory of old sessions (to first order), so old items keep their codes.
//
// A-GEM (Chaudhry et al. 2019), one reference gradient g_ref (the memory's average gradient):
//     if gᵀg_ref < 0:  g ← g − (gᵀg_ref / ‖g_ref‖²) g_ref          (closed form)
// GEM (Lopez-Paz & Ranzato 2017), one constraint per old session k with reference gradient G_k:
//     minimise ½‖z − g‖²  subject to  G_k·z ≥ 0 for every k.
// Its dual, with M = G Gᵀ (k × k) and q = G g, is
//     minimise ½ vᵀMv + qᵀv  subject to v ≥ 0,   and then z = g + Gᵀv,
// solved by our small coordinate-descent solver (nonneg-qp.ts). The dual is only k-dimensional
// (k = number of old sessions), so the cost is k dot products of parameter length plus a tiny QP.
// Dot products are accumulated in float64 so the constraints hold to rounding of the final float32.
import { solveNonNegativeQp } from './nonneg-qp.js';
import { getBackend } from '../../tensor/backends.js';

export type ProjectionMode = 'none' | 'agem' | 'gem';

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`dot: length ${a.length} vs ${b.length}`);
  // float32 vectors (gradients): the backend's kernel, same float64 sum in the same order
  if (a instanceof Float32Array && b instanceof Float32Array) return getBackend().dot(a, b, a.length);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/**
 * a·bs[j] for every j, each summed as `dot` sums it: in one pass over a (the chains are independent,
 * so k of them cost about what one costs; a lone float64 chain is bound by the add's latency).
 */
export function dots(a: Float32Array, bs: readonly Float32Array[]): Float64Array {
  const out = new Float64Array(bs.length);
  for (const b of bs) if (b.length !== a.length) throw new Error(`dots: length ${a.length} vs ${b.length}`);
  if (bs.length > 0) getBackend().dots(a, bs, a.length, out);
  return out;
}

/** g += s · r (float64 arithmetic, float32 result). */
function addScaled(g: Float32Array, s: number, r: Float32Array): void {
  getBackend().axpy(g, s, r, g.length);
}

export interface ProjectionResult {
  /** True when the gradient was changed. */
  projected: boolean;
  /** Dual variables (GEM) or the single A-GEM coefficient; zeros when nothing was violated. */
  multipliers: number[];
}

/** A-GEM: projects `g` in place so that gᵀg_ref ≥ 0. */
export function agemProject(g: Float32Array, gRef: Float32Array): ProjectionResult {
  const d = dots(gRef, [g, gRef]);
  const gr = d[0]!, rr = d[1]!;
  if (gr >= 0 || !(rr > 0)) return { projected: false, multipliers: [0] };
  const coef = gr / rr;
  addScaled(g, -coef, gRef);
  return { projected: true, multipliers: [-coef] };
}

/**
 * GEM: projects `g` in place onto {z : refs[k]·z ≥ margin·‖refs[k]‖·‖g‖ ∀k} (margin 0 = plain GEM)
 * by solving the dual QP. Returns the dual variables.
 */
export function gemProject(g: Float32Array, refs: Float32Array[], margin = 0, gram?: Float64Array): ProjectionResult {
  const k = refs.length;
  if (k === 0) return { projected: false, multipliers: [] };
  for (const r of refs) if (r.length !== g.length) throw new Error(`gemProject: reference gradient length ${r.length} vs gradient ${g.length}`);
  if (gram && gram.length !== k * k) throw new Error(`gemProject: Gram matrix has ${gram.length} entries, expected ${k * k}`);
  const gNorm = margin !== 0 ? Math.sqrt(dot(g, g)) : 0;
  const q = dots(g, refs);
  const norms = new Float64Array(k);
  let violated = false;
  for (let i = 0; i < k; i++) {
    norms[i] = gram ? Math.sqrt(gram[i * k + i]!) : Math.sqrt(dot(refs[i]!, refs[i]!));
    // constraint rᵢ·z ≥ bᵢ with bᵢ = margin‖rᵢ‖‖g‖; dual linear term is rᵢ·g − bᵢ
    q[i] = q[i]! - margin * norms[i]! * gNorm;
    if (q[i]! < 0 && norms[i]! > 0) violated = true;
  }
  if (!violated) return { projected: false, multipliers: Array.from({ length: k }, () => 0) };
  const m = gram ?? gramMatrix(refs);
  const sol = solveNonNegativeQp(m, q, k, { tol: 1e-12 });
  for (let i = 0; i < k; i++) {
    if (sol.v[i]! !== 0) addScaled(g, sol.v[i]!, refs[i]!);
  }
  return { projected: true, multipliers: Array.from(sol.v) };
}

/** M = G Gᵀ of the reference gradients (float64 dot products). */
export function gramMatrix(refs: Float32Array[]): Float64Array {
  const k = refs.length;
  const m = new Float64Array(k * k);
  for (let i = 0; i < k; i++) {
    const row = dots(refs[i]!, refs.slice(i));
    for (let j = i; j < k; j++) { m[i * k + j] = row[j - i]!; m[j * k + i] = row[j - i]!; }
  }
  return m;
}

/**
 * Reference gradients with what every step would otherwise recompute from them: the GEM Gram matrix
 * (k² dot products of parameter length) and the A-GEM average. A trainer that keeps references for
 * several steps prepares them once (with 7 old sessions the per-step Gram matrix was ~30% of an
 * increment on 40k synthetic items).
 */
export interface PreparedReferences { mode: ProjectionMode; refs: Float32Array[]; gram: Float64Array | null; average: Float32Array | null }

/** What `mode` needs from the references, computed once: GEM the Gram matrix, A-GEM the average. */
export function prepareReferences(refs: Float32Array[], mode: ProjectionMode): PreparedReferences {
  return { mode, refs, gram: mode === 'gem' ? gramMatrix(refs) : null, average: mode === 'agem' ? averageOf(refs) : null };
}

/** The mean of the reference gradients (A-GEM's single reference: the memory's average gradient). */
function averageOf(refs: Float32Array[]): Float32Array {
  const n = refs[0]?.length ?? 0;
  const average = new Float32Array(n);
  for (const r of refs) for (let i = 0; i < n; i++) average[i] = average[i]! + r[i]! / refs.length;
  return average;
}

/** Applies the chosen projection in place; `refs` are per-old-session reference gradients (raw or prepared for `mode`). */
export function projectGradient(mode: ProjectionMode, g: Float32Array, refs: Float32Array[] | PreparedReferences): ProjectionResult {
  const p = Array.isArray(refs) ? null : refs;
  if (p && p.mode !== mode) throw new Error(`projectGradient: references prepared for ${p.mode}, used for ${mode}`);
  const list = p ? p.refs : refs as Float32Array[];
  if (mode === 'none' || list.length === 0) return { projected: false, multipliers: [] };
  if (mode === 'gem') return gemProject(g, list, 0, p?.gram ?? undefined);
  return agemProject(g, p?.average ?? averageOf(list));
}
