// loadDataset understands "synthetic[:n[:classes]]", seeded by opts.seed, so every command can use it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadDataset } from '../../src/data/load.js';

test('loadDataset("synthetic:n:C") generates n items with C labels, deterministic from the seed', async () => {
  const a = await loadDataset('synthetic:300:5', { seed: 4 });
  const b = await loadDataset('synthetic:300:5', { seed: 4 });
  const c = await loadDataset('synthetic:300:5', { seed: 5 });
  assert.equal(a.n, 300);
  assert.equal(a.numLabels, 5);
  assert.deepEqual(a.image, b.image);
  assert.notDeepEqual(a.image, c.image);
  assert.equal(a.split('query').length, 30);
});

test('loadDataset rejects a synthetic spec with an absurd class count', async () => {
  await assert.rejects(loadDataset('synthetic:100:0'), /classes must be between 1 and 4096, got 0/);
});
