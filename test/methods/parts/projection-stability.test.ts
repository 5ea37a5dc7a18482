import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tinyPlan } from '../../continual/fixture.js';
import { runContinual } from '../../../src/continual/runner.js';
import { CcmhGam } from '../../../src/methods/ccmh-gam.js';

// Must show: gradient projection on vs off changes how many old items the nets still encode to the
// same code. Replay is off so the projection is the only thing protecting old sessions.
test('GEM projection keeps more old items on the same code than no projection (same seed, same memory)', async () => {
  const plan = tinyPlan({ n: 480 });
  const bits = 16;
  const train = { epochs: 6, updateEpochs: 4, labelSteps: 40, batchSize: 32, learningRate: 3e-3 };
  const stability = async (projection: 'gem' | 'none') => {
    const h = new CcmhGam({ bits, hidden: 32, memoryPerSession: 20, replay: 0, projection });
    const { json } = await runContinual(h, plan, { bits, seed: 4, train });
    return json.sessions.slice(1).map((s) => s.reencode_stability);
  };
  const gem = await stability('gem'), none = await stability('none');
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  assert.ok(mean(gem) > mean(none) + 0.02, `reencode stability with GEM ${gem.map((x) => x.toFixed(3))} vs none ${none.map((x) => x.toFixed(3))}`);
});

// Regression: projection used to act on (new-data gradient + replay gradient), which never conflicts
// with the memory gradient, so it never fired and gem ≡ none. It now projects the new-data gradient.
test('with replay on, GEM still projects some steps', async () => {
  const plan = tinyPlan({ n: 480 });
  const bits = 16;
  const h = new CcmhGam({ bits, hidden: 32, memoryPerSession: 20, replay: 1, projection: 'gem' });
  await runContinual(h, plan, { bits, seed: 4, train: { epochs: 6, updateEpochs: 4, labelSteps: 40, batchSize: 32, learningRate: 3e-3 } });
  const shares = h.lastFit!.history.map((p) => p.loss.projected_share ?? 0);
  assert.ok(shares.some((s) => s > 0), `projected share per epoch ${shares.join(',')}`);
});
