// What SGD and Adam share: parameter groups and the learning rate schedules adjust.
//
// Each group may set its own lr; it is kept as a ratio to the optimiser's base lr, so a schedule
// (or a caller) setting `opt.lr` scales every group together and per-group ratios are preserved.
import { InputError } from '../util/errors.js';
import type { Tensor } from '../tensor/tensor.js';

export interface ParamGroup { params: Tensor[]; lr?: number; weightDecay?: number }

export interface Optimizer {
  /** Base learning rate; group i uses lr · (its lr / the lr given at construction). */
  lr: number;
  step(): void;
  zeroGrad(): void;
}

export interface ResolvedGroup { params: Tensor[]; lrScale: number; weightDecay: number }

export function resolveGroups(op: string, params: Tensor[] | ParamGroup[], lr: number, weightDecay: number): ResolvedGroup[] {
  if (!(lr >= 0)) throw new InputError(`${op}: lr must be >= 0, got ${lr}`);
  const groups: ParamGroup[] = params.length > 0 && !('params' in (params[0] as object))
    ? [{ params: params as Tensor[] }]
    : (params as ParamGroup[]);
  const seen = new Set<Tensor>();
  return groups.map((g, gi) => {
    if (!Array.isArray(g.params)) throw new InputError(`${op}: parameter group ${gi} has no params array`);
    for (const p of g.params) {
      if (seen.has(p)) throw new InputError(`${op}: a tensor appears twice in the parameter groups (group ${gi})`);
      seen.add(p);
    }
    const glr = g.lr ?? lr;
    if (!(glr >= 0)) throw new InputError(`${op}: group ${gi} lr must be >= 0, got ${glr}`);
    return { params: g.params, lrScale: lr > 0 ? glr / lr : 1, weightDecay: g.weightDecay ?? weightDecay };
  });
}

export function zeroGrads(groups: ResolvedGroup[]): void {
  for (const g of groups) for (const p of g.params) p.zeroGrad();
}
