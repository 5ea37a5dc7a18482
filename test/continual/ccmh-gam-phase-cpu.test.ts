import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tinyPlan } from './fixture.js';
import { sessionData } from '../../src/continual/runner.js';
import { CcmhGam } from '../../src/methods/ccmh-gam.js';

test('ccmh-gam: lastPhaseSeconds carries the CPU seconds of each phase and of the increment steps\' references, projection and replay', async () => {
  const plan = tinyPlan();
  const m = new CcmhGam({ bits: 16, hidden: 16, labelHidden: 8 });
  await m.fit(sessionData(plan, 0), { bits: 16, seed: 1, epochs: 2, batchSize: 64, labelSteps: 5 });
  const base = m.lastPhaseSeconds;
  for (const k of ['setup', 'label_net', 'modality_nets', 'memory_selection']) {
    assert.ok(base[k]! >= 0 && base[`${k}_cpu`]! >= 0, k);
  }
  // the base session has no old sessions: no reference gradients, projection or replay
  assert.deepEqual([base.references_cpu, base.projection_cpu, base.replay_cpu], [0, 0, 0]);
  await m.update(sessionData(plan, 1), { bits: 16, seed: 1, epochs: 2, updateEpochs: 20, batchSize: 64, updateLabelSteps: 5 });
  const inc = m.lastPhaseSeconds;
  assert.ok(inc.references_cpu! > 0 && inc.projection_cpu! > 0 && inc.replay_cpu! > 0, JSON.stringify(inc));
  assert.ok(inc.references_cpu! + inc.projection_cpu! + inc.replay_cpu! <= inc.modality_nets_cpu! + 1e-3, JSON.stringify(inc));
});
