import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tinyPlan } from './fixture.js';
import { sessionData } from '../../src/continual/runner.js';
import { CcmhGam, epochsForSteps } from '../../src/methods/ccmh-gam.js';
import { Dlcmh } from '../../src/methods/dlcmh.js';

test('epochsForSteps raises epochs to reach the step floor, never lowers them', () => {
  assert.equal(epochsForSteps(30, 86, 128, 0), 30);      // off
  assert.equal(epochsForSteps(30, 86, 128, 300), 300);   // one batch per epoch
  assert.equal(epochsForSteps(30, 812, 128, 300), 43);   // 7 batches per epoch: ⌈300/7⌉
  assert.equal(epochsForSteps(30, 3000, 128, 300), 30);  // 24 batches × 30 epochs already ≥ 300
  assert.equal(epochsForSteps(4, 205, 128, 40), 20);     // 2 batches per epoch
  assert.equal(epochsForSteps(4, 0, 128, 40), 4);
});

test('ccmh-gam: minSteps / minUpdateSteps raise the epochs the modality nets run (base and increment)', async () => {
  const plan = tinyPlan();
  const s0 = sessionData(plan, 0), s1 = sessionData(plan, 1);
  const run = async (o: { minSteps?: number; minUpdateSteps?: number }) => {
    const m = new CcmhGam({ bits: 16, hidden: 16, labelHidden: 8 });
    await m.fit(s0, { bits: 16, seed: 1, epochs: 2, batchSize: 1024, labelSteps: 5, ...o });
    const base = m.lastFit!.epochsRun;
    await m.update(s1, { bits: 16, seed: 1, epochs: 2, updateEpochs: 2, batchSize: 1024, updateLabelSteps: 5, ...o });
    return [base, m.lastFit!.epochsRun];
  };
  assert.deepEqual(await run({}), [2, 2]);
  assert.deepEqual(await run({ minSteps: 7 }), [7, 2]);       // one batch per epoch: 7 epochs
  assert.deepEqual(await run({ minUpdateSteps: 5 }), [2, 5]);
});

test('dlcmh: minUpdateSteps raises the epochs of an increment (new + replayed items per epoch)', async () => {
  const plan = tinyPlan();
  const s0 = sessionData(plan, 0), s1 = sessionData(plan, 1);
  const run = async (minUpdateSteps?: number) => {
    const m = new Dlcmh({ bits: 16, hidden: 16, labelHidden: 8 });
    await m.fit(s0, { bits: 16, seed: 1, epochs: 2, batchSize: 4096, labelSteps: 5 });
    await m.update(s1, { bits: 16, seed: 1, updateEpochs: 2, batchSize: 4096, ...(minUpdateSteps !== undefined ? { minUpdateSteps } : {}) });
    return m.lastFit!.epochsRun;
  };
  assert.equal(await run(), 2);
  assert.equal(await run(6), 6); // one batch per epoch
});
