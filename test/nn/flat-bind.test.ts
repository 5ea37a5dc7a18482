// bindFlatGrad: backward passes accumulate straight into one flat vector (CCMH-GAM's projected
// increment steps), giving the same bits flatGrad would copy out, and restoreGrads undoes it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/util/rng.js';
import { Tensor } from '../../src/tensor/tensor.js';
import * as ops from '../../src/tensor/ops.js';
import { HashNet } from '../../src/methods/parts/hash-net.js';
import { bindFlatGrad, flatGrad, numel, restoreGrads } from '../../src/nn/flat.js';

function twoPasses(net: HashNet, x1: Tensor, x2: Tensor): void {
  ops.mean(ops.square(net.forward(x1))).backward();
  ops.mulScalar(ops.sum(net.forward(x2)), 0.3).backward(); // accumulates on top, as replay does
}

test('bindFlatGrad: gradients accumulate into the flat vector bit for bit, in place changes reach the parameters, restoreGrads undoes it', () => {
  const rng = new Rng(5);
  const x1 = Tensor.wrap(7, 6, Float32Array.from({ length: 42 }, () => rng.normal()));
  const x2 = Tensor.wrap(3, 6, Float32Array.from({ length: 18 }, () => rng.normal()));
  const a = new HashNet(6, 9, 4, new Rng(2)), b = new HashNet(6, 9, 4, new Rng(2));
  twoPasses(a, x1, x2);
  const expected = flatGrad(a.parameters());
  const params = b.parameters();
  const before = params.map((p) => p.grad);
  const vec = new Float32Array(numel(params));
  const saved = bindFlatGrad(params, vec);
  twoPasses(b, x1, x2);
  assert.deepEqual(Array.from(vec), Array.from(expected));
  vec[0] = 123; // a projection changes the vector in place: the parameter's gradient sees it
  assert.equal(params[0]!.grad![0], 123);
  restoreGrads(params, saved);
  params.forEach((p, i) => assert.equal(p.grad, before[i]));
  assert.throws(() => bindFlatGrad(params, new Float32Array(3)), /bindFlatGrad: vector has length 3/);
});
