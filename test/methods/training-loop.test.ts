import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  carveValidation, checkBits, checkFeatures, runEpochs, shuffledBatchCount, shuffledBatches, subsetTrainingData, columnStats, standardize,
} from '../../src/methods/training-loop.js';
import { createHasher, methodNames } from '../../src/methods/registry.js';
import { Rng } from '../../src/util/rng.js';
import { InputError } from '../../src/util/errors.js';
import { tinyData } from './fixture.js';

test('checkBits accepts multiples of 8 in [8, 1024] and names the bad value otherwise', () => {
  for (const b of [8, 16, 32, 64, 128, 1024]) assert.equal(checkBits(b), b);
  assert.equal(checkBits('64'), 64);
  for (const b of [0, 12, 63, 1032, -8, 16.5, 'x', NaN]) assert.throws(() => checkBits(b), (e: Error) => e instanceof InputError && e.message.includes(String(b)));
  assert.throws(() => createHasher('dcmh', { bits: 10 }), /multiple of 8.*got 10/);
  assert.throws(() => createHasher('nope', { bits: 16 }), /unknown method "nope" \(known: dcmh, dbrc/);
  assert.ok(methodNames().includes('dbrc'));
});

test('checkFeatures names modality, expected width and what arrived', () => {
  checkFeatures('m', 'image', new Float32Array(6), 2, 3);
  assert.throws(() => checkFeatures('m', 'image', new Float32Array(8), 2, 3), /image features of width 3 \(2 rows → 6 values\), got width 4/);
  assert.throws(() => checkFeatures('m', 'text', new Float32Array(7), 2, 3), /got 7 values/);
  assert.throws(() => checkFeatures('m', 'audio' as never, new Float32Array(6), 2, 3), /modality must be/);
});

test('carveValidation: disjoint, covers the data, deterministic from the seed', () => {
  const d = tinyData(50, 1);
  const a = carveValidation(d, 0.2, 9), b = carveValidation(d, 0.2, 9), c = carveValidation(d, 0.2, 10);
  assert.equal(a.validation.n, 10); assert.equal(a.train.n, 40);
  assert.deepEqual(a.validationIdx, b.validationIdx);
  assert.notDeepEqual(a.validationIdx, c.validationIdx);
  const all = new Set([...a.trainIdx, ...a.validationIdx]);
  assert.equal(all.size, 50);
  const r = a.validationIdx[3]!;
  assert.deepEqual(a.validation.image.subarray(3 * d.imageDim, 4 * d.imageDim), d.image.subarray(r * d.imageDim, (r + 1) * d.imageDim));
  assert.deepEqual(subsetTrainingData(d, [2]).labels, d.labels.subarray(2 * d.numClasses, 3 * d.numClasses));
  assert.throws(() => carveValidation(d, 1.5, 1), /fraction/);
});

test('shuffledBatches: every item once per epoch; a tiny tail is merged', () => {
  for (const [n, bs] of [[10, 4], [9, 4], [128, 128], [300, 128], [257, 128]] as const) {
    const batches = shuffledBatches(n, bs, new Rng(n));
    assert.equal(batches.length, shuffledBatchCount(n, bs));
    const seen = batches.flatMap((b) => Array.from(b)).sort((x, y) => x - y);
    assert.deepEqual(seen, Array.from({ length: n }, (_, i) => i));
    assert.ok(batches.every((b) => b.length >= 2));
  }
});

test('runEpochs keeps the best validation epoch, restores it, and stops after `patience`', async () => {
  const scores = [0.1, 0.5, 0.3, 0.2, 0.9];
  let state = 0; const restored: unknown[] = [];
  const fit = await runEpochs({
    epochs: 5, patience: 2,
    runEpoch: (e) => { state = e; return { loss: 1 / e }; },
    validate: () => ({ i2t: scores[state - 1]!, t2i: scores[state - 1]! }),
    snapshot: () => state,
    restore: (s) => { restored.push(s); state = s as number; },
  });
  assert.equal(fit.bestEpoch, 2); assert.equal(fit.epochsRun, 4); assert.equal(fit.stoppedEarly, true);
  assert.deepEqual(restored, [2]); assert.equal(state, 2);
  assert.equal(fit.history.filter((h) => h.improved).length, 2);
  const noVal = await runEpochs({ epochs: 3, runEpoch: () => ({ l: 1 }), snapshot: () => 0, restore: () => assert.fail('no restore without validation') });
  assert.equal(noVal.bestEpoch, 3); assert.equal(noVal.bestScore, null);
  await assert.rejects(runEpochs({ epochs: 3, runEpoch: () => ({ l: NaN }), snapshot: () => 0, restore: () => {} }), /diverged: loss term "l" is NaN at epoch 1/);
});

test('standardize uses training statistics; constant columns stay finite', () => {
  const x = Float32Array.from([1, 5, 3, 5]);
  const s = columnStats(x, 2, 2);
  const z = standardize(x, 2, s.mean, s.invStd);
  assert.deepEqual(Array.from(z), [-1, 0, 1, 0]);
});

test('columnStats: a column constant in the fitting rows is scaled like a typical column, not by 1/1e-6', async () => {
  const { columnStats, standardize } = await import('../../src/methods/training-loop.js');
  // column 0 varies (std 1), column 1 varies (std 2), column 2 is always 0, column 3 is always 5
  const x = Float32Array.from([1, 2, 0, 5, -1, -2, 0, 5, 1, 2, 0, 5, -1, -2, 0, 5]);
  const { mean, invStd } = columnStats(x, 4, 4);
  assert.deepEqual(Array.from(mean), [0, 0, 0, 5]);
  assert.ok(Math.abs(invStd[0]! - 1) < 1e-6 && Math.abs(invStd[1]! - 0.5) < 1e-6);
  // the median of the varying columns' stds (1 and 2 → the upper median, 2)
  assert.ok(Math.abs(invStd[2]! - 0.5) < 1e-6 && Math.abs(invStd[3]! - 0.5) < 1e-6, `constant columns: ${invStd[2]}, ${invStd[3]}`);
  // a later row with the unseen word present stays on the scale of the others (was 10⁶)
  const z = standardize(Float32Array.from([0, 0, 1, 5]), 4, mean, invStd);
  assert.ok(Math.abs(z[2]! - 0.5) < 1e-6 && z[3] === 0);
  // no varying column at all: unit scale
  assert.deepEqual(Array.from(columnStats(Float32Array.from([3, 3]), 2, 1).invStd), [1]);
});
