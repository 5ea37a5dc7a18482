// A small synthetic hashing task shared by the end-to-end and reproducibility tests: learn
// 8-bit codes sign(X·W_teacher) from 16-d inputs with a 2-layer MLP ending in ATanh.
import { Rng } from '../../src/util/rng.js';
import { Tensor } from '../../src/tensor/tensor.js';
import * as O from '../../src/tensor/ops.js';
import { mlp, ATanh, Adam, flatParams } from '../../src/nn/index.js';

export interface ToyResult { losses: number[]; params: Float32Array; codes: Float32Array }

export function trainToy(seed: number, mode: 'linear' | 'nonlinear', steps = 250): ToyResult {
  const rng = new Rng(seed);
  const n = 256, d = 16, bits = 8;
  const x = Tensor.randn(n, d, rng);
  const teacher = Tensor.randn(d, bits, rng);
  const y = O.noGrad(() => O.sign(O.matmul(x, teacher)));
  const at = new ATanh(bits, { mode });
  const net = mlp([d, 64, bits], { rng: rng.fork(), activation: 'relu', dropout: 0.05, final: at });
  const opt = new Adam(net.parameters(), { lr: 0.01 });
  const losses: number[] = [];
  for (let s = 0; s < steps; s++) {
    opt.zeroGrad();
    const h = net.forward(x);
    const fit = O.mean(O.square(O.sub(h, y)));
    const loss = O.add(fit, O.mulScalar(at.regularizer(), 1e-3));
    loss.backward();
    opt.step();
    losses.push(fit.item());
  }
  net.train(false);
  const codes = O.noGrad(() => O.sign(net.forward(x))).data as Float32Array;
  return { losses, params: flatParams(net.parameters()), codes };
}
