import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tinyPlan } from './fixture.js';
import { runContinual } from '../../src/continual/runner.js';
import { CcmhGam } from '../../src/methods/ccmh-gam.js';

const train = { epochs: 6, updateEpochs: 4, labelSteps: 40, batchSize: 32, learningRate: 3e-3 };

// The greedy memory's NNLS weights shrink when a session's mean gradient is small (end of training);
// they are rescaled so the replayed loss is on the scale of the session's mean loss.
test('with normalizeMemoryWeights, gradient memory weights sum to 1 in every session', async () => {
  const plan = tinyPlan({ n: 480 });
  const h = new CcmhGam({ bits: 16, hidden: 32, memoryPerSession: 20, normalizeMemoryWeights: true });
  await runContinual(h, plan, { bits: 16, seed: 4, train });
  assert.equal(h.memoryReports.length, 3);
  for (const r of h.memoryReports) assert.ok(Math.abs(r.weightSum! - 1) < 1e-5, `session ${r.session}: Σw = ${r.weightSum}`);
});

// Distillation on replayed memory items pulls the image net towards its pre-session outputs, so old
// items move less; the reference-gradient refresh interval only changes how often refs are taken.
test('distillation on memory items keeps old encodings measurably more stable than without it', async () => {
  const plan = tinyPlan({ n: 480 });
  const stability = async (distillation: number) => {
    const h = new CcmhGam({ bits: 16, hidden: 32, memoryPerSession: 40, projection: 'none' });
    const { json } = await runContinual(h, plan, { bits: 16, seed: 4, train: { ...train, distillation } as typeof train });
    return json.sessions.slice(1).reduce((a, s) => a + s.reencode_stability, 0) / 2;
  };
  const on = await stability(4), off = await stability(0);
  // Identical runs would tie: require a margin (measured: .227 vs .174), so a distillation that does nothing fails.
  assert.ok(on > off + 0.02, `reencode stability with distillation ${on.toFixed(3)} vs without ${off.toFixed(3)}`);
});

// 'size' weighting scales each old session's replay by (its training items / the new session's):
// with old sessions larger than the new one, the nets move less on the new session (old items keep
// their encodings better) than with the default per-session weight; a bad mode is a clear error.
test('replay weighted by session size replays large old sessions harder; a bad mode is an error', async () => {
  const plan = tinyPlan({ n: 480, sessions: [5, 1, 1] }); // session 0 holds most items
  const run = async (replayWeighting: 'session' | 'size') => {
    const h = new CcmhGam({ bits: 16, hidden: 32, memoryPerSession: 40, projection: 'none' });
    const { json } = await runContinual(h, plan, { bits: 16, seed: 4, train: { ...train, replayWeighting } as typeof train });
    return json.sessions.slice(1).reduce((a, s) => a + s.reencode_stability, 0) / 2;
  };
  const bySize = await run('size'), bySession = await run('session');
  // measured .244 vs .218; equal weighting would tie
  assert.ok(bySize > bySession + 0.01, `reencode stability with size weighting ${bySize.toFixed(3)} vs per session ${bySession.toFixed(3)}`);
  const h = new CcmhGam({ bits: 16, hidden: 32, memoryPerSession: 10 });
  await assert.rejects(runContinual(h, tinyPlan(), { bits: 16, seed: 1, train: { ...train, replayWeighting: 'items' } as unknown as typeof train }), /option replayWeighting must be one of session, size, got "items"/);
});
