// Dropout layer: inverted dropout while training, the identity in evaluation mode.
import { InputError } from '../util/errors.js';
import type { Rng } from '../util/rng.js';
import type { Tensor } from '../tensor/tensor.js';
import { dropout } from '../tensor/ops-shape.js';
import { Stateless } from './module.js';

export class Dropout extends Stateless {
  constructor(readonly p: number, private readonly rng: Rng) {
    super();
    if (!(p >= 0 && p < 1)) throw new InputError(`Dropout: p must be in [0, 1), got ${p}`);
  }
  forward(x: Tensor): Tensor { return dropout(x, this.p, this.rng, this.training); }
}
