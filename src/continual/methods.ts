// The continual methods the session runner can build by name, with their CLI-level options.
import { InputError } from '../util/errors.js';
import type { ContinualHasher } from '../methods/hasher.js';
import { CcmhGam, type MemoryMode } from '../methods/ccmh-gam.js';
import { Dlcmh } from '../methods/dlcmh.js';
import { createFinetune } from '../methods/finetune.js';
import { Joint } from '../methods/joint.js';
import type { ProjectionMode } from './projection.js';

export const CONTINUAL_METHODS = ['ccmh-gam', 'dlcmh', 'finetune', 'joint'];

export interface ContinualMethodOptions {
  bits: number; hidden?: number; memory?: string; memoryPerSession?: number; projection?: string; budget?: number;
}

export function createContinualMethod(name: string, o: ContinualMethodOptions): ContinualHasher {
  switch (name) {
    case 'ccmh-gam': return new CcmhGam({ bits: o.bits, hidden: o.hidden, memory: o.memory as MemoryMode | undefined, memoryPerSession: o.memoryPerSession, projection: o.projection as ProjectionMode | undefined });
    case 'dlcmh': return new Dlcmh({ bits: o.bits, hidden: o.hidden, budget: o.budget });
    case 'finetune': return createFinetune({ bits: o.bits, hidden: o.hidden });
    case 'joint': return new Joint({ bits: o.bits, hidden: o.hidden });
    default: throw new InputError(`--method: unknown continual method "${name}" (known: ${CONTINUAL_METHODS.join(', ')})`);
  }
}
