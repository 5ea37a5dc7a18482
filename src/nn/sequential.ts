// A chain of modules, and the MLP builder the methods use for their networks.
import { InputError } from '../util/errors.js';
import type { Rng } from '../util/rng.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Module } from './module.js';
import { Linear } from './linear.js';
import { ReLU, Sigmoid, Tanh } from './activations.js';
import { Dropout } from './dropout.js';
import type { InitKind } from './init.js';

export class Sequential implements Module {
  constructor(public layers: Module[]) {}

  forward(x: Tensor): Tensor {
    let h = x;
    const ls = this.layers;
    for (let i = 0; i < ls.length; i++) {
      const l = ls[i]!;
      // a Linear followed by a ReLU runs as one op (Linear.forwardRelu: the same values)
      if (l instanceof Linear && ls[i + 1] instanceof ReLU) { h = l.forwardRelu(h); i++; } else h = l.forward(h);
    }
    return h;
  }
  parameters(): Tensor[] { return this.layers.flatMap((l) => l.parameters()); }
  /** Names are "<layer index>.<name>", e.g. "0.weight", "2.bias". */
  namedParameters(): [string, Tensor][] {
    return this.layers.flatMap((l, i) => l.namedParameters().map(([n, t]): [string, Tensor] => [`${i}.${n}`, t]));
  }
  train(on: boolean): void { for (const l of this.layers) l.train(on); }
}

export type ActivationName = 'relu' | 'tanh' | 'sigmoid';

export interface MlpOpts {
  rng: Rng;
  activation?: ActivationName;
  /** Dropout probability after each hidden activation (0 / omitted: none). */
  dropout?: number;
  /** Default: 'he' for relu, 'xavier' for tanh/sigmoid. */
  init?: InitKind;
  std?: number;
  /** Appended after the last Linear (e.g. an ATanh code layer); the last Linear has no activation. */
  final?: Module;
  dtype?: 'f32' | 'f64';
}

/**
 * dims = [in, h1, …, out]: Linear(in→h1), act, [dropout], …, Linear(→out), [final].
 * Layers are built in order from opts.rng, so the same seed gives the same weights.
 */
export function mlp(dims: number[], opts: MlpOpts): Sequential {
  if (dims.length < 2) throw new InputError(`mlp: needs at least [in, out] dims, got [${dims.join(', ')}]`);
  const act = opts.activation ?? 'relu';
  if (act !== 'relu' && act !== 'tanh' && act !== 'sigmoid') throw new InputError(`mlp: unknown activation '${String(act)}'`);
  const init = opts.init ?? (act === 'relu' ? 'he' : 'xavier');
  const layers: Module[] = [];
  for (let i = 0; i + 1 < dims.length; i++) {
    layers.push(new Linear(dims[i]!, dims[i + 1]!, { rng: opts.rng, init, std: opts.std, dtype: opts.dtype }));
    if (i + 2 < dims.length) {
      layers.push(act === 'relu' ? new ReLU() : act === 'tanh' ? new Tanh() : new Sigmoid());
      if (opts.dropout && opts.dropout > 0) layers.push(new Dropout(opts.dropout, opts.rng.fork()));
    }
  }
  if (opts.final) layers.push(opts.final);
  return new Sequential(layers);
}
