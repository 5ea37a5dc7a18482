import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Dbrc } from '../../src/methods/dbrc.js';
import { loadHasher } from '../../src/methods/registry.js';
import { evaluateCrossModal } from '../../src/methods/evaluate.js';
import { runDbrcAblation, quantizationError, flipShare } from '../../src/methods/ablation-dbrc.js';
import { InputError, CorruptDataError } from '../../src/util/errors.js';
import { tinyData } from './fixture.js';
import { chanceMap } from './chance.js';

const train = tinyData(320, 1), val = tinyData(64, 2), query = tinyData(80, 3);
const opts = { bits: 16, epochs: 25, seed: 5 };

test('DBRC (unsupervised) beats chance clearly on synthetic data with each code layer', async () => {
  const chance = chanceMap(query, train);
  for (const codeLayer of ['atanh-linear', 'atanh-nonlinear', 'tanh'] as const) {
    const h = new Dbrc({ bits: 16, hidden: 64, codeLayer });
    await h.fit(train, opts);
    const r = evaluateCrossModal(h, query, train);
    assert.ok(r.map_all.i2t > chance + 0.1 && r.map_all.t2i > chance + 0.1, `${codeLayer}: mAP ${JSON.stringify(r.map_all)} vs chance ${chance.toFixed(3)}`);
    if (codeLayer === 'tanh') assert.equal(h.alpha(), null); else assert.equal(h.alpha()!.length, 16);
  }
});

test('DBRC ignores labels: scrambled labels give the same codes (without validation)', async () => {
  const a = new Dbrc({ bits: 8, hidden: 16 }), b = new Dbrc({ bits: 8, hidden: 16 });
  await a.fit(train, { bits: 8, epochs: 2, seed: 3 });
  await b.fit({ ...train, labels: new Uint8Array(train.labels.length).fill(1) }, { bits: 8, epochs: 2, seed: 3 });
  assert.deepEqual(a.encode('text', query.text, query.n).values, b.encode('text', query.text, query.n).values);
});

test('DBRC: validation selection, seeds reproduce, save/load identical codes, clear errors', async () => {
  const a = new Dbrc({ bits: 16, hidden: 32, codeLayer: 'atanh-nonlinear' }), b = new Dbrc({ bits: 16, hidden: 32, codeLayer: 'atanh-nonlinear' });
  await a.fit(train, { ...opts, epochs: 4, validation: val, patience: 1 });
  await b.fit(train, { ...opts, epochs: 4, validation: val, patience: 1 });
  assert.ok(a.lastFit!.bestEpoch >= 1 && a.lastFit!.bestEpoch <= a.lastFit!.epochsRun);
  assert.equal(a.lastFit!.history.length, a.lastFit!.epochsRun);
  assert.deepEqual(a.encode('image', query.image, query.n).values, b.encode('image', query.image, query.n).values);
  const dir = mkdtempSync(join(tmpdir(), 'cmhash-dbrc-'));
  try {
    const p = join(dir, 'd.ckpt');
    a.save(p);
    const l = loadHasher(p);
    assert.ok(l instanceof Dbrc); assert.equal((l as Dbrc).codeLayer, 'atanh-nonlinear');
    for (const mod of ['image', 'text'] as const) {
      const f = mod === 'image' ? query.image : query.text;
      assert.deepEqual(l.encode(mod, f, query.n).values, a.encode(mod, f, query.n).values);
    }
    assert.throws(() => l.encode('image', new Float32Array(10 * 4096), 10), (e: Error) => e instanceof InputError && /image features of width 24/.test(e.message));
    assert.throws(() => loadHasher(p, { method: 'dcmh' }), /dbrc checkpoint, expected a dcmh model/);
    assert.throws(() => loadHasher(p, { bits: 64 }), /16-bit codes, expected 64 bits/);
    const bytes = readFileSync(p); bytes[bytes.length - 3] ^= 0xff; writeFileSync(join(dir, 'bad.ckpt'), bytes);
    assert.throws(() => loadHasher(join(dir, 'bad.ckpt')), CorruptDataError);
  } finally { rmSync(dir, { recursive: true, force: true }); }
  assert.throws(() => new Dbrc({ bits: 20 }), /multiple of 8/);
  assert.throws(() => new Dbrc({ bits: 16, codeLayer: 'relu' as never }), /codeLayer must be one of/);
  assert.throws(() => new Dbrc({ bits: 16 }).encode('image', query.image, query.n), /not been trained/);
  await assert.rejects(new Dbrc({ bits: 16 }).fit(train, { bits: 32 }), /differs/);
  await assert.rejects(new Dbrc({ bits: 16, hidden: 8 }).fit(train, { bits: 16, modalityDropout: [0, 0, 0] }), /modalityDropout/);
  const nan = { ...train, image: train.image.slice() }; nan.image[30] = NaN;
  await assert.rejects(new Dbrc({ bits: 16, hidden: 8 }).fit(nan, { bits: 16 }), /non-finite value NaN at row 1, column 6/);
});

test('ablation reports mAP, quantization error and bit flips per code layer', async () => {
  assert.equal(quantizationError(Float32Array.from([1, -1, 0.5, -0.5, 0])), (0 + 0 + 0.25 + 0.25 + 1) / 5);
  assert.equal(flipShare(Float32Array.from([1, -1, 0, 2]), Float32Array.from([1, 1, -0.1, 3])), 0.5);
  const rows = await runDbrcAblation({ train, query, database: train, bits: 8, seed: 1, hidden: 16, trainOptions: { epochs: 3 } });
  assert.deepEqual(rows.map((r) => r.variant), ['atanh-linear', 'atanh-nonlinear', 'tanh']);
  for (const r of rows) {
    assert.ok(r.quantization_error >= 0 && r.quantization_error <= 4);
    assert.ok(r.flip_share >= 0 && r.flip_share <= 1);
    assert.ok(r.map_all.i2t > 0 && r.map_50.t2i > 0);
  }
  assert.equal(rows[2]!.alpha_mean, 1);
});

test('DBRC agreement/balance/decorrelation terms: codes of the two modalities agree more and bits balance better than with them off', async () => {
  const stats = (h: Dbrc) => {
    const vi = h.encode('image', query.image, query.n).values, vt = h.encode('text', query.text, query.n).values;
    let agree = 0; for (let i = 0; i < vi.length; i++) if ((vi[i]! >= 0) === (vt[i]! >= 0)) agree++;
    let imbalance = 0;
    for (let j = 0; j < 16; j++) { let s = 0; for (let r = 0; r < query.n; r++) s += vi[r * 16 + j]! >= 0 ? 1 : -1; imbalance += Math.abs(s) / query.n / 16; }
    return { agree: agree / vi.length, imbalance };
  };
  const on = new Dbrc({ bits: 16, hidden: 32 }), off = new Dbrc({ bits: 16, hidden: 32 });
  await on.fit(train, { bits: 16, epochs: 12, seed: 2 });
  await off.fit(train, { bits: 16, epochs: 12, seed: 2, agreement: 0, balance: 0, decorrelation: 0 });
  const a = stats(on), b = stats(off);
  assert.ok(a.agree > b.agree, `agreement with terms ${a.agree.toFixed(3)} vs without ${b.agree.toFixed(3)}`);
  assert.ok(a.imbalance < b.imbalance, `imbalance with terms ${a.imbalance.toFixed(3)} vs without ${b.imbalance.toFixed(3)}`);
  assert.ok(Number.isFinite(on.lastFit!.history.at(-1)!.loss.balance!) && Number.isFinite(on.lastFit!.history.at(-1)!.loss.decorrelation!));
});

test('DBRC image noise (denoising input) changes training, reproducibly; bad values are errors', async () => {
  const fit = async (imageNoise: number) => {
    const h = new Dbrc({ bits: 8, hidden: 16 });
    await h.fit(train, { bits: 8, epochs: 3, seed: 5, imageNoise });
    return Array.from(h.encode('image', query.image.subarray(0, 4 * query.imageDim), 4).values);
  };
  const clean = await fit(0), again = await fit(0), noisy = await fit(0.5);
  assert.deepEqual(again, clean, 'same seed, no noise: same model');
  assert.notDeepEqual(noisy, clean, 'noise changes what is learnt');
  assert.ok(noisy.every(Number.isFinite));
  await assert.rejects(new Dbrc({ bits: 8, hidden: 8 }).fit(train, { bits: 8, epochs: 1, imageNoise: -1 }), /option imageNoise must be ≥ 0, got -1/);
});
