import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tinyPlan } from './fixture.js';
import { runContinual, validationRows } from '../../src/continual/runner.js';
import { createContinualHasher as createContinualMethod } from '../../src/methods/registry.js';

test('validation rows: a seeded ~10% of each session\'s training rows; every session reports a validation mAP', async () => {
  const plan = tinyPlan();
  for (let t = 0; t < plan.sessions.length; t++) {
    const v = validationRows(plan, t, 4);
    const train = new Set(plan.sessions[t]!.trainRows);
    assert.ok(v.length >= 1 && v.length === Math.round(plan.sessions[t]!.trainRows.length * 0.1));
    for (const r of v) assert.ok(train.has(r), 'held-out rows come from the session\'s training rows');
    assert.deepEqual(validationRows(plan, t, 4), v, 'deterministic');
    for (const r of v) assert.ok(!new Set(plan.queryRows).has(r), 'never a query item');
  }
  const h = createContinualMethod('dlcmh', { bits: 16, hidden: 32, budget: 200 });
  const { detail } = await runContinual(h, plan, { bits: 16, seed: 4, train: { epochs: 3, updateEpochs: 2, batchSize: 64 } });
  for (const s of detail.per_session) {
    const m = s.validation_map!;
    assert.ok(m.i2t > 0 && m.i2t <= 1 && m.t2i > 0 && m.t2i <= 1, JSON.stringify(m));
  }
});
