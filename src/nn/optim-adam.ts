// Adam (Kingma & Ba) with bias correction. Weight decay is L2 added to the gradient by default
// (as in the classic formulation); `decoupled: true` applies it directly to the weights (AdamW).
import { InputError } from '../util/errors.js';
import { getBackend } from '../tensor/backends.js';
import type { Buf, Tensor } from '../tensor/tensor.js';
import { resolveGroups, zeroGrads, Optimizer, ParamGroup, ResolvedGroup } from './optimizer.js';

export interface AdamOpts { lr: number; beta1?: number; beta2?: number; eps?: number; weightDecay?: number; decoupled?: boolean }

export class Adam implements Optimizer {
  lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly decoupled: boolean;
  readonly groups: ResolvedGroup[];
  /** Steps taken (bias correction uses it). */
  t = 0;
  private readonly state = new Map<Tensor, { m: Buf; v: Buf }>();

  constructor(params: Tensor[] | ParamGroup[], opts: AdamOpts) {
    this.lr = opts.lr;
    this.beta1 = opts.beta1 ?? 0.9;
    this.beta2 = opts.beta2 ?? 0.999;
    this.eps = opts.eps ?? 1e-8;
    this.decoupled = opts.decoupled ?? false;
    if (!(this.beta1 >= 0 && this.beta1 < 1 && this.beta2 >= 0 && this.beta2 < 1)) {
      throw new InputError(`Adam: betas must be in [0, 1), got ${this.beta1}, ${this.beta2}`);
    }
    this.groups = resolveGroups('Adam', params, opts.lr, opts.weightDecay ?? 0);
  }

  step(): void {
    this.t++;
    const b1 = this.beta1, b2 = this.beta2, eps = this.eps;
    const c1 = 1 - Math.pow(b1, this.t), c2 = 1 - Math.pow(b2, this.t);
    for (const grp of this.groups) {
      const lr = this.lr * grp.lrScale, wd = grp.weightDecay;
      // θ −= lr · m̂ / (√v̂ + ε) with m̂ = m/c1, v̂ = v/c2, folded into one step size
      const stepSize = lr / c1, sqrtC2 = Math.sqrt(c2);
      for (const p of grp.params) {
        const g = p.grad;
        if (!g) continue;
        const x = p.data;
        let s = this.state.get(p);
        if (!s) {
          const mk = (): Buf => (p.dtype === 'f64' ? new Float64Array(x.length) : new Float32Array(x.length));
          s = { m: mk(), v: mk() };
          this.state.set(p, s);
        }
        const m = s.m, v = s.v;
        if (x instanceof Float32Array) {
          // float32 parameters: one fused pass on the backend (native: vectorised, memory-bound)
          getBackend().adamStep(x, g as Float32Array, m as Float32Array, v as Float32Array, x.length,
            { b1, b2, stepSize, invSqrtC2: 1 / sqrtC2, eps, wd, lrWd: lr * wd, decoupled: this.decoupled });
          continue;
        }
        for (let i = 0; i < x.length; i++) {
          let gi = g[i]!;
          if (wd !== 0) {
            if (this.decoupled) x[i]! -= lr * wd * x[i]!;
            else gi += wd * x[i]!;
          }
          const mi = b1 * m[i]! + (1 - b1) * gi;
          const vi = b2 * v[i]! + (1 - b2) * gi * gi;
          m[i] = mi; v[i] = vi;
          x[i]! -= stepSize * mi / (Math.sqrt(vi) / sqrtC2 + eps);
        }
      }
    }
  }

  zeroGrad(): void { zeroGrads(this.groups); }
}
