import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tinyPlan } from './fixture.js';
import { sessionData, validationRows } from '../../src/continual/runner.js';
import { CcmhGam, heldOutMask } from '../../src/methods/ccmh-gam.js';
import { HashNet } from '../../src/methods/parts/hash-net.js';
import { Rng } from '../../src/util/rng.js';
import { InputError } from '../../src/util/errors.js';

test('ccmh-gam holds out exactly the runner\'s validation rows of each session (0 = none)', () => {
  const plan = tinyPlan();
  for (let t = 0; t < plan.sessions.length; t++) {
    const s = sessionData(plan, t);
    const mask = heldOutMask(s, t, { seed: 5 });
    const rows = plan.sessions[t]!.trainRows;
    const fromMask = rows.filter((_, i) => mask[i] === 1);
    assert.deepEqual(Array.from(fromMask), Array.from(validationRows(plan, t, 5)));
    assert.equal(heldOutMask(s, t, { seed: 5, validationFraction: 0 }).reduce((a, b) => a + b, 0), 0);
  }
  const s0 = sessionData(plan, 0);
  assert.throws(() => heldOutMask(s0, 0, { heldOut: new Uint8Array(3) }), /heldOut mask has 3 rows, the data has \d+/);
});

test('ccmh-gam: held-out items never enter the memory; database codes still cover every item', async () => {
  const plan = tinyPlan();
  const s = sessionData(plan, 0);
  const m = new CcmhGam({ bits: 16, hidden: 32, labelHidden: 16, memoryPerSession: 1000 });
  await m.fit(s, { bits: 16, seed: 2, epochs: 2, batchSize: 32, labelSteps: 20 });
  const mask = heldOutMask(s, 0, { seed: 2 });
  const held = mask.reduce((a, b) => a + b, 0);
  assert.ok(held > 0);
  assert.equal(m.memoryItems() <= s.n - held, true, `memory ${m.memoryItems()} of ${s.n - held} training items`);
  // Memory rows are standardised training rows: none of them equals a held-out row.
  const internal = m as unknown as { memory: { image: Float32Array; n: number }[]; stats: { imageMean: Float32Array; imageInvStd: Float32Array } };
  const mem = internal.memory[0]!;
  const d = s.imageDim;
  const key = (v: ArrayLike<number>) => Array.from(v, (x) => x.toFixed(4)).join(',');
  const memKeys = new Set<string>();
  for (let i = 0; i < mem.n; i++) memKeys.add(key(mem.image.subarray(i * d, (i + 1) * d)));
  const st = internal.stats;
  for (let i = 0; i < s.n; i++) {
    if (!mask[i]) continue;
    const z = Array.from({ length: d }, (_, k) => (s.image[i * d + k]! - st.imageMean[k]!) * st.imageInvStd[k]!);
    assert.ok(!memKeys.has(key(Float32Array.from(z))), `held-out row ${i} is in the memory`);
  }
  assert.equal(m.databaseCodes()!.length, s.n * 16, 'every item (held out or not) has its semantic code');
});

test('HashNet.shrinkPerturb: λ = 1 changes nothing; λ = 0.5 lands halfway to a fresh initialisation', () => {
  const net = new HashNet(7, 5, 8, new Rng(1));
  const before = net.snapshot();
  net.shrinkPerturb(1, new Rng(9));
  assert.deepEqual(net.snapshot(), before);
  net.shrinkPerturb(0.5, new Rng(9));
  const fresh = new HashNet(7, 5, 8, new Rng(9).fork()).snapshot();
  net.snapshot().forEach((p, i) => p.forEach((v, k) => assert.ok(Math.abs(v - (0.5 * before[i]![k]! + 0.5 * fresh[i]![k]!)) < 1e-6)));
  assert.throws(() => net.shrinkPerturb(1.5, new Rng(1)), (e: Error) => e instanceof InputError && /must be in \[0, 1\], got 1.5/.test(e.message));
});

test('ccmh-gam replay leaves the stored memory weights alone, also when a replay batch is the whole memory', async () => {
  const plan = tinyPlan();
  const m = new CcmhGam({ bits: 16, hidden: 32, labelHidden: 16, memoryPerSession: 8, replay: 3 });
  const opts = { bits: 16, seed: 3, epochs: 2, updateEpochs: 2, batchSize: 32, labelSteps: 20, updateLabelSteps: 10, memoryBatch: 32 };
  await m.fit(sessionData(plan, 0), opts);
  const memory = (m as unknown as { memory: { weights: Float32Array }[] }).memory;
  const before = memory[0]!.weights.slice();
  assert.ok(before.length > 0 && before.length <= 32, 'the memory fits in one replay batch');
  await m.update(sessionData(plan, 1), opts);
  assert.deepEqual(Array.from(memory[0]!.weights), Array.from(before));
});

test('ccmh-gam replayRows caps the replayed rows per step over all old sessions; a cap that does not bind changes nothing', async () => {
  const plan = tinyPlan();
  const train = async (replayRows?: number) => {
    const m = new CcmhGam({ bits: 16, hidden: 32, labelHidden: 16, memoryPerSession: 40 });
    const opts = { bits: 16, seed: 4, epochs: 2, updateEpochs: 2, batchSize: 32, labelSteps: 20, updateLabelSteps: 10, memoryBatch: 8, ...(replayRows === undefined ? {} : { replayRows }) };
    for (let t = 0; t < plan.sessions.length; t++) {
      if (t === 0) await m.fit(sessionData(plan, 0), opts); else await m.update(sessionData(plan, t), opts);
    }
    return (m as unknown as { imageNet: HashNet }).imageNet.snapshot().map((p) => Array.from(p));
  };
  // Two old sessions × 8 items = 16 rows: the default cap (128) and 1,000 do not bind.
  const byDefault = await train();
  assert.deepEqual(await train(1000), byDefault);
  assert.deepEqual(await train(16), byDefault);
  // A cap of 6 leaves 3 items per old session: a different replay, so different nets.
  assert.notDeepEqual(await train(6), byDefault);
  // A cap below the number of old sessions still replays one item of each (2 old sessions, cap 1).
  assert.notDeepEqual(await train(1), await train(6));
  // A bad value is refused before the session changes anything.
  const m = new CcmhGam({ bits: 16, hidden: 32, labelHidden: 16 });
  await m.fit(sessionData(plan, 0), { bits: 16, seed: 4, epochs: 1, batchSize: 32, labelSteps: 5 });
  const before = { version: m.modelVersion, pairs: m.storedLabelPairs(), codes: m.databaseCodes()!.length, net: (m as unknown as { imageNet: HashNet }).imageNet.snapshot().map((p) => Array.from(p)) };
  await assert.rejects(m.update(sessionData(plan, 1), { bits: 16, seed: 4, replayRows: 0 }), /option replayRows must be ≥ 1, got 0/);
  await assert.rejects(m.update(sessionData(plan, 1), { bits: 16, seed: 4, replayWeighting: 'items' as 'size' }), /option replayWeighting must be one of session, size, got "items"/);
  assert.deepEqual({ version: m.modelVersion, pairs: m.storedLabelPairs(), codes: m.databaseCodes()!.length, net: (m as unknown as { imageNet: HashNet }).imageNet.snapshot().map((p) => Array.from(p)) }, before);
});
