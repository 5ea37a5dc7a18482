// continual --tune never reads query items: every tried setting runs the stream without its queries.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tuneContinual } from '../../src/continual/tune.js';
import { runContinual } from '../../src/continual/runner.js';
import { createContinualHasher } from '../../src/methods/registry.js';
import { tinyPlan } from './fixture.js';

/** An index array whose elements throw when read (its length can be read). */
function untouchable(a: Int32Array): Int32Array {
  return new Proxy(a, {
    get(t, k) {
      if (typeof k === 'string' && /^\d+$/.test(k)) throw new Error(`query element ${k} was read`);
      const v = Reflect.get(t, k, t) as unknown;
      return typeof v === 'function' ? () => { throw new Error(`query array method ${String(k)} was called`); } : v;
    },
  });
}

test('continual --tune scores settings on held-out training items only (query rows are never read)', async () => {
  const plan = tinyPlan();
  const guarded = { ...plan, queryRows: untouchable(plan.queryRows), querySession: untouchable(plan.querySession) };
  // the guard works: a normal run reads the queries
  await assert.rejects(runContinual(createContinualHasher('dlcmh', { bits: 16, hidden: 16 }), guarded, { bits: 16, seed: 1, train: { epochs: 1 } }), /query/);
  const r = await tuneContinual('dlcmh', guarded, { bits: 16, seed: 1, budget: 3, options: { hidden: 16, labelSteps: 10, updateEpochs: 1 }, train: { epochs: 2 } });
  assert.equal(r.trials.length, 3);
  assert.ok(r.bestScore > 0 && r.bestScore <= 1);
  assert.deepEqual(r.best, r.trials.reduce((a, t) => (t.score > a.score ? t : a)).setting, 'the best setting is the best-scoring trial');
  assert.equal(new Set(r.trials.map((t) => JSON.stringify(t.setting))).size, 3, 'three different settings tried');
});
