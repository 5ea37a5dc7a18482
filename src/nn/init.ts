// Weight initialisers. All draw from the caller's Rng so the same seed gives the same weights.
import { InputError } from '../util/errors.js';
import type { Rng } from '../util/rng.js';
import type { Buf } from '../tensor/tensor.js';

export type InitKind = 'xavier' | 'he' | 'normal';

let skipping = 0;

/**
 * Runs `build` with initWeight drawing nothing (weights stay zero): for a model whose every weight
 * is then set from a checkpoint and that only encodes. The draws were ~90% of building a model from
 * checkpoint data, on the thread that serves searches. Layers that keep a generator for training
 * (dropout) would see other seeds, so a model to train is built with draws.
 */
export function withoutInitialDraws<T>(build: () => T): T {
  skipping++;
  try { return build(); } finally { skipping--; }
}

/**
 * Fills a fanIn×fanOut weight:
 * - xavier (Glorot uniform): U(−l, l), l = √(6 / (fanIn + fanOut)) — keeps variance for tanh/sigmoid;
 * - he (Kaiming normal): N(0, 2 / fanIn) — keeps variance through ReLU;
 * - normal: N(0, std²), std default 0.01.
 */
export function initWeight(out: Buf, fanIn: number, fanOut: number, kind: InitKind, rng: Rng, std = 0.01): void {
  if (skipping > 0 && (kind === 'xavier' || kind === 'he' || kind === 'normal')) return;
  switch (kind) {
    case 'xavier': {
      const l = Math.sqrt(6 / (fanIn + fanOut));
      for (let i = 0; i < out.length; i++) out[i] = rng.range(-l, l);
      return;
    }
    case 'he': {
      const s = Math.sqrt(2 / fanIn);
      for (let i = 0; i < out.length; i++) out[i] = rng.normal(0, s);
      return;
    }
    case 'normal':
      for (let i = 0; i < out.length; i++) out[i] = rng.normal(0, std);
      return;
    default:
      throw new InputError(`init: unknown initialiser '${String(kind)}' (expected xavier, he or normal)`);
  }
}
