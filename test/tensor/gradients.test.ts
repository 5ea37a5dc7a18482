// Every op's gradient against central finite differences in float64 on random inputs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/util/rng.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { gradCheck } from '../../src/tensor/gradcheck.js';
import * as O from '../../src/tensor/ops.js';

type Init = 'normal' | 'positive' | 'awayFromZero';

function input(rng: Rng, rows: number, cols: number, init: Init = 'normal'): Tensor {
  const t = Tensor.zeros(rows, cols, { dtype: 'f64', requiresGrad: true });
  for (let i = 0; i < t.size; i++) {
    const v = rng.normal();
    t.data[i] = init === 'positive' ? 0.5 + Math.abs(v) : init === 'awayFromZero' ? (v < 0 ? v - 0.3 : v + 0.3) : v;
  }
  return t;
}

function check(name: string, fn: (xs: Tensor[]) => Tensor, shapes: [number, number, Init?][], tol = 1e-6): void {
  test(`gradient: ${name}`, () => {
    const rng = new Rng(name.length * 7919 + 17);
    const xs = shapes.map(([r, c, init]) => input(rng, r, c, init));
    const res = gradCheck(fn, xs);
    assert.ok(res.ok, `${name}: max relative error ${res.maxRelErr} at ${JSON.stringify(res.worst)}`);
  });
}

// matmul, every transpose combination, odd shapes
for (const tA of [false, true]) {
  for (const tB of [false, true]) {
    const m = 3, k = 5, n = 4;
    check(`matmul transA=${tA} transB=${tB}`, ([a, b]) => O.matmul(a!, b!, tA, tB),
      [tA ? [k, m] : [m, k], tB ? [n, k] : [k, n]]);
  }
}
check('matmul same tensor twice (aᵀa)', ([a]) => O.matmul(a!, a!, true, false), [[4, 3]]);
check('affine with bias', ([x, w, b]) => O.affine(x!, w!, b!), [[5, 3], [3, 4], [1, 4]]);
check('affine without bias', ([x, w]) => O.affine(x!, w!, null), [[5, 3], [3, 4]]);
check('affineRelu with bias', ([x, w, b]) => O.affineRelu(x!, w!, b!), [[6, 3], [3, 5], [1, 5]]);
check('affineRelu without bias', ([x, w]) => O.affineRelu(x!, w!, null), [[6, 3], [3, 5]]);
// its output feeding two ops: the masked gradient is the sum of both consumers' gradients
check('affineRelu output used twice', ([x, w, b]) => { const h = O.affineRelu(x!, w!, b!); return O.add(O.mul(h, h), h); }, [[4, 3], [3, 5], [1, 5]]);

// binary ops with every broadcast form
const bshapes: [string, [number, number, Init?], [number, number, Init?]][] = [
  ['same', [3, 4], [3, 4]], ['row', [3, 4], [1, 4]], ['col', [3, 4], [3, 1]], ['scalar', [3, 4], [1, 1]],
  ['a broadcast row', [1, 4], [3, 4]], ['outer', [3, 1], [1, 4]],
];
for (const [bn, sa, sb] of bshapes) {
  check(`add ${bn}`, ([a, b]) => O.add(a!, b!), [sa, sb]);
  check(`sub ${bn}`, ([a, b]) => O.sub(a!, b!), [sa, sb]);
  check(`mul ${bn}`, ([a, b]) => O.mul(a!, b!), [sa, sb]);
  check(`div ${bn}`, ([a, b]) => O.div(a!, b!), [sa, [sb[0], sb[1], 'awayFromZero']]);
}

// scalar and unary ops
check('addScalar', ([a]) => O.addScalar(a!, 1.7), [[3, 5]]);
check('mulScalar', ([a]) => O.mulScalar(a!, -2.3), [[3, 5]]);
check('powScalar 3', ([a]) => O.powScalar(a!, 3), [[3, 5]]);
check('powScalar 0.7 (positive)', ([a]) => O.powScalar(a!, 0.7), [[3, 5, 'positive']]);
check('powScalar -2 (positive)', ([a]) => O.powScalar(a!, -2), [[3, 5, 'positive']]);
check('neg', ([a]) => O.neg(a!), [[3, 5]]);
check('square', ([a]) => O.square(a!), [[3, 5]]);
check('sqrt', ([a]) => O.sqrt(a!), [[3, 5, 'positive']]);
check('abs', ([a]) => O.abs(a!), [[3, 5, 'awayFromZero']]);
check('tanh', ([a]) => O.tanh(a!), [[3, 5]]);
check('sigmoid', ([a]) => O.sigmoid(a!), [[3, 5]]);
check('relu', ([a]) => O.relu(a!), [[3, 5, 'awayFromZero']]);
check('softplus', ([a]) => O.softplus(O.mulScalar(a!, 4)), [[3, 5]]);
check('logSigmoid', ([a]) => O.logSigmoid(O.mulScalar(a!, 4)), [[3, 5]]);
check('exp', ([a]) => O.exp(a!), [[3, 5]]);
check('log', ([a]) => O.log(a!), [[3, 5, 'positive']]);
check('clamp', ([a]) => O.clamp(a!, -0.55, 0.65), [[4, 5]]);

// reductions and normalisation
check('sum all', ([a]) => O.sum(a!), [[3, 5]]);
check('sum axis 0', ([a]) => O.sum(a!, 0), [[3, 5]]);
check('sum axis 1', ([a]) => O.sum(a!, 1), [[3, 5]]);
check('mean all', ([a]) => O.mean(a!), [[3, 5]]);
check('mean axis 0', ([a]) => O.mean(a!, 0), [[3, 5]]);
check('mean axis 1', ([a]) => O.mean(a!, 1), [[3, 5]]);
check('sumSquares', ([a]) => O.sumSquares(a!), [[3, 5]]);
check('l2NormalizeRows', ([a]) => O.l2NormalizeRows(a!), [[4, 5]]);
check('cosineSimilarity', ([a, b]) => O.cosineSimilarity(a!, b!), [[4, 5], [3, 5]]);
check('cosineSimilarity self', ([a]) => O.cosineSimilarity(a!, a!), [[4, 5]]);

// shape ops
check('gatherRows with repeats', ([a]) => O.gatherRows(a!, [2, 0, 2, 3]), [[4, 3]]);
check('concatCols', ([a, b, c]) => O.concatCols([a!, b!, c!]), [[3, 2], [3, 4], [3, 1]]);
check('concatRows', ([a, b]) => O.concatRows([a!, b!]), [[2, 3], [4, 3]]);
check('sliceCols', ([a]) => O.sliceCols(a!, 1, 4), [[3, 5]]);
check('sliceRows', ([a]) => O.sliceRows(a!, 1, 3), [[4, 2]]);
check('transpose', ([a]) => O.transpose(a!), [[3, 5]]);
check('dropout (fixed mask)', ([a]) => O.dropout(a!, 0.4, new Rng(3), true), [[4, 5]]);

// the building blocks of the methods' losses, composed
check('DCMH-style likelihood: Σ(S⊙Θ − softplus(Θ)), Θ = ½FGᵀ', ([f, g, s]) => {
  const theta = O.mulScalar(O.matmul(f!, g!, false, true), 0.5);
  return O.sum(O.sub(O.mul(s!, theta), O.softplus(theta)));
}, [[4, 3], [5, 3], [4, 5]]);
check('balance + quantisation: ‖B − F‖² + ‖Fᵀ1‖²', ([f, b]) =>
  O.add(O.sumSquares(O.sub(b!, f!)), O.sumSquares(O.sum(f!, 0))), [[4, 3], [4, 3]]);
check('cosine-label loss: mean((relu(cos(H,H)) − S)²)', ([h, s]) =>
  O.mean(O.square(O.sub(O.relu(O.cosineSimilarity(h!, h!)), s!))), [[4, 6], [4, 4]]);
check('logSigmoid pairwise: mean(logσ(HHᵀ))', ([h]) => O.mean(O.logSigmoid(O.matmul(h!, h!, false, true))), [[4, 3]]);

test('sign: forward ±1 with sign(0) = +1, straight-through gradient', () => {
  const a = Tensor.fromArray(1, 4, [-2, 0, 0.5, -0.1], { requiresGrad: true });
  const s = O.sign(a);
  assert.deepEqual(Array.from(s.data), [-1, 1, 1, -1]);
  O.sum(O.mulScalar(s, 3)).backward();
  assert.deepEqual(Array.from(a.grad!), [3, 3, 3, 3]);
});
