// End to end with access tokens: the search page loads without a token, its API calls get 401 and
// the page asks for the token; after "Use token" (kept in sessionStorage) it lists collections,
// searches and shows a thumbnail fetched with the Authorization header. Headless Chromium
// (playwright-core), skipped when /usr/bin/chromium is absent.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { buildService } from '../../src/server/app.js';
import { browserMissing, openSearchPage } from './search-page-browser.js';
import { CollectionRegistry } from '../../src/product/registry.js';
import { buildFixture, features, type Fixture } from './fixture.js';

const READ = 'page-read-token-0123456789';

let fx: Fixture | null = null;
let app: FastifyInstance | null = null;
let registry: CollectionRegistry | null = null;
let url = '';
const seen: { url: string; auth: string | undefined }[] = [];

before(async () => {
  if (browserMissing()) return;
  fx = await buildFixture('tok');
  registry = new CollectionRegistry();
  registry.add(fx.collection);
  app = await buildService({ collections: registry, processMetrics: false, tokens: [{ scope: 'read', token: READ }] });
  app.addHook('onRequest', async (req) => { seen.push({ url: req.url, auth: req.headers.authorization }); });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  const f = features(fx.ds, fx.ds.split('query')[0]!);
  await fx.collection.addItems([{ id: 'photo-1', image: Float32Array.from(f.image), text: Float32Array.from(f.text), labels: ['class1'], metadata: { image: 'red.png' } }]);
});

after(async () => {
  await app?.close();
  registry?.close();
  if (fx) rmSync(fx.root, { recursive: true, force: true });
});

/** Polls `check` every 100 ms for up to 10 s (the page's CSP forbids string eval). */
async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 100; i++) { if (await check()) return; await new Promise((r) => setTimeout(r, 100)); }
  assert.fail(`timed out waiting for: ${what}`);
}

test('search page with access tokens: asks for the token on 401, then searches with it', async (t) => {
  const missing = browserMissing();
  if (missing) { t.skip(missing); return; }
  const { browser, page, pageErrors } = await openSearchPage(url, 'tok');
  try {
    await page.waitForSelector('#error.visible', { timeout: 10_000 });
    assert.match((await page.locator('#error').textContent()) ?? '', /needs an access token \(401\)\. Enter a read token under "Access token"/);
    assert.equal(await page.locator('#token').getAttribute('class'), 'needed');

    // a wrong token: a different message
    await page.fill('#token', 'not-the-token-0123456789');
    await page.click('#token-button');
    await until(async () => /not accepted/.test((await page.locator('#error').textContent()) ?? ''), 'wrong-token message');

    await page.fill('#token', READ);
    await page.click('#token-button');
    await until(async () => (await page.locator('#collection').inputValue()) === 'tok', 'collections listed');
    assert.equal(await page.locator('#error.visible').count(), 0, 'error cleared');
    assert.equal(await page.evaluate(() => (globalThis as unknown as { sessionStorage: { getItem(k: string): string | null } }).sessionStorage.getItem('cmhash.token')), READ);
    assert.equal(await page.locator('#token').inputValue(), '', 'the token is not left in the field');

    // item → texts with the photo's thumbnail, fetched with the token
    await page.fill('#query-item', 'photo-1');
    await page.selectOption('#item-modality', 'text');
    await page.fill('#k', '1000');
    await page.click('#item-search-button');
    await page.waitForSelector('#results[data-state="done"]', { timeout: 15_000 });
    const thumb = page.locator('#results .result[data-id="photo-1"] img.result-thumb');
    await thumb.waitFor({ timeout: 10_000 });
    let src = '';
    for (let i = 0; i < 100 && !src.startsWith('blob:'); i++) {
      src = (await thumb.getAttribute('src')) ?? '';
      if (!src.startsWith('blob:')) await new Promise((r) => setTimeout(r, 100));
    }
    assert.match(src, /^blob:/, 'thumbnail shown from a blob: URL');
    const thumbRequests = seen.filter((s) => s.url.includes('/thumbnail'));
    assert.ok(thumbRequests.length > 0 && thumbRequests.every((s) => s.auth === `Bearer ${READ}`), 'thumbnails fetched with the token');
    const apiCalls = seen.filter((s) => s.url.startsWith('/api/') && s.auth === `Bearer ${READ}`);
    assert.ok(apiCalls.some((s) => s.url.endsWith('/search')), 'search sent with the token');

    // a reload keeps the token for this tab
    await page.reload();
    await page.waitForSelector('body[data-ready="true"]', { timeout: 15_000 });
    await until(async () => (await page.locator('#collection').inputValue()) === 'tok', 'collections listed after reload');
    assert.deepEqual(pageErrors, []);
  } finally {
    await browser.close();
  }
});
