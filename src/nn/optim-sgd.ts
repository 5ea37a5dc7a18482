// Stochastic gradient descent with optional (Nesterov) momentum and L2 weight decay, following
// the usual formulation: d = g + wd·θ; v = μ·v + d; θ −= lr · (nesterov ? d + μ·v : v).
import { InputError } from '../util/errors.js';
import type { Buf, Tensor } from '../tensor/tensor.js';
import { resolveGroups, zeroGrads, Optimizer, ParamGroup, ResolvedGroup } from './optimizer.js';

export interface SgdOpts { lr: number; momentum?: number; weightDecay?: number; nesterov?: boolean }

export class SGD implements Optimizer {
  lr: number;
  readonly momentum: number;
  readonly nesterov: boolean;
  readonly groups: ResolvedGroup[];
  private readonly velocity = new Map<Tensor, Buf>();

  constructor(params: Tensor[] | ParamGroup[], opts: SgdOpts) {
    this.lr = opts.lr;
    this.momentum = opts.momentum ?? 0;
    this.nesterov = opts.nesterov ?? false;
    if (!(this.momentum >= 0 && this.momentum < 1)) throw new InputError(`SGD: momentum must be in [0, 1), got ${this.momentum}`);
    if (this.nesterov && this.momentum === 0) throw new InputError('SGD: nesterov needs momentum > 0');
    this.groups = resolveGroups('SGD', params, opts.lr, opts.weightDecay ?? 0);
  }

  step(): void {
    const mu = this.momentum;
    for (const grp of this.groups) {
      const lr = this.lr * grp.lrScale, wd = grp.weightDecay;
      for (const p of grp.params) {
        const g = p.grad;
        if (!g) continue; // parameter not used in this step
        const x = p.data;
        if (mu === 0) {
          for (let i = 0; i < x.length; i++) x[i]! -= lr * (g[i]! + wd * x[i]!);
          continue;
        }
        let v = this.velocity.get(p);
        const first = !v;
        if (!v) { v = p.dtype === 'f64' ? new Float64Array(x.length) : new Float32Array(x.length); this.velocity.set(p, v); }
        for (let i = 0; i < x.length; i++) {
          const d = g[i]! + wd * x[i]!;
          const vi = first ? d : mu * v[i]! + d;
          v[i] = vi;
          x[i]! -= lr * (this.nesterov ? d + mu * vi : vi);
        }
      }
    }
  }

  zeroGrad(): void { zeroGrads(this.groups); }
}
