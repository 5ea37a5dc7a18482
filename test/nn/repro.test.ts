// Reproducibility: the same seed gives the same weights and outputs bit for bit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/util/rng.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { mlp, ATanh, flatParams } from '../../src/nn/index.js';
import { trainToy } from './toy-task.js';

const bits = (a: Float32Array | Float64Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

test('same seed → identical initial weights and forward outputs (with dropout active)', () => {
  const build = (seed: number) => mlp([9, 13, 5], { rng: new Rng(seed), activation: 'tanh', dropout: 0.3, final: new ATanh(5, { mode: 'nonlinear' }) });
  const a = build(3), b = build(3), c = build(4);
  assert.deepEqual(bits(flatParams(a.parameters())), bits(flatParams(b.parameters())));
  assert.notDeepEqual(bits(flatParams(a.parameters())), bits(flatParams(c.parameters())));
  const x = Tensor.randn(6, 9, new Rng(1));
  assert.deepEqual(bits(a.forward(x).data), bits(b.forward(x).data));
});

test('same seed → identical training run; another seed differs', () => {
  const r1 = trainToy(11, 'linear', 30), r2 = trainToy(11, 'linear', 30), r3 = trainToy(12, 'linear', 30);
  assert.deepEqual(bits(r1.params), bits(r2.params));
  assert.deepEqual(r1.losses, r2.losses);
  assert.notDeepEqual(r1.losses, r3.losses);
});
