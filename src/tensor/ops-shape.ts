// Ops that move elements around: gather rows, concatenation, slicing, transpose, and dropout.
import { InputError, shapeError } from '../util/errors.js';
import type { Rng } from '../util/rng.js';
import { Tensor, allocBuf, gradOf, makeResult, sameDtype } from './tensor.js';

/** Rows idx[0], idx[1], … of a (indices may repeat; their gradients add up). */
export function gatherRows(a: Tensor, idx: Int32Array | readonly number[]): Tensor {
  const C = a.cols, n = idx.length;
  const ix = Int32Array.from(idx as ArrayLike<number>);
  for (let r = 0; r < n; r++) {
    const i = ix[r]!;
    if (!(i >= 0 && i < a.rows) || ix[r] !== (idx as ArrayLike<number>)[r]) {
      throw new InputError(`gatherRows: index ${String((idx as ArrayLike<number>)[r])} at position ${r} is out of range for [${a.rows}×${a.cols}]`);
    }
  }
  const out = allocBuf(a.dtype, n * C);
  for (let r = 0; r < n; r++) out.set(a.data.subarray(ix[r]! * C, ix[r]! * C + C), r * C);
  return makeResult('gatherRows', n, C, out, [a], (g) => {
    const ga = gradOf(a);
    for (let r = 0; r < n; r++) {
      const src = r * C, dst = ix[r]! * C;
      for (let j = 0; j < C; j++) ga[dst + j]! += g[src + j]!;
    }
  });
}

/** Side-by-side concatenation: all inputs have the same rows. */
export function concatCols(list: readonly Tensor[]): Tensor {
  if (list.length === 0) throw new InputError('concatCols: needs at least one tensor');
  const dtype = sameDtype('concatCols', ...list);
  const R = list[0]!.rows;
  let C = 0;
  for (const t of list) {
    if (t.rows !== R) throw shapeError('concatCols', list[0]!.shape, t.shape, '(row counts differ)');
    C += t.cols;
  }
  const out = allocBuf(dtype, R * C);
  let off = 0;
  for (const t of list) {
    for (let i = 0; i < R; i++) out.set(t.data.subarray(i * t.cols, (i + 1) * t.cols), i * C + off);
    off += t.cols;
  }
  return makeResult('concatCols', R, C, out, list, (g) => {
    let o = 0;
    for (const t of list) {
      if (t.requiresGrad) {
        const gt = gradOf(t), c = t.cols;
        for (let i = 0; i < R; i++) { const s = i * C + o, d = i * c; for (let j = 0; j < c; j++) gt[d + j]! += g[s + j]!; }
      }
      o += t.cols;
    }
  });
}

/** Stacked concatenation: all inputs have the same cols. */
export function concatRows(list: readonly Tensor[]): Tensor {
  if (list.length === 0) throw new InputError('concatRows: needs at least one tensor');
  const dtype = sameDtype('concatRows', ...list);
  const C = list[0]!.cols;
  let R = 0;
  for (const t of list) {
    if (t.cols !== C) throw shapeError('concatRows', list[0]!.shape, t.shape, '(column counts differ)');
    R += t.rows;
  }
  const out = allocBuf(dtype, R * C);
  let off = 0;
  for (const t of list) { out.set(t.data, off); off += t.size; }
  return makeResult('concatRows', R, C, out, list, (g) => {
    let o = 0;
    for (const t of list) {
      if (t.requiresGrad) {
        const gt = gradOf(t);
        for (let i = 0; i < t.size; i++) gt[i]! += g[o + i]!;
      }
      o += t.size;
    }
  });
}

/** Columns [start, end) of a. */
export function sliceCols(a: Tensor, start: number, end: number): Tensor {
  if (!(Number.isInteger(start) && Number.isInteger(end) && 0 <= start && start <= end && end <= a.cols)) {
    throw new InputError(`sliceCols: range [${start}, ${end}) is invalid for [${a.rows}×${a.cols}]`);
  }
  const R = a.rows, C = a.cols, w = end - start;
  const out = allocBuf(a.dtype, R * w);
  for (let i = 0; i < R; i++) out.set(a.data.subarray(i * C + start, i * C + end), i * w);
  return makeResult('sliceCols', R, w, out, [a], (g) => {
    const ga = gradOf(a);
    for (let i = 0; i < R; i++) { const d = i * C + start, s = i * w; for (let j = 0; j < w; j++) ga[d + j]! += g[s + j]!; }
  });
}

/** Rows [start, end) of a. */
export function sliceRows(a: Tensor, start: number, end: number): Tensor {
  if (!(Number.isInteger(start) && Number.isInteger(end) && 0 <= start && start <= end && end <= a.rows)) {
    throw new InputError(`sliceRows: range [${start}, ${end}) is invalid for [${a.rows}×${a.cols}]`);
  }
  const C = a.cols;
  const out = a.data.slice(start * C, end * C);
  return makeResult('sliceRows', end - start, C, out, [a], (g) => {
    const ga = gradOf(a), o = start * C;
    for (let i = 0; i < g.length; i++) ga[o + i]! += g[i]!;
  });
}

/** aᵀ as a new tensor (prefer matmul's transpose flags, which avoid this copy). */
export function transpose(a: Tensor): Tensor {
  const R = a.rows, C = a.cols, x = a.data;
  const out = allocBuf(a.dtype, R * C);
  for (let i = 0; i < R; i++) for (let j = 0; j < C; j++) out[j * R + i] = x[i * C + j]!;
  return makeResult('transpose', C, R, out, [a], (g) => {
    const ga = gradOf(a);
    for (let i = 0; i < R; i++) for (let j = 0; j < C; j++) ga[i * C + j]! += g[j * R + i]!;
  });
}

/**
 * Inverted dropout: each element is zeroed with probability p and survivors are scaled by
 * 1/(1−p), so the expectation is unchanged and inference is the identity (returns `a` itself
 * when not training or p = 0).
 */
export function dropout(a: Tensor, p: number, rng: Rng, training: boolean): Tensor {
  if (!(p >= 0 && p < 1)) throw new InputError(`dropout: p must be in [0, 1), got ${p}`);
  if (!training || p === 0) return a;
  const scale = 1 / (1 - p), x = a.data;
  const mask = allocBuf(a.dtype, a.size);
  for (let i = 0; i < mask.length; i++) mask[i] = rng.uniform() < p ? 0 : scale;
  const out = allocBuf(a.dtype, a.size);
  for (let i = 0; i < out.length; i++) out[i] = x[i]! * mask[i]!;
  return makeResult('dropout', a.rows, a.cols, out, [a], (g) => {
    const ga = gradOf(a);
    for (let i = 0; i < g.length; i++) ga[i]! += g[i]! * mask[i]!;
  });
}
