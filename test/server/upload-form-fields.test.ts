// The multipart item upload takes each field once: `-F id=a -F id=b` used to store "b" silently.
// A repeated field is refused (400), a second image file too (413, the multipart limits), and nothing is stored.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { buildService } from '../../src/server/app.js';
import { CollectionRegistry } from '../../src/product/registry.js';
import { buildFixture } from './fixture.js';
import { multipartBody } from './multipart-body.js';

test('items/upload: a field given twice or a second file is refused and stores nothing', async () => {
  const fx = await buildFixture('forms');
  const registry = new CollectionRegistry();
  registry.add(fx.collection);
  const app = await buildService({ collections: registry, processMetrics: false });
  try {
    const post = async (parts: [string, string | Blob][]) => {
      const f = await multipartBody(parts);
      return app.inject({ method: 'POST', url: '/api/collections/forms/items/upload', payload: f.body, headers: { 'content-type': f.type } });
    };
    const twice = await post([['id', 'up5'], ['id', 'up6'], ['text', 'w3 w17'], ['labels', 'class1']]);
    assert.equal(twice.statusCode, 400, twice.body);
    assert.match(JSON.parse(twice.body).message, /field "id" given more than once/);
    const png = new Blob([new Uint8Array([0x89, 0x50, 0x4e, 0x47])], { type: 'image/png' });
    const files = await post([['id', 'up7'], ['image', png], ['image', png]]);
    assert.equal(files.statusCode, 413, files.body); // the multipart limits allow one file
    for (const id of ['up5', 'up6', 'up7']) assert.equal((await app.inject({ url: `/api/collections/forms/items/${id}` })).statusCode, 404, id);
    // the same upload with each field once is stored
    const once = await post([['id', 'up8'], ['text', 'w3 w17'], ['labels', 'class1']]);
    assert.equal(once.statusCode, 200, once.body);
  } finally {
    await app.close();
    registry.close();
    rmSync(fx.root, { recursive: true, force: true });
  }
});
