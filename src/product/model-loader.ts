// Loads a saved model of any method. The method registry (methods/registry.ts) is the normal path;
// until the continual methods join it, their checkpoints are recognised here by kind (a narrow
// adapter — remove the fallback once registry.ts registers ccmh-gam, finetune, dlcmh and joint).
import { loadCheckpoint } from '../nn/checkpoint.js';
import { loadHasher, methodNames } from '../methods/registry.js';
import { CcmhGam, CCMH_GAM_KIND } from '../methods/ccmh-gam.js';
import { Dlcmh, DLCMH_KIND } from '../methods/dlcmh.js';
import type { ContinualHasher, Hasher } from '../methods/hasher.js';

export function loadModel(path: string): Hasher {
  const ck = loadCheckpoint(path);
  if (ck.kind === CCMH_GAM_KIND && !registryKnowsKind(ck.kind)) return CcmhGam.fromCheckpoint(ck, path);
  if (ck.kind === DLCMH_KIND && !registryKnowsKind(ck.kind)) return Dlcmh.fromCheckpoint(ck, path);
  return loadHasher(path);
}

function registryKnowsKind(kind: string): boolean {
  // the registry throws for unknown kinds; asking by name is enough for the continual methods
  const byKind: Record<string, string> = { [CCMH_GAM_KIND]: 'ccmh-gam', [DLCMH_KIND]: 'dlcmh' };
  return methodNames().includes(byKind[kind] ?? '');
}

export function isContinual(h: Hasher): h is ContinualHasher {
  return typeof (h as Partial<ContinualHasher>).update === 'function' && typeof (h as Partial<ContinualHasher>).memoryItems === 'function';
}

/** Methods that learn session by session, best first, as the demo picks them. */
export const CONTINUAL_PREFERENCE = ['ccmh-gam', 'dlcmh', 'finetune'];

