// ATanh, the adaptive-tanh code layer of DBRC (Hu, Nie, Li, TMM 2019): h = tanh(s(a)) where the
// scaling s is learned so that h saturates towards ±1 and sign(h) loses almost nothing.
//
// - linear mode:    s(a) = α ⊙ a, one learnable α per unit stored directly (init 1, as in the
//   paper); regularizer() = Σ 1/α², which the caller scales by λ and adds to the loss so α grows.
// - nonlinear mode: s(a) = α ⊙ sign(a) ⊙ ((|a| + ε)^p − ε^p), per unit, with α = softplus(ρα) > 0
//   and p = softplus(ρp) > 0 (init α = alphaInit, p = 1, i.e. s(a) = α·a at the start).
//   Choice: softplus keeps both positive without clipping and with gradients everywhere (exp
//   would also work but makes steps multiplicative and big for large ρ). The ε shift (1e-3) keeps
//   the slope α·p·ε^(p−1) finite at a = 0 when p < 1, which would otherwise give infinite
//   gradients; s stays odd, strictly increasing (monotone) and s(0) = 0. regularizer() is again
//   Σ 1/α² over the positive α.
import { InputError } from '../util/errors.js';
import { Tensor, noGrad } from '../tensor/tensor.js';
import {
  addScalar, exp, log, mul, mulScalar, powScalar, sign, softplus, sub, tanh,
} from '../tensor/ops-elementwise.js';
import { sum } from '../tensor/ops-reduce.js';
import type { Module } from './module.js';

export type ATanhMode = 'linear' | 'nonlinear';

export interface ATanhOpts { mode: ATanhMode; alphaInit?: number; pInit?: number; dtype?: 'f32' | 'f64' }

/** The ε in (|a| + ε)^p − ε^p of the nonlinear mode. */
export const ATANH_EPS = 1e-3;

function softplusInverse(y: number): number { return y > 20 ? y : Math.log(Math.expm1(y)); }

export class ATanh implements Module {
  readonly units: number;
  readonly mode: ATanhMode;
  training = true;
  /** Linear mode: α itself. Nonlinear mode: ρα with α = softplus(ρα). */
  readonly alphaParam: Tensor;
  /** Nonlinear mode only: ρp with p = softplus(ρp). */
  readonly pParam: Tensor | null;

  constructor(units: number, opts: ATanhOpts) {
    if (!(Number.isInteger(units) && units > 0)) throw new InputError(`ATanh: units must be a positive integer, got ${units}`);
    if (opts.mode !== 'linear' && opts.mode !== 'nonlinear') {
      throw new InputError(`ATanh: mode must be 'linear' or 'nonlinear', got '${String(opts.mode)}'`);
    }
    const alphaInit = opts.alphaInit ?? 1, pInit = opts.pInit ?? 1;
    if (!(alphaInit > 0) || !(pInit > 0)) throw new InputError(`ATanh: alphaInit and pInit must be > 0, got ${alphaInit}, ${pInit}`);
    this.units = units; this.mode = opts.mode;
    const dtype = opts.dtype ?? 'f32';
    this.alphaParam = Tensor.zeros(1, units, { requiresGrad: true, dtype });
    if (this.mode === 'linear') {
      this.alphaParam.data.fill(alphaInit);
      this.pParam = null;
    } else {
      this.alphaParam.data.fill(softplusInverse(alphaInit));
      this.pParam = Tensor.zeros(1, units, { requiresGrad: true, dtype });
      this.pParam.data.fill(softplusInverse(pInit));
    }
  }

  /** The per-unit scale α (1×units). Linear mode: the parameter itself; nonlinear: softplus(ρα), detached. */
  get alpha(): Tensor {
    return this.mode === 'linear' ? this.alphaParam : noGrad(() => softplus(this.alphaParam));
  }

  /** Nonlinear mode: the per-unit exponent p (1×units, detached); linear mode: null. */
  get exponent(): Tensor | null {
    return this.pParam ? noGrad(() => softplus(this.pParam!)) : null;
  }

  /** s(a), the learned scaling before tanh. */
  scale(a: Tensor): Tensor {
    if (a.cols !== this.units) {
      throw new InputError(`ATanh.forward: input has ${a.cols} columns, expected ${this.units} (shape [${a.rows}×${a.cols}])`);
    }
    if (this.mode === 'linear') return mul(a, this.alphaParam);
    const alpha = softplus(this.alphaParam), p = softplus(this.pParam!);
    // sign(a) is a constant here (its true derivative is 0 off a = 0); |a| is taken as a·sign(a)
    // so that at a = 0 the slope is the two-sided limit α·p·ε^(p−1), not abs's subgradient 0.
    const sgn = noGrad(() => sign(a));
    const pow = exp(mul(log(addScalar(mul(a, sgn), ATANH_EPS)), p));  // (|a|+ε)^p, p broadcast per unit
    const epsPow = exp(mulScalar(p, Math.log(ATANH_EPS)));            // ε^p (1×units)
    return mul(mul(sub(pow, epsPow), sgn), alpha);
  }

  forward(a: Tensor): Tensor { return tanh(this.scale(a)); }

  /** Σ 1/α² over the units (1×1, differentiable); multiply by λ and add to the loss. */
  regularizer(): Tensor {
    const alpha = this.mode === 'linear' ? this.alphaParam : softplus(this.alphaParam);
    return sum(powScalar(alpha, -2));
  }

  parameters(): Tensor[] { return this.pParam ? [this.alphaParam, this.pParam] : [this.alphaParam]; }
  namedParameters(): [string, Tensor][] {
    return this.pParam ? [['alpha', this.alphaParam], ['p', this.pParam]] : [['alpha', this.alphaParam]];
  }
  train(on: boolean): void { this.training = on; }
}
