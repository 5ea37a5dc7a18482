import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tinyPlan } from './fixture.js';
import { runContinual, sessionData } from '../../src/continual/runner.js';
import { sessionValidationSplit } from '../../src/methods/training-loop.js';
import { Dlcmh } from '../../src/methods/dlcmh.js';
import { loadCheckpoint } from '../../src/nn/checkpoint.js';

const train = { epochs: 4, updateEpochs: 2, labelSteps: 30, batchSize: 32, learningRate: 3e-3 };

// DLCMH's replay memory is a bounded reservoir of old items' features (the budget); stored codes stay
// frozen; the finetune variant keeps none; the memory survives a checkpoint round trip.
test('dlcmh replay memory stays within the budget, finetune keeps none, checkpoint keeps it', async () => {
  const plan = tinyPlan({ n: 360 });
  const h = new Dlcmh({ bits: 16, hidden: 32, labelHidden: 16, budget: 60 });
  const { json } = await runContinual(h, plan, { bits: 16, seed: 2, train });
  assert.deepEqual(json.sessions.map((s) => s.memory_items), [60, 60, 60]);
  for (const s of json.sessions) assert.equal(s.stored_code_stability, 1);
  const ft = new Dlcmh({ bits: 16, hidden: 32, labelHidden: 16, budget: 60, lifelong: false });
  const r = await runContinual(ft, plan, { bits: 16, seed: 2, train });
  assert.deepEqual(r.json.sessions.map((s) => s.memory_items), [0, 0, 0]);

  const dir = mkdtempSync(join(tmpdir(), 'dlcmh-mem-'));
  try {
    h.save(join(dir, 'm.ckpt'));
    const back = Dlcmh.fromCheckpoint(loadCheckpoint(join(dir, 'm.ckpt')), 'm.ckpt');
    assert.equal(back.memoryItems(), 60);
    const x = plan.image.subarray(0, 5 * plan.imageDim);
    assert.deepEqual(back.encode('image', x, 5).values, h.encode('image', x, 5).values);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('dlcmh replay memory never holds the held-out validation rows of any session', async () => {
  const plan = tinyPlan({ n: 360 });
  const h = new Dlcmh({ bits: 16, hidden: 32, labelHidden: 16, budget: 1000 });
  await runContinual(h, plan, { bits: 16, seed: 2, train });
  const held = new Set<number>();
  let base = 0;
  for (let t = 0; t < plan.sessions.length; t++) {
    const split = sessionValidationSplit(sessionData(plan, t), t, 2);
    assert.ok(split && split.validationIdx.length > 0);
    for (const i of split.validationIdx) held.add(base + i);
    base += plan.sessions[t]!.trainRows.length;
  }
  const rows = Array.from((h as unknown as { memRows: Int32Array }).memRows);
  assert.equal(rows.length, base - held.size, 'every training row fits the budget; held-out rows are left out');
  for (const r of rows) assert.ok(!held.has(r), `held-out stored row ${r} is in the replay memory`);
});
