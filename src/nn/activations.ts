// Parameter-free activation layers.
import type { Tensor } from '../tensor/tensor.js';
import { relu, tanh, sigmoid } from '../tensor/ops-elementwise.js';
import { Stateless } from './module.js';

export class ReLU extends Stateless { forward(x: Tensor): Tensor { return relu(x); } }
export class Tanh extends Stateless { forward(x: Tensor): Tensor { return tanh(x); } }
export class Sigmoid extends Stateless { forward(x: Tensor): Tensor { return sigmoid(x); } }
