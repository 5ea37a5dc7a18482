// The continual methods the session runner can build by name, with their CLI-level options.
// Baselines are per base method so each continual method has a like-for-like lower and upper bound:
// finetune:<base> and joint:<base> train the same networks as <base> (ccmh-gam or dlcmh); the plain
// names `finetune` and `joint` mean the ccmh-gam base.
import { InputError } from '../util/errors.js';
import type { ContinualHasher } from '../methods/hasher.js';
import { CcmhGam, type MemoryMode } from '../methods/ccmh-gam.js';
import { Dlcmh } from '../methods/dlcmh.js';
import { createFinetune } from '../methods/finetune.js';
import { Joint } from '../methods/joint.js';
import type { ProjectionMode } from '../methods/parts/projection.js';

export const CONTINUAL_METHODS = ['ccmh-gam', 'dlcmh', 'finetune', 'joint', 'finetune:ccmh-gam', 'joint:ccmh-gam', 'finetune:dlcmh', 'joint:dlcmh'];

export interface ContinualMethodOptions {
  bits: number; hidden?: number; memory?: string; memoryPerSession?: number; projection?: string; budget?: number; replay?: number;
  /** ccmh-gam: rescale gradient-memory weights to sum to 1. */
  normalizeMemoryWeights?: boolean;
}

/**
 * Whether the continual method `name` retrains from scratch and re-encodes the whole database every
 * session (joint retraining, any base). Decided by name because a joint model's checkpoint is its
 * inner model's: a model loaded from disk does not carry Joint.reencodesDatabase.
 */
export function reencodesDatabase(name: string): boolean { return name.split(':')[0] === 'joint'; }

export function createContinualMethod(name: string, o: ContinualMethodOptions): ContinualHasher {
  const [kind, base = 'ccmh-gam'] = name.split(':');
  if (base !== 'ccmh-gam' && base !== 'dlcmh') throw new InputError(`--method: unknown base "${base}" in "${name}" (known: ccmh-gam, dlcmh)`);
  switch (kind) {
    case 'ccmh-gam': if (name === kind) return new CcmhGam({ bits: o.bits, hidden: o.hidden, memory: o.memory as MemoryMode | undefined, memoryPerSession: o.memoryPerSession, projection: o.projection as ProjectionMode | undefined, replay: o.replay, normalizeMemoryWeights: o.normalizeMemoryWeights }); break;
    case 'dlcmh': if (name === kind) return new Dlcmh({ bits: o.bits, hidden: o.hidden, budget: o.budget }); break;
    case 'finetune': return createFinetune({ bits: o.bits, hidden: o.hidden, base, name });
    case 'joint': return new Joint({ bits: o.bits, hidden: o.hidden, base, budget: o.budget, name });
  }
  throw new InputError(`--method: unknown continual method "${name}" (known: ${CONTINUAL_METHODS.join(', ')})`);
}
