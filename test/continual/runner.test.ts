import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tinyPlan, forMethod } from './fixture.js';
import { runContinual, type ContinualJson, type ContinualPlan } from '../../src/continual/runner.js';
import { createContinualHasher as createContinualMethod, continualMethodNames, reencodesDatabase } from '../../src/methods/registry.js';
const CONTINUAL_METHODS = continualMethodNames();
import { CcmhGam } from '../../src/methods/ccmh-gam.js';
import { InputError } from '../../src/util/errors.js';

const bits = 16;
const train = { epochs: 4, batchSize: 64 };
/** Method options each method gets where it has them (joint has no increments, dlcmh no memory size…). */
const methodOptions = { hidden: 32, memoryPerSession: 10, budget: 200, updateEpochs: 2, labelSteps: 30 };
const small = async (m: string) => createContinualMethod(m, { bits, ...await forMethod(m, methodOptions) });
const trainCcmhGam = { ...train, updateEpochs: 2, labelSteps: 30 };

test('stored codes stay exactly as stored for every method except those that re-encode (joint, the refit baselines); JSON has the documented shape', async () => {
  const plan = tinyPlan();
  for (const m of CONTINUAL_METHODS) {
    const writes: number[] = [];
    const { json } = await runContinual(await small(m), plan, { bits, seed: 2, train, afterSession: (j) => { writes.push(j.sessions.length); } });
    assert.deepEqual(writes, [1, 2, 3], `${m}: results written after every session`);
    assert.deepEqual(Object.keys(json), ['method', 'data', 'bits', 'seed', 'sessions', 'R', 'final_avg_map', 'bwt', 'forgetting']);
    assert.equal(json.method, m);
    assert.equal(json.sessions.length, 3);
    for (const s of json.sessions) {
      assert.deepEqual(Object.keys(s), ['map', 'train_seconds', 'memory_items', 'stored_code_stability', 'reencode_stability']);
      assert.deepEqual(Object.keys(s.map), ['i2t', 't2i']);
      for (const v of [s.map.i2t, s.map.t2i, s.reencode_stability]) assert.ok(v >= 0 && v <= 1);
    }
    assert.deepEqual(json.R.i2t.map((r) => r.length), [1, 2, 3]);
    assert.deepEqual(Object.keys(json.final_avg_map), ['i2t', 't2i']);
    assert.equal(typeof json.bwt, 'number'); assert.equal(typeof json.forgetting, 'number');
    if (reencodesDatabase(m)) assert.ok(json.sessions[2]!.stored_code_stability < 1, `${m} re-encodes the database`);
    else for (const s of json.sessions) assert.equal(s.stored_code_stability, 1, `${m}: stored codes must never change`);
    // final average mAP is the mean of the last R row
    const last = json.R.i2t[2]! as number[];
    assert.ok(Math.abs(json.final_avg_map.i2t - last.reduce((a, b) => a + b, 0) / 3) < 1e-12);
  }
});

test('a failing session is reported and earlier sessions are kept (labels wider than the model without growth)', async () => {
  const plan = tinyPlan();
  const h = new CcmhGam({ bits, hidden: 32, growLabels: false, memoryPerSession: 5 });
  let saved: ContinualJson | null = null; let err: unknown = null;
  await assert.rejects(runContinual(h, plan, { bits, seed: 1, train: trainCcmhGam, afterSession: (j, d) => { saved = structuredClone(j); err = d.error; } }), (e: Error) => {
    assert.ok(e instanceof InputError);
    assert.match(e.message, /labels have 5 columns but the model was built for 3 classes and label growth is off/);
    return true;
  });
  assert.equal(saved!.sessions.length, 1, 'session 0 survives');
  assert.equal((err as { session: number }).session, 1);
});

test('an empty session and a session with only old classes are handled', async () => {
  const base = tinyPlan();
  // session 1 empty (no new items), session 2 re-delivers session-0 rows (old classes only)
  const plan: ContinualPlan = {
    ...base,
    sessions: [base.sessions[0]!, { newClasses: [], trainRows: new Int32Array(0), databaseRows: new Int32Array(0) },
      { newClasses: [], trainRows: base.sessions[0]!.trainRows.slice(0, 40), databaseRows: base.sessions[0]!.trainRows.slice(0, 40) }],
    querySession: base.querySession.map((s) => (s === 0 ? 0 : -1)),
  };
  for (const m of ['ccmh-gam', 'dlcmh', 'finetune', 'joint']) {
    const { json } = await runContinual(await small(m), plan, { bits, seed: 1, train });
    assert.equal(json.sessions.length, 3, m);
    assert.equal(json.R.i2t[1]![1], null, `${m}: no queries for the empty session`);
    assert.ok(Number.isFinite(json.final_avg_map.i2t));
    if (!m.startsWith('joint')) assert.equal(json.sessions[1]!.stored_code_stability, 1);
  }
});

test('a saved CCMH-GAM keeps its code-refinement and memory-weight settings and encodes the same after load', async () => {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { loadHasher } = await import('../../src/methods/registry.js');
  const { sessionData } = await import('../../src/continual/runner.js');
  const plan = tinyPlan();
  const m = new CcmhGam({ bits, hidden: 32, memoryPerSession: 10, refineCodes: false, normalizeMemoryWeights: true });
  await m.fit(sessionData(plan, 0), { ...trainCcmhGam, bits, seed: 1 });
  const dir = mkdtempSync(join(tmpdir(), 'cmhash-gam-'));
  try {
    const path = join(dir, 'gam.ckpt');
    m.save(path);
    const back = loadHasher(path) as CcmhGam;
    assert.equal(back.refineCodes, false);
    assert.equal(back.normalizeMemoryWeights, true);
    const x = plan.image.subarray(0, 5 * plan.imageDim);
    assert.deepEqual(Array.from(back.encode('image', x, 5).values), Array.from(m.encode('image', x, 5).values));
  } finally { rmSync(dir, { recursive: true, force: true }); }
});
