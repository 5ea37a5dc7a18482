import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tinyPlan } from './fixture.js';
import { sessionData } from '../../src/continual/runner.js';
import { CcmhGam, stepFloor, labelCosines, modalityPairwiseLoss } from '../../src/methods/ccmh-gam.js';
import { epochsForSteps } from '../../src/methods/training-loop.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { Rng } from '../../src/util/rng.js';
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
  assert.deepEqual(await run({ minSteps: 0, minUpdateSteps: 0 }), [2, 2]);
  assert.deepEqual(await run({ minSteps: 7, minUpdateSteps: 0 }), [7, 2]);       // one batch per epoch: 7 epochs
  assert.deepEqual(await run({ minSteps: 0, minUpdateSteps: 5 }), [2, 5]);
  // the default floors (300 / 40) apply only where the epochs are defaults too
  assert.deepEqual(await run({}), [2, 2]);
  assert.deepEqual([stepFloor({}, true), stepFloor({}, false)], [300, 40]);
  assert.deepEqual([stepFloor({ epochs: 5 }, true), stepFloor({ epochs: 5 }, false), stepFloor({ updateEpochs: 3 }, false), stepFloor({ updateEpochs: 3 }, true)], [0, 0, 0, 300]);
  assert.deepEqual([stepFloor({ epochs: 5, minSteps: 9 }, true), stepFloor({ updateEpochs: 3, minUpdateSteps: 7 }, false)], [9, 7]);
  const m = new CcmhGam({ bits: 16, hidden: 16, labelHidden: 8 });
  await m.fit(s0, { bits: 16, seed: 1, batchSize: 1024, labelSteps: 5 }); // default epochs (30): raised to 300 steps
  assert.equal(m.lastFit!.epochsRun, 300);
  await m.update(s1, { bits: 16, seed: 1, batchSize: 1024, updateLabelSteps: 5 }); // default update epochs (4): raised to 40
  assert.equal(m.lastFit!.epochsRun, 40);
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

test('labelCosines: multi-label cosines, zero rows give 0', () => {
  const L = Uint8Array.from([1, 1, 0, /**/ 0, 1, 0, /**/ 0, 0, 0, /**/ 1, 1, 1]);
  const S = labelCosines(L, 4, 3);
  const near = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-6, `${a} vs ${b}`);
  near(S[0]!, 1); near(S[1]!, 1 / Math.SQRT2); near(S[2]!, 0); near(S[3]!, 2 / Math.sqrt(6));
  near(S[4 + 3]!, 1 / Math.sqrt(3)); near(S[2 * 4 + 2]!, 0); near(S[3 * 4 + 1]!, 1 / Math.sqrt(3));
});

test('modalityPairwiseLoss: value and gradient in u match a hand computation and finite differences', () => {
  const rng = new Rng(3);
  const m = 4, c = 6;
  const uData = Float32Array.from({ length: m * c }, () => Math.tanh(rng.normal()));
  const T = Float32Array.from({ length: m * c }, () => (rng.uniform() < 0.5 ? -1 : 1));
  const S = labelCosines(Uint8Array.from([1, 0, 1, 1, 0, 0, 0, 1, 1, 1, 1, 1]), m, 3);
  const value = (ud: Float32Array) => {
    let tot = 0;
    for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) {
      let th = 0; for (let k = 0; k < c; k++) th += ud[i * c + k]! * T[j * c + k]!;
      th *= 0.5;
      tot += Math.log1p(Math.exp(th)) - S[i * m + j]! * th;
    }
    return tot / (m * m);
  };
  const u = Tensor.wrap(m, c, uData.slice(), { requiresGrad: true });
  const loss = modalityPairwiseLoss(u, T, S);
  assert.ok(Math.abs(loss.item() - value(uData)) < 1e-5);
  loss.backward();
  const g = u.grad!;
  const h = 1e-3;
  for (let e = 0; e < m * c; e++) {
    const p = Float64Array.from(uData), q = Float64Array.from(uData);
    p[e] += h; q[e] -= h;
    const fd = (value(Float32Array.from(p)) - value(Float32Array.from(q))) / (2 * h);
    assert.ok(Math.abs(fd - g[e]!) < 2e-4, `entry ${e}: autograd ${g[e]} vs finite difference ${fd}`);
  }
});

test('ccmh-gam: pairwise > 0 changes training (the term is wired in); 0 is the regression alone', async () => {
  const plan = tinyPlan();
  const s0 = sessionData(plan, 0);
  const codes = async (pairwise?: number) => {
    const m = new CcmhGam({ bits: 16, hidden: 16, labelHidden: 8 });
    await m.fit(s0, { bits: 16, seed: 1, epochs: 2, batchSize: 64, labelSteps: 5, ...(pairwise !== undefined ? { pairwise } : {}) });
    return Array.from(m.encode('image', s0.image.subarray(0, 10 * s0.imageDim), 10).values);
  };
  assert.deepEqual(await codes(0), await codes());
  assert.notDeepEqual(await codes(1), await codes());
});

test('ccmh-gam: updateLabelBatch samples the increment\'s label-net steps (smaller batch → other codes); 256 is the default, the base session keeps 256', async () => {
  const plan = tinyPlan();
  const s0 = sessionData(plan, 0), s1 = sessionData(plan, 1);
  const run = async (updateLabelBatch?: number) => {
    const m = new CcmhGam({ bits: 16, hidden: 16, labelHidden: 8 });
    const o = { bits: 16, seed: 1, epochs: 2, batchSize: 64, labelSteps: 5, updateLabelSteps: 20, ...(updateLabelBatch !== undefined ? { updateLabelBatch } : {}) };
    await m.fit(s0, o);
    const base = Array.from(m.databaseCodes()!);
    await m.update(s1, o);
    return { base, all: Array.from(m.databaseCodes()!) };
  };
  const def = await run(), same = await run(256), small = await run(1);
  assert.deepEqual(same.all, def.all);
  assert.deepEqual(small.base, def.base);
  assert.notDeepEqual(small.all, def.all);
});
