// End to end: the real service on 127.0.0.1 with a small collection, the search page in headless
// Chromium (playwright-core): tag search, item search with a thumbnail, an error shown for a bad
// item. Writes a screenshot to $TMPDIR/cmhash-test-artifacts/service-search.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildService } from '../../src/server/app.js';
import { browserMissing, openSearchPage } from './search-page-browser.js';
import { CollectionRegistry } from '../../src/product/registry.js';
import { buildFixture, features, type Fixture } from './fixture.js';


let fx: Fixture | null = null;
let app: FastifyInstance | null = null;
let registry: CollectionRegistry | null = null;
let url = '';

before(async () => {
  if (browserMissing()) return;
  fx = await buildFixture('mini');
  registry = new CollectionRegistry();
  registry.add(fx.collection);
  app = await buildService({ collections: registry, processMetrics: false });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  // one item with a photo, so a result shows a thumbnail
  const f = features(fx.ds, fx.ds.split('query')[0]!);
  await fx.collection.addItems([{ id: 'photo-1', image: Float32Array.from(f.image), text: Float32Array.from(f.text), labels: ['class1'], metadata: { image: 'red.png', caption: '<b>not bold</b>' } }]);
});

after(async () => {
  await app?.close();
  registry?.close();
  if (fx) rmSync(fx.root, { recursive: true, force: true });
});

test('search page against the real service in headless Chromium', async (t) => {
  const missing = browserMissing();
  if (missing) { t.skip(missing); return; }
  const { browser, page, pageErrors } = await openSearchPage(url, 'mini');
  try {
    assert.equal(await page.locator('#collection').inputValue(), 'mini');

    // tags → images
    const ds = fx!.ds;
    const row = Array.from(ds.split('query')).find((r) => ds.textRow(r).filter((v) => v > 0).length >= 2)!;
    const words = Array.from(ds.textRow(row)).map((v, j) => (v > 0 ? `w${j}` : '')).filter(Boolean).join(' ');
    await page.fill('#query-text', words);
    await page.fill('#k', '7');
    await page.click('#search-button');
    await page.waitForSelector('#results[data-state="done"]', { timeout: 15_000 });
    const hits = page.locator('#results .result');
    assert.equal(await hits.count(), 7);
    const distances = await page.locator('#results .result-distance').evaluateAll((els) => els.map((e) => Number((e as unknown as { dataset: Record<string, string> }).dataset.distance)));
    for (let i = 1; i < distances.length; i++) assert.ok(distances[i - 1]! <= distances[i]!, 'sorted by Hamming distance');
    // the page shows what the API answers
    const api = await (await fetch(`${url}/api/collections/mini/search`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ modality: 'text', query: { text: words }, k: 7 }) })).json() as { results: { id: string }[] };
    const shown = await hits.evaluateAll((els) => els.map((e) => (e as unknown as { dataset: Record<string, string> }).dataset.id));
    assert.deepEqual(shown, api.results.map((r) => r.id));
    assert.ok((await page.locator('#results .result-labels .label').count()) > 0, 'labels shown');
    const dir = join(tmpdir(), 'cmhash-test-artifacts');
    mkdirSync(dir, { recursive: true });
    const shot = join(dir, 'service-search.png');
    await page.screenshot({ path: shot, fullPage: true });
    assert.ok(existsSync(shot));
    t.diagnostic(`screenshot: ${shot}`);

    // item → texts, with the photo item's thumbnail among the results of its own text
    await page.fill('#query-item', 'photo-1');
    await page.selectOption('#item-modality', 'text');
    await page.fill('#k', '1000'); // the newest item loses distance ties (insertion order): ask for all
    await page.click('#item-search-button');
    await page.waitForSelector('#results[data-state="done"]', { timeout: 15_000 });
    const thumb = page.locator('#results .result[data-id="photo-1"] img.result-thumb');
    await thumb.waitFor({ timeout: 10_000 });
    await thumb.scrollIntoViewIfNeeded(); // the page loads thumbnails lazily
    // the thumbnail is a decoded image served by the thumbnail route (the page's CSP forbids string eval, so poll)
    let loaded = false;
    for (let i = 0; i < 100 && !loaded; i++) {
      loaded = await thumb.evaluate((img) => { const x = img as unknown as { complete: boolean; naturalWidth: number }; return x.complete && x.naturalWidth > 0; });
      if (!loaded) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(loaded, 'thumbnail loaded');
    assert.match((await page.locator('#results .result[data-id="photo-1"] .result-meta').textContent()) ?? '', /<b>not bold<\/b>/, 'metadata shown as text');


    // an unknown item: the service's 404 message appears in #error
    await page.fill('#query-item', 'no-such-item');
    await page.click('#item-search-button');
    await page.waitForSelector('#error.visible', { timeout: 10_000 });
    assert.match((await page.locator('#error').textContent()) ?? '', /404.*no-such-item/);
    assert.deepEqual(pageErrors, []);
  } finally {
    await browser.close();
  }
});
