// The output rotation of DCMH and DBRC (`codeRotation`, parts/code-rotation.ts): an ITQ rotation of the
// trained nets' outputs, folded into their last linear layers. No gradient is involved (it is fitted
// after training, by ITQ's alternating sign / polar steps); these tests pin the fold, the rotation,
// the 'auto' choice on the validation split and the checkpoint.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Dcmh } from '../../src/methods/dcmh.js';
import { Dbrc } from '../../src/methods/dbrc.js';
import { loadHasher } from '../../src/methods/registry.js';
import { crossModalMap } from '../../src/methods/evaluate.js';
import { selectionScore } from '../../src/methods/training-loop.js';
import { fitOutputRotation, foldOutputRotation } from '../../src/methods/parts/code-rotation.js';
import { LinearPlusNet } from '../../src/methods/parts/hash-net.js';
import { mlp } from '../../src/nn/mlp.js';
import { Tensor, noGrad } from '../../src/tensor/tensor.js';
import type { Module } from '../../src/nn/module.js';
import { Rng } from '../../src/util/rng.js';
import { tinyData } from './fixture.js';

const train = tinyData(240, 1), validation = tinyData(60, 2), query = tinyData(40, 3);

function randomRotation(c: number, rng: Rng): Float32Array {
  // Gram–Schmidt of a Gaussian matrix (columns orthonormal).
  const R = Float64Array.from({ length: c * c }, () => rng.normal());
  for (let j = 0; j < c; j++) {
    for (let p = 0; p < j; p++) {
      let d = 0; for (let i = 0; i < c; i++) d += R[i * c + j]! * R[i * c + p]!;
      for (let i = 0; i < c; i++) R[i * c + j] -= d * R[i * c + p]!;
    }
    let s = 0; for (let i = 0; i < c; i++) s += R[i * c + j]! ** 2;
    for (let i = 0; i < c; i++) R[i * c + j] /= Math.sqrt(s);
  }
  return Float32Array.from(R);
}

const run = (m: Module, x: Float32Array, rows: number, d: number) => noGrad(() => Float32Array.from(m.forward(Tensor.wrap(rows, d, x)).data));

test('foldOutputRotation: the folded net computes (out − μ)·R, for an MLP and for an MLP with a linear branch', () => {
  const rng = new Rng(5), d = 7, c = 6, rows = 9;
  const x = Float32Array.from({ length: rows * d }, () => rng.normal());
  const mean = Float32Array.from({ length: c }, () => rng.normal());
  const R = randomRotation(c, rng);
  for (const net of [mlp([d, 5, c], { rng: rng.fork(), activation: 'relu' }), new LinearPlusNet(d, c, mlp([d, 5, c], { rng: rng.fork(), activation: 'relu' }), rng.fork())] as Module[]) {
    const before = run(net, x, rows, d);
    foldOutputRotation(net, mean, R);
    const after = run(net, x, rows, d);
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < c; j++) {
        let e = 0; for (let k = 0; k < c; k++) e += (before[r * c + k]! - mean[k]!) * R[k * c + j]!;
        assert.ok(Math.abs(after[r * c + j]! - e) < 1e-4, `row ${r} bit ${j}: ${after[r * c + j]} vs ${e}`);
      }
    }
  }
});

test('fitOutputRotation: R is orthogonal, ITQ lowers the quantisation error of its start, centring zeroes the rotated means', () => {
  const rng = new Rng(8), n = 200, c = 8;
  // Outputs with an offset and correlated bits (a skewed cloud), as a trained net gives.
  const mix = Float32Array.from({ length: c * c }, () => rng.normal());
  const make = () => { const v = new Float32Array(n * c); for (let r = 0; r < n; r++) { const z = Array.from({ length: c }, () => rng.normal()); for (let j = 0; j < c; j++) { let s = 0.7; for (let k = 0; k < c; k++) s += z[k]! * mix[k * c + j]!; v[r * c + j] = s; } } return v; };
  const a = make(), b = make();
  const none = fitOutputRotation(a, b, n, c, true, 1, 0), itq = fitOutputRotation(a, b, n, c, true, 1, 50);
  assert.ok(itq.quantization < none.quantization - 1e-3, `${itq.quantization} vs ${none.quantization}`);
  const R = itq.rotation;
  for (let i = 0; i < c; i++) for (let j = 0; j < c; j++) {
    let s = 0; for (let k = 0; k < c; k++) s += R[k * c + i]! * R[k * c + j]!;
    assert.ok(Math.abs(s - (i === j ? 1 : 0)) < 1e-4);
  }
  for (let j = 0; j < c; j++) {
    let m = 0; for (let r = 0; r < n; r++) m += a[r * c + j]!; m /= n;
    assert.ok(Math.abs(m - itq.imageMean[j]!) < 1e-4);
  }
  const raw = fitOutputRotation(a, b, n, c, false, 1, 50);
  assert.deepEqual(Array.from(raw.imageMean), new Array(c).fill(0));
});

test('DCMH codeRotation itq keeps every image·text inner product of the trained outputs and changes the codes; B follows the rotated outputs', async () => {
  const plain = new Dcmh({ bits: 16, hidden: 32 }), rot = new Dcmh({ bits: 16, hidden: 32 });
  await plain.fit(train, { bits: 16, epochs: 3, seed: 4 });
  await rot.fit(train, { bits: 16, epochs: 3, seed: 4, codeRotation: 'itq' });
  assert.equal(rot.rotation?.chosen, 'itq');
  const f0 = plain.encode('image', query.image, query.n).values, g0 = plain.encode('text', query.text, query.n).values;
  const f1 = rot.encode('image', query.image, query.n).values, g1 = rot.encode('text', query.text, query.n).values;
  const c = 16;
  for (let i = 0; i < 10; i++) for (let j = 0; j < 10; j++) {
    let a = 0, b = 0;
    for (let k = 0; k < c; k++) { a += f0[i * c + k]! * g0[j * c + k]!; b += f1[i * c + k]! * g1[j * c + k]!; }
    assert.ok(Math.abs(a - b) < 1e-3 * (1 + Math.abs(a)), `${a} vs ${b}`);
  }
  assert.notDeepEqual(Array.from(f1, Math.sign), Array.from(f0, Math.sign));
  const F = rot.encode('image', train.image, train.n).values, G = rot.encode('text', train.text, train.n).values;
  const B = rot.databaseCodes()!;
  for (let i = 0; i < B.length; i++) assert.equal(B[i], F[i]! + G[i]! >= 0 ? 1 : -1);
});

test('DCMH codeRotation itq-centred balances the training items\' output means to zero and survives a checkpoint', async () => {
  const m = new Dcmh({ bits: 8, hidden: 16 });
  await m.fit(train, { bits: 8, epochs: 2, seed: 2, codeRotation: 'itq-centred', imageSkip: true });
  const F = m.encode('image', train.image, train.n).values;
  for (let j = 0; j < 8; j++) { let s = 0; for (let r = 0; r < train.n; r++) s += F[r * 8 + j]!; assert.ok(Math.abs(s / train.n) < 1e-3); }
  const dir = mkdtempSync(join(tmpdir(), 'cmhash-dcmh-rot-'));
  try {
    m.save(join(dir, 'm.ckpt'));
    const l = loadHasher(join(dir, 'm.ckpt'), { method: 'dcmh', bits: 8 });
    for (const mod of ['image', 'text'] as const) {
      const f = mod === 'image' ? query.image : query.text;
      assert.deepEqual(l.encode(mod, f, query.n).values, m.encode(mod, f, query.n).values);
    }
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

for (const method of ['dcmh', 'dbrc'] as const) {
  test(`${method} codeRotation auto keeps the form that scores best on the validation split, and is none without one`, async () => {
    const make = () => (method === 'dcmh' ? new Dcmh({ bits: 16, hidden: 32 }) : new Dbrc({ bits: 16, hidden: 32 }));
    const epochs = method === 'dcmh' ? 3 : 5;
    const auto = make();
    await auto.fit(train, { bits: 16, epochs, seed: 6, validation, codeRotation: 'auto' });
    const ch = auto.rotation!;
    assert.deepEqual(Object.keys(ch.scores).sort(), ['itq', 'itq-centred', 'none']);
    const score = selectionScore('mean');
    for (const v of Object.values(ch.scores)) assert.ok(score(ch.scores[ch.chosen]!) >= score(v!));
    // The model kept is the chosen form: the same codes and validation score as fitting that form.
    const same = make();
    await same.fit(train, { bits: 16, epochs, seed: 6, validation, codeRotation: ch.chosen });
    assert.deepEqual(auto.encode('image', query.image, query.n).values, same.encode('image', query.image, query.n).values);
    assert.deepEqual(crossModalMap(auto, validation, train), ch.scores[ch.chosen]);
    // Without a validation split: no rotation (the codes of the model without the option).
    const a = make(), b = make();
    await a.fit(train, { bits: 16, epochs: 2, seed: 6, codeRotation: 'auto' });
    await b.fit(train, { bits: 16, epochs: 2, seed: 6 });
    assert.equal(a.rotation!.chosen, 'none');
    assert.deepEqual(a.encode('text', query.text, query.n).values, b.encode('text', query.text, query.n).values);
    await assert.rejects(make().fit(train, { bits: 16, epochs: 1, codeRotation: 'pca' as never }), /codeRotation/);
  });
}

test('DBRC codeRotation itq: the codes are the signs of the rotated pathway outputs, and a checkpoint rebuilds them', async () => {
  const plain = new Dbrc({ bits: 8, hidden: 16 }), rot = new Dbrc({ bits: 8, hidden: 16 });
  await plain.fit(train, { bits: 8, epochs: 4, seed: 3 });
  await rot.fit(train, { bits: 8, epochs: 4, seed: 3, codeRotation: 'itq-centred' });
  assert.equal(rot.rotation?.chosen, 'itq-centred');
  assert.notDeepEqual(Array.from(rot.encode('image', query.image, query.n).values, Math.sign), Array.from(plain.encode('image', query.image, query.n).values, Math.sign));
  const dir = mkdtempSync(join(tmpdir(), 'cmhash-dbrc-rot-'));
  try {
    rot.save(join(dir, 'm.ckpt'));
    const l = loadHasher(join(dir, 'm.ckpt'), { method: 'dbrc', bits: 8 });
    assert.deepEqual(l.encode('text', query.text, query.n).values, rot.encode('text', query.text, query.n).values);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});
