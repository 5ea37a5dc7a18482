// Reductions and row normalisation: sum/mean over all, rows (axis 0) or columns (axis 1),
// row-wise L2 normalisation and the cosine-similarity matrix built from it.
import { InputError } from '../util/errors.js';
import { Tensor, allocBuf, gradOf, makeResult } from './tensor.js';
import { matmul } from './ops-matmul.js';

export type Axis = 0 | 1;

function checkAxis(op: string, axis: unknown): void {
  if (axis !== undefined && axis !== 0 && axis !== 1) throw new InputError(`${op}: axis must be 0, 1 or omitted, got ${String(axis)}`);
}

function reduce(op: string, a: Tensor, axis: Axis | undefined, scale: number): Tensor {
  const R = a.rows, C = a.cols, x = a.data;
  if (axis === undefined) {
    let s = 0;
    for (let i = 0; i < x.length; i++) s += x[i]!;
    const out = allocBuf(a.dtype, 1);
    out[0] = s * scale;
    return makeResult(op, 1, 1, out, [a], (g) => {
      const ga = gradOf(a), gv = g[0]! * scale;
      for (let i = 0; i < ga.length; i++) ga[i]! += gv;
    });
  }
  if (axis === 0) { // over rows → 1×C
    const acc = new Float64Array(C);
    for (let i = 0; i < R; i++) { const o = i * C; for (let j = 0; j < C; j++) acc[j]! += x[o + j]!; }
    const out = allocBuf(a.dtype, C);
    for (let j = 0; j < C; j++) out[j] = acc[j]! * scale;
    return makeResult(op, 1, C, out, [a], (g) => {
      const ga = gradOf(a);
      for (let i = 0; i < R; i++) { const o = i * C; for (let j = 0; j < C; j++) ga[o + j]! += g[j]! * scale; }
    });
  }
  const out = allocBuf(a.dtype, R); // over columns → R×1
  for (let i = 0; i < R; i++) {
    let s = 0; const o = i * C;
    for (let j = 0; j < C; j++) s += x[o + j]!;
    out[i] = s * scale;
  }
  return makeResult(op, R, 1, out, [a], (g) => {
    const ga = gradOf(a);
    for (let i = 0; i < R; i++) { const o = i * C, gv = g[i]! * scale; for (let j = 0; j < C; j++) ga[o + j]! += gv; }
  });
}

/** Sum: no axis → 1×1; axis 0 sums rows → 1×cols; axis 1 sums columns → rows×1. Accumulates in float64. */
export function sum(a: Tensor, axis?: Axis): Tensor {
  checkAxis('sum', axis);
  return reduce('sum', a, axis, 1);
}

/** Mean with the same axis convention as sum. */
export function mean(a: Tensor, axis?: Axis): Tensor {
  checkAxis('mean', axis);
  const n = axis === undefined ? a.size : axis === 0 ? a.rows : a.cols;
  if (n === 0) throw new InputError(`mean: cannot average over an empty axis of [${a.rows}×${a.cols}]`);
  return reduce('mean', a, axis, 1 / n);
}

/** Σ x² over all elements → 1×1 (common in quantisation losses; one pass, no temporary). */
export function sumSquares(a: Tensor): Tensor {
  const x = a.data;
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]! * x[i]!;
  const out = allocBuf(a.dtype, 1);
  out[0] = s;
  return makeResult('sumSquares', 1, 1, out, [a], (g) => {
    const ga = gradOf(a), gv = 2 * g[0]!;
    for (let i = 0; i < ga.length; i++) ga[i]! += gv * x[i]!;
  });
}

/**
 * Each row divided by its L2 norm, y = x / max(‖x‖, eps); rows with norm below eps are scaled by
 * 1/eps (so a zero row stays zero instead of becoming NaN).
 */
export function l2NormalizeRows(a: Tensor, eps = 1e-12): Tensor {
  const R = a.rows, C = a.cols, x = a.data;
  const y = allocBuf(a.dtype, R * C);
  const norms = new Float64Array(R);
  for (let i = 0; i < R; i++) {
    const o = i * C;
    let s = 0;
    for (let j = 0; j < C; j++) s += x[o + j]! * x[o + j]!;
    const nrm = Math.sqrt(s);
    norms[i] = nrm;
    const inv = 1 / Math.max(nrm, eps);
    for (let j = 0; j < C; j++) y[o + j] = x[o + j]! * inv;
  }
  return makeResult('l2NormalizeRows', R, C, y, [a], (g) => {
    const ga = gradOf(a);
    for (let i = 0; i < R; i++) {
      const o = i * C, nrm = norms[i]!;
      if (nrm > eps) {
        // dy/dx = (I − y yᵀ)/‖x‖  →  dx = (g − y (g·y)) / ‖x‖
        let gy = 0;
        for (let j = 0; j < C; j++) gy += g[o + j]! * y[o + j]!;
        const inv = 1 / nrm;
        for (let j = 0; j < C; j++) ga[o + j]! += (g[o + j]! - y[o + j]! * gy) * inv;
      } else {
        const inv = 1 / eps;
        for (let j = 0; j < C; j++) ga[o + j]! += g[o + j]! * inv;
      }
    }
  });
}

/** cos(a_i, b_j) for every row pair: a rows×d, b n×d → rows×n. */
export function cosineSimilarity(a: Tensor, b: Tensor, eps = 1e-12): Tensor {
  if (a.cols !== b.cols) {
    throw new InputError(`cosineSimilarity: shape mismatch [${a.rows}×${a.cols}] vs [${b.rows}×${b.cols}] (both need the same number of columns)`);
  }
  const an = l2NormalizeRows(a, eps);
  const bn = a === b ? an : l2NormalizeRows(b, eps);
  return matmul(an, bn, false, true);
}
