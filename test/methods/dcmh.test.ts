import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Dcmh, dcmhBatchLoss, DCMH_DEFAULT_ETA } from '../../src/methods/dcmh.js';
import { loadHasher } from '../../src/methods/registry.js';
import { evaluateCrossModal } from '../../src/methods/evaluate.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { Rng } from '../../src/util/rng.js';
import { InputError } from '../../src/util/errors.js';
import { tinyData } from './fixture.js';
import { chanceMap } from './chance.js';

const train = tinyData(320, 1), val = tinyData(64, 2), query = tinyData(80, 3);
const opts = { bits: 16, epochs: 12, learningRate: 3e-3, seed: 7 };

test('DCMH loss gradient equals the paper closed form ½Σ(σ(Θ)−S)G + 2γ(F−B) + 2η·F·1, over n·m', () => {
  const rng = new Rng(3), m = 5, n = 9, c = 6, gamma = 0.7, eta = 1.3;
  const out = Tensor.randn(m, c, rng, 1, { requiresGrad: true, dtype: 'f64' });
  const other = Tensor.randn(n, c, rng, 1, { dtype: 'f64' });
  const S = Tensor.fromArray(m, n, Array.from({ length: m * n }, () => (rng.uniform() < 0.4 ? 1 : 0)), { dtype: 'f64' });
  const B = Tensor.fromArray(m, c, Array.from({ length: m * c }, () => (rng.uniform() < 0.5 ? 1 : -1)), { dtype: 'f64' });
  const rest = Tensor.randn(1, c, rng, 1, { dtype: 'f64' });
  dcmhBatchLoss(out, other, S, B, rest, gamma, eta, n).loss.backward();
  const colSum = new Float64Array(c);
  for (let k = 0; k < c; k++) { colSum[k] = rest.data[k]!; for (let i = 0; i < m; i++) colSum[k]! += out.data[i * c + k]!; }
  for (let i = 0; i < m; i++) {
    for (let k = 0; k < c; k++) {
      let g = 0;
      for (let j = 0; j < n; j++) {
        let th = 0;
        for (let l = 0; l < c; l++) th += out.data[i * c + l]! * other.data[j * c + l]!;
        th *= 0.5;
        g += 0.5 * (1 / (1 + Math.exp(-th)) - S.data[i * n + j]!) * other.data[j * c + k]!;
      }
      g += 2 * gamma * (out.data[i * c + k]! - B.data[i * c + k]!) + 2 * eta * colSum[k]!;
      assert.ok(Math.abs(out.grad![i * c + k]! - g / (n * m)) < 1e-9, `grad[${i},${k}] ${out.grad![i * c + k]} vs ${g / (n * m)}`);
    }
  }
});

test('DCMH beats chance clearly on synthetic data, keeps a validation-selected epoch, reports progress', async () => {
  const h = new Dcmh({ bits: 16, hidden: 64 });
  const seen: number[] = [];
  await h.fit(train, { ...opts, validation: val, onProgress: (p) => { seen.push(p.epoch); assert.ok(p.validation); assert.ok(Number.isFinite(p.loss.nll!)); } });
  assert.deepEqual(seen, Array.from({ length: 12 }, (_, i) => i + 1));
  const r = evaluateCrossModal(h, query, train);
  const chance = chanceMap(query, train);
  assert.ok(r.map_all.i2t > chance + 0.2 && r.map_all.t2i > chance + 0.2, `mAP ${JSON.stringify(r.map_all)} vs chance ${chance.toFixed(3)}`);
  assert.ok(h.lastFit && h.lastFit.bestEpoch >= 1 && h.lastFit.bestScore! > chance);
  const B = h.databaseCodes()!;
  assert.equal(B.length, train.n * 16);
  assert.ok(B.every((v) => v === 1 || v === -1));
});

test('DCMH: same seed → same codes; save/load round trip gives identical codes; bad inputs are clear errors', async () => {
  const a = new Dcmh({ bits: 16, hidden: 32 }), b = new Dcmh({ bits: 16, hidden: 32 });
  const short = { ...opts, epochs: 2 };
  await a.fit(train, short); await b.fit(train, short);
  assert.deepEqual(a.encode('image', query.image, query.n).values, b.encode('image', query.image, query.n).values);
  const dir = mkdtempSync(join(tmpdir(), 'cmhash-dcmh-'));
  try {
    a.save(join(dir, 'm.ckpt'));
    const l = loadHasher(join(dir, 'm.ckpt'), { method: 'dcmh', bits: 16 });
    assert.equal(l.method, 'dcmh'); assert.equal(l.bits, 16); assert.equal(l.modelVersion, 1);
    for (const mod of ['image', 'text'] as const) {
      const f = mod === 'image' ? query.image : query.text;
      assert.deepEqual(l.encode(mod, f, query.n).values, a.encode(mod, f, query.n).values);
    }
    assert.equal(l.trainInfo?.seed, 7);
    assert.throws(() => l.encode('image', new Float32Array(query.n * 25), query.n), (e: Error) => e instanceof InputError && /width 24.*got width 25/.test(e.message));
    assert.throws(() => l.encode('text', query.image, query.n), /text features of width 12/);
    assert.throws(() => loadHasher(join(dir, 'm.ckpt'), { bits: 32 }), /makes 16-bit codes, expected 32 bits/);
    assert.throws(() => loadHasher(join(dir, 'm.ckpt'), { method: 'dbrc' }), /dcmh checkpoint, expected a dbrc model/);
  } finally { rmSync(dir, { recursive: true, force: true }); }
  assert.throws(() => new Dcmh({ bits: 12 }), /multiple of 8/);
  await assert.rejects(new Dcmh({ bits: 16, hidden: 8 }).fit({ ...train, numClasses: 0, labels: new Uint8Array(0) }, opts), /supervised/);
  await assert.rejects(new Dcmh({ bits: 16, hidden: 8 }).fit({ ...train, textDim: 11 }, opts), /text has 3840 values, expected n × textDim/);
});

test('DCMH default η is the validation-chosen 0.01 (the paper\'s 1 does not learn on real features), γ stays 1', async () => {
  assert.equal(DCMH_DEFAULT_ETA, 0.01);
  const a = new Dcmh({ bits: 8, hidden: 16 }), b = new Dcmh({ bits: 8, hidden: 16 }), c = new Dcmh({ bits: 8, hidden: 16 });
  await a.fit(train, { bits: 8, epochs: 2, seed: 1 });
  await b.fit(train, { bits: 8, epochs: 2, seed: 1, eta: 0.01, gamma: 1 });
  await c.fit(train, { bits: 8, epochs: 2, seed: 1, eta: 1 });
  assert.deepEqual(a.encode('text', query.text, query.n).values, b.encode('text', query.text, query.n).values);
  assert.notDeepEqual(a.encode('text', query.text, query.n).values, c.encode('text', query.text, query.n).values);
});
