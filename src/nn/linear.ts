// Fully connected layer y = x·W + b with W stored in×out (so the forward pass is a plain,
// untransposed gemm over the batch) and b a 1×out row broadcast over the batch.
import { InputError } from '../util/errors.js';
import type { Rng } from '../util/rng.js';
import { Tensor } from '../tensor/tensor.js';
import { affine, affineRelu } from '../tensor/ops-matmul.js';
import type { Module } from './module.js';
import { initWeight, InitKind } from './init.js';

export interface LinearOpts { rng: Rng; init?: InitKind; std?: number; bias?: boolean; dtype?: 'f32' | 'f64' }

export class Linear implements Module {
  readonly inDim: number;
  readonly outDim: number;
  weight: Tensor;
  bias: Tensor | null;
  training = true;

  constructor(inDim: number, outDim: number, opts: LinearOpts) {
    if (!(Number.isInteger(inDim) && inDim > 0 && Number.isInteger(outDim) && outDim > 0)) {
      throw new InputError(`Linear: dimensions must be positive integers, got ${inDim}→${outDim}`);
    }
    this.inDim = inDim; this.outDim = outDim;
    const dtype = opts.dtype ?? 'f32';
    this.weight = Tensor.zeros(inDim, outDim, { requiresGrad: true, dtype });
    initWeight(this.weight.data, inDim, outDim, opts.init ?? 'xavier', opts.rng, opts.std);
    this.bias = opts.bias === false ? null : Tensor.zeros(1, outDim, { requiresGrad: true, dtype });
  }

  forward(x: Tensor): Tensor {
    this.checkInput('forward', x);
    return affine(x, this.weight, this.bias);
  }

  /** relu(forward(x)) as one op (ops-matmul.ts affineRelu): the same values, less memory traffic. */
  forwardRelu(x: Tensor): Tensor {
    this.checkInput('forwardRelu', x);
    return affineRelu(x, this.weight, this.bias);
  }

  private checkInput(fn: string, x: Tensor): void {
    if (x.cols !== this.inDim) {
      throw new InputError(`Linear.${fn}: input has ${x.cols} columns, expected ${this.inDim} (shape [${x.rows}×${x.cols}] vs weight [${this.inDim}×${this.outDim}])`);
    }
  }

  parameters(): Tensor[] { return this.bias ? [this.weight, this.bias] : [this.weight]; }
  namedParameters(): [string, Tensor][] {
    return this.bias ? [['weight', this.weight], ['bias', this.bias]] : [['weight', this.weight]];
  }
  train(on: boolean): void { this.training = on; }
}
