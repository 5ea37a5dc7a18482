// --tune: the coordinate-descent search (deterministic, within budget, defaults kept on ties) and
// the train-time tuner, which must never read query items.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { searchSettings, tuneFit, tuneSpace, type Setting } from '../../src/methods/tune.js';
import { generateSynthetic } from '../../src/data/synthetic.js';
import { trainAndValidation } from '../../src/cli/commands/train.js';
import { Dataset } from '../../src/data/dataset.js';
import { createHasher } from '../../src/methods/registry.js';
import { splitItems } from '../../src/cli/commands/dataset-for-methods.js';

test('searchSettings: coordinate descent from the defaults, within budget, repeatable, ties keep the default', async () => {
  const space = [
    { name: 'a', at: 'option' as const, values: [1, 2, 3], default: 1 },
    { name: 'lr', at: 'train' as const, values: [0.1, 0.01], default: 0.1 },
  ];
  // best at a = 3, lr = 0.01; a = 2 ties with the default
  const f = (s: Setting) => (s.options.a === 3 ? 2 : s.options.a === 2 ? 0 : 0) + (s.train.lr === 0.01 ? 1 : 0);
  const calls: Setting[] = [];
  const r = await searchSettings(space, { options: {}, train: {} }, 10, async (s) => { calls.push(s); return f(s); });
  assert.deepEqual(r.best, { options: { a: 3 }, train: { lr: 0.01 } });
  assert.equal(r.bestScore, 3);
  assert.equal(r.trials.length, 4, 'defaults, a=2, a=3, lr=0.01 (each setting once)');
  assert.deepEqual(calls[0], { options: { a: 1 }, train: { lr: 0.1 } }, 'the first trial is the defaults, written out');
  const again = await searchSettings(space, { options: {}, train: {} }, 10, async (s) => f(s));
  assert.deepEqual(again.trials.map((t) => t.setting), r.trials.map((t) => t.setting), 'same trials in the same order');
  const short = await searchSettings(space, { options: {}, train: {} }, 2, async (s) => f(s));
  assert.equal(short.trials.length, 2, 'budget respected');
  assert.deepEqual(short.best.options, { a: 1 }, 'a tie (a = 2) keeps the default');
  await assert.rejects(searchSettings(space, { options: {}, train: {} }, 0, async () => 0), /budget must be a positive integer/);
});

test('tuneSpace comes from the option schema (and the learning rate where the method has one)', () => {
  const dcmh = tuneSpace('dcmh');
  assert.deepEqual(dcmh.map((d) => d.name), ['learningRate', 'hidden', 'gamma', 'eta']);
  assert.equal(dcmh[0]!.default, 1e-3);
  assert.ok(!tuneSpace('linear').some((d) => d.name === 'learningRate'), 'closed-form baselines have no learning rate');
});

test('train --tune reads only training items: queries full of NaN are never touched', async () => {
  const base = generateSynthetic({ n: 300, numLabels: 4, imageDim: 12, textDim: 16, seed: 5, querySize: 60 });
  // poison every query row: any read of them in fitting or scoring would be a NaN error
  const image = base.image.slice(), text = base.text.slice();
  for (const r of base.split('query')) {
    image.fill(NaN, r * base.imageDim, (r + 1) * base.imageDim);
    text.fill(NaN, r * base.textDim, (r + 1) * base.textDim);
  }
  const ds = new Dataset({
    name: 'poisoned', image, imageDim: base.imageDim, text, textDim: base.textDim, labels: base.labels, labelNames: base.labelNames,
    splits: Object.fromEntries(base.splits), nonFinite: 'report',
  });
  // the poison works: training on the query rows is an error
  await assert.rejects(createHasher('dcmh', { bits: 16, hidden: 8 }).fit(splitItems(ds, 'query'), { bits: 16, epochs: 1 }), /NaN|non-finite/i);
  const { train, validation } = trainAndValidation(ds, 0.2, 1);
  const { model, result } = await tuneFit('dcmh', train, validation!, { bits: 16, seed: 1, budget: 3, options: { hidden: 32 }, trainOptions: { epochs: 2 } });
  assert.equal(result.trials.length, 3);
  assert.ok(result.bestScore > 0 && result.bestScore <= 1);
  assert.equal(model.bits, 16);
  assert.equal(result.trials[0]!.setting.options.hidden, 32, 'the user\'s options are the start');
});
