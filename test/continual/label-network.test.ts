import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HashNet } from '../../src/continual/hash-net.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { Rng } from '../../src/util/rng.js';

test('label-net growth keeps every old label vector\'s output unchanged at init', () => {
  const net = new HashNet(4, 16, 8, new Rng(3));
  const x = new Float32Array(5 * 4);
  new Rng(1).fillUniform(x);
  for (let i = 0; i < x.length; i++) x[i] = x[i]! > 0.5 ? 1 : 0;
  const before = net.forward(Tensor.wrap(5, 4, x)).data.slice();
  net.growInput(7);
  assert.equal(net.inDim, 7);
  const padded = new Float32Array(5 * 7);
  for (let i = 0; i < 5; i++) padded.set(x.subarray(i * 4, i * 4 + 4), i * 7);
  const after = net.forward(Tensor.wrap(5, 7, padded)).data;
  assert.deepEqual(Array.from(after), Array.from(before));
  // the new columns start at zero and are trainable
  const w = net.l1.weight;
  for (let r = 4; r < 7; r++) for (let c = 0; c < 16; c++) assert.equal(w.data[r * 16 + c], 0);
  assert.ok(w.requiresGrad);
  assert.throws(() => net.growInput(3), /cannot shrink/);
});
