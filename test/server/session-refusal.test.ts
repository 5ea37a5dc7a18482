// A session update is refused with 400 and a clear message, before any job is queued, when the
// collection's model cannot learn from a session: a one-shot method (DCMH) or a method that must
// re-encode the whole database (joint retraining). The stored versions stay as they were.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSynthetic } from '../../src/data/synthetic.js';
import { Dcmh } from '../../src/methods/dcmh.js';
import { createContinualHasher as createContinualMethod } from '../../src/methods/registry.js';
import { forMethod } from '../continual/fixture.js';
import { datasetItems } from '../../src/product/build-collection.js';
import { Collection } from '../../src/product/collection.js';
import { CollectionRegistry } from '../../src/product/registry.js';
import { buildService } from '../../src/server/app.js';
import type { Hasher } from '../../src/methods/hasher.js';

const ds = generateSynthetic({ n: 160, numLabels: 4, imageDim: 12, textDim: 16, seed: 5 });
const rows = Int32Array.from({ length: 120 }, (_, i) => i);
const data = {
  n: rows.length, imageDim: ds.imageDim, textDim: ds.textDim, numClasses: ds.labelNames.length,
  image: ds.image.slice(0, rows.length * ds.imageDim), text: ds.text.slice(0, rows.length * ds.textDim), labels: ds.labels.slice(0, rows.length * ds.labelNames.length),
};

async function refused(method: string, model: Hasher, message: RegExp): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'cmhash-refuse-'));
  const registry = new CollectionRegistry();
  try {
    const dir = join(root, 'c');
    const c = Collection.create(dir, { name: 'c', bits: 16, method: model.method, imageDim: ds.imageDim, textDim: ds.textDim });
    await c.commitModel(model, datasetItems(ds, rows, null), { labelNames: ds.labelNames, inherit: false });
    c.close();
    registry.openDir(dir);
    const app = await buildService({ collections: registry, processMetrics: false });
    try {
      const before = JSON.stringify(registry.get('c').history().versions);
      const r = ds.n - 1;
      const item = { id: 'new-1', image: Array.from(ds.imageRow(r)), text: Array.from(ds.textRow(r)), labels: ['brand-new'] };
      const res = await app.inject({ method: 'POST', url: '/api/collections/c/sessions', payload: { items: [item] } });
      assert.equal(res.statusCode, 400, `${method}: ${res.body}`);
      assert.match(JSON.parse(res.body).message, message);
      assert.equal(JSON.stringify(registry.get('c').history().versions), before, `${method}: versions unchanged`);
      const jobs = await app.inject({ method: 'GET', url: '/api/collections/c/jobs' });
      assert.deepEqual(JSON.parse(jobs.body), [], `${method}: no job queued`);
    } finally { await app.close(); }
  } finally { registry.close(); rmSync(root, { recursive: true, force: true }); }
}

test('a session update on a DCMH collection is refused: the method cannot learn from a session', async () => {
  const m = new Dcmh({ bits: 16, hidden: 16 });
  await m.fit(data, { bits: 16, epochs: 1, seed: 1 });
  await refused('dcmh', m, /dcmh, which cannot learn from a new session; use a continual method/);
});

for (const method of ['joint', 'joint:dlcmh']) {
  test(`a session update on a ${method} collection is refused: it would re-encode the whole database`, async () => {
    const m = createContinualMethod(method, { bits: 16, ...await forMethod(method, { hidden: 16, budget: 50 }) });
    await m.fit({ ...data, index: 0, newClasses: [0, 1, 2, 3] } as never, { bits: 16, epochs: 1, labelSteps: 5, seed: 1 } as never);
    await refused(method, m, /re-encodes the whole database on every session/);
  });
}
