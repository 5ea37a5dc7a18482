import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HashNet } from '../../../src/methods/parts/hash-net.js';
import { Tensor } from '../../../src/tensor/tensor.js';
import { Rng } from '../../../src/util/rng.js';
import { LabelCodebook, labelWidth, refineNewCodes } from '../../../src/methods/parts/label-network.js';

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

test('label-net growth with an rng: random new rows, old label vectors still keep their outputs exactly', () => {
  const net = new HashNet(3, 8, 8, new Rng(5));
  const x = Float32Array.from([1, 0, 0, 0, 1, 1]);
  const before = net.forward(Tensor.wrap(2, 3, x)).data.slice();
  net.growInput(5, new Rng(9));
  const padded = Float32Array.from([1, 0, 0, 0, 0, 0, 1, 1, 0, 0]);
  assert.deepEqual(Array.from(net.forward(Tensor.wrap(2, 5, padded)).data), Array.from(before));
  // new classes 3 and 4 no longer start at the same output (zero rows would make them identical)
  const a = net.forward(Tensor.wrap(1, 5, Float32Array.from([0, 0, 0, 1, 0]))).data;
  const b = net.forward(Tensor.wrap(1, 5, Float32Array.from([0, 0, 0, 0, 1]))).data;
  assert.notDeepEqual(Array.from(a), Array.from(b));
});

test('refineNewCodes separates colliding new codes, never touches stored codes, lowers the pairwise loss', () => {
  const c = 16;
  const book = new LabelCodebook();
  const r = new Rng(2);
  for (const k of ['0', '1', '2']) book.add(k, Float32Array.from({ length: c }, () => (r.uniform() < 0.5 ? -1 : 1)));
  const stored = book.codes.map((b) => b.slice());
  // two new single-class vectors proposed with the same code as each other and as stored class 0
  const fresh = [book.codes[0]!.slice(), book.codes[0]!.slice()];
  const ham = (a: Float32Array, b: Float32Array) => a.reduce((s, v, i) => s + (v !== b[i] ? 1 : 0), 0);
  const flips = refineNewCodes(['3', '4'], fresh, book);
  assert.ok(flips > 0);
  assert.deepEqual(book.codes.map((b) => Array.from(b)), stored.map((b) => Array.from(b)), 'stored codes unchanged');
  // all classes are unrelated (S = 0): every code should end well apart from every other
  const all = [...fresh, ...book.codes];
  for (let i = 0; i < all.length; i++) for (let j = i + 1; j < all.length; j++) {
    if (i >= 2 && j >= 2) continue; // stored vs stored is not refined
    assert.ok(ham(all[i]!, all[j]!) >= 6, `codes ${i},${j} at Hamming ${ham(all[i]!, all[j]!)}`);
  }
  // a multi-label vector sharing class 0 stays closer to class 0 than to an unrelated class
  const multi = [book.codes[1]!.slice()];
  refineNewCodes(['0,5'], multi, book);
  assert.ok(ham(multi[0]!, book.codes[0]!) < ham(multi[0]!, book.codes[1]!));
});

test('labelWidth is 1 + the largest class id, however many keys share it', () => {
  assert.equal(labelWidth(['0', '0', '0', '0']), 1);
  assert.equal(labelWidth(['3,7', '1', '', '7']), 8);
  assert.equal(labelWidth([]), 1);
});
