// One flat float32 vector over all parameters (in the order given): continual methods read the
// whole gradient, project it (A-GEM, GEM) and write it back; memories store flat weight copies.
import { InputError } from '../util/errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { gradOf } from '../tensor/tensor.js';

export function numel(params: Tensor[]): number {
  let n = 0;
  for (const p of params) n += p.size;
  return n;
}

function checkLength(op: string, params: Tensor[], vec: ArrayLike<number>): void {
  const n = numel(params);
  if (vec.length !== n) throw new InputError(`${op}: vector has length ${vec.length}, the parameters have ${n} elements`);
}

/** Concatenated gradients (zeros for parameters without a gradient yet). */
export function flatGrad(params: Tensor[], out?: Float32Array): Float32Array {
  const v = out ?? new Float32Array(numel(params));
  checkLength('flatGrad', params, v);
  let o = 0;
  for (const p of params) {
    if (p.grad) v.set(p.grad, o); else v.fill(0, o, o + p.size);
    o += p.size;
  }
  return v;
}

/** Writes vec back into the parameters' gradients (allocating them where missing). */
export function setFlatGrad(params: Tensor[], vec: Float32Array): void {
  checkLength('setFlatGrad', params, vec);
  let o = 0;
  for (const p of params) { gradOf(p).set(vec.subarray(o, o + p.size)); o += p.size; }
}

/**
 * Makes each parameter's gradient a view of `vec` (in parameter order) and returns the previous
 * gradient buffers (pass them to restoreGrads). Backward passes then accumulate straight into the
 * flat vector, so reading it needs no flatGrad copy and changing it in place needs no setFlatGrad.
 */
export function bindFlatGrad(params: Tensor[], vec: Float32Array): (Tensor['grad'])[] {
  checkLength('bindFlatGrad', params, vec);
  const before = params.map((p) => p.grad);
  let o = 0;
  for (const p of params) {
    if (p.dtype !== 'f32') throw new InputError(`bindFlatGrad: parameter of dtype ${p.dtype}, the flat vector is f32`);
    p.grad = vec.subarray(o, o + p.size); o += p.size;
  }
  return before;
}

/** Puts back the gradient buffers bindFlatGrad returned. */
export function restoreGrads(params: Tensor[], grads: (Tensor['grad'])[]): void {
  params.forEach((p, i) => { p.grad = grads[i] ?? null; });
}

/** Concatenated parameter values. */
export function flatParams(params: Tensor[], out?: Float32Array): Float32Array {
  const v = out ?? new Float32Array(numel(params));
  checkLength('flatParams', params, v);
  let o = 0;
  for (const p of params) { v.set(p.data, o); o += p.size; }
  return v;
}

/** Overwrites the parameter values from vec. */
export function setFlatParams(params: Tensor[], vec: Float32Array): void {
  checkLength('setFlatParams', params, vec);
  let o = 0;
  for (const p of params) { p.data.set(vec.subarray(o, o + p.size)); o += p.size; }
}
