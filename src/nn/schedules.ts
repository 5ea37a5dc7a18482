// Learning-rate schedules. Each captures the optimiser's lr at creation as the base and sets
// opt.lr on every step() (call once per epoch, or per iteration — the unit is the caller's).
import { InputError } from '../util/errors.js';
import type { Optimizer } from './optimizer.js';

export interface LrSchedule {
  /** Advances one step and updates opt.lr; returns the new lr. */
  step(): number;
  /** Steps taken so far. */
  readonly epoch: number;
  readonly baseLr: number;
}

function schedule(opt: Optimizer, factor: (epoch: number) => number): LrSchedule {
  const baseLr = opt.lr;
  let epoch = 0;
  return {
    baseLr,
    get epoch() { return epoch; },
    step(): number { epoch++; opt.lr = baseLr * factor(epoch); return opt.lr; },
  };
}

/** lr = base · gamma^⌊epoch / stepSize⌋. */
export function stepLR(opt: Optimizer, stepSize: number, gamma: number): LrSchedule {
  if (!(Number.isInteger(stepSize) && stepSize > 0)) throw new InputError(`stepLR: stepSize must be a positive integer, got ${stepSize}`);
  return schedule(opt, (e) => Math.pow(gamma, Math.floor(e / stepSize)));
}

/** lr = base · gamma^epoch. */
export function exponentialLR(opt: Optimizer, gamma: number): LrSchedule {
  return schedule(opt, (e) => Math.pow(gamma, e));
}

/**
 * lr = base · f, with the factor f going linearly from `start` to `end` over `total` steps and
 * staying at `end` afterwards (PyTorch's LinearLR convention: start/end are multipliers of the
 * base lr, e.g. linearLR(opt, 1, 0, epochs) decays to zero). The factor at creation is `start`.
 */
export function linearLR(opt: Optimizer, start: number, end: number, total: number): LrSchedule {
  if (!(Number.isInteger(total) && total > 0)) throw new InputError(`linearLR: total must be a positive integer, got ${total}`);
  const s = schedule(opt, (e) => start + (end - start) * Math.min(e, total) / total);
  opt.lr = s.baseLr * start;
  return s;
}
