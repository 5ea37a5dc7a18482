// The Module contract every layer implements: a forward pass over 2-D tensors, its learnable
// parameters (with stable names, used by checkpoints and flat views) and a train/eval switch.
import type { Tensor } from '../tensor/tensor.js';

export interface Module {
  forward(x: Tensor): Tensor;
  /** Learnable tensors in a fixed order (the order flat views and optimisers use). */
  parameters(): Tensor[];
  /** Training mode (dropout active) when on; evaluation mode otherwise. */
  train(on: boolean): void;
  /** Parameters with dotted names, e.g. "0.weight", in the same order as parameters(). */
  namedParameters(): [string, Tensor][];
}

/** Base for layers without parameters (activations). */
export abstract class Stateless implements Module {
  training = true;
  abstract forward(x: Tensor): Tensor;
  parameters(): Tensor[] { return []; }
  namedParameters(): [string, Tensor][] { return []; }
  train(on: boolean): void { this.training = on; }
}
