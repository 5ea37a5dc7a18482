// End to end on real photos: a small collection of MIRFlickr photo rows (the fast descriptor
// encoder, a briefly trained continual model, the image root set so thumbnails are served), the
// real service on 127.0.0.1, the search page in headless Chromium (playwright-core): a concept
// typed into the text search shows result cards whose thumbnails actually decoded, in the order the
// API answers. Writes a screenshot to $TMPDIR/cmhash-test-artifacts/photo-search.png.
// Skipped (with the reason) when the MIRFlickr data or /usr/bin/chromium is absent.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildService } from '../../src/server/app.js';
import { browserMissing, CHROMIUM, openSearchPage } from './search-page-browser.js';
import { CollectionRegistry } from '../../src/product/registry.js';
import { buildContinualCollection, commonImageRoot } from '../../src/product/build-collection.js';
import { loadDataset } from '../../src/data/load.js';
import { findDataDir } from '../../src/data/presets/common.js';
import { encodeDatasetImages } from '../../src/data/image-encoders/dataset.js';
import { imageEncoderEntry } from '../../src/data/image-encoders/encoder.js';
import { createContinualHasher } from '../../src/methods/registry.js';
import { vocabularyFor } from '../../src/cli/commands/demo.js';

const ROWS = 160; // photo rows in the collection (descriptor encoding ~ a few ms each)
const QUERY = 'sunset';
const K = 8;

const dataDir = findDataDir('mirflickr25k');
const skipReason = !existsSync(CHROMIUM) ? `${CHROMIUM} not found; photo page test skipped`
  : !dataDir || !existsSync(join(dataDir, 'images')) ? 'MIRFlickr photos (/work/shared/data/mirflickr25k) not found; photo page test skipped' : null;

let root = '';
let app: FastifyInstance | null = null;
let registry: CollectionRegistry | null = null;
let url = '';
let buildSeconds = 0;

before(async () => {
  if (skipReason) return;
  const t0 = performance.now();
  root = mkdtempSync(join(tmpdir(), 'cmhash-photo-page-'));
  const all = await loadDataset('mirflickr25k-photos', { seed: 1 });
  const sub = all.subset(Array.from({ length: Math.min(ROWS, all.n) }, (_, i) => i), 'photos-e2e');
  // the cache stays in the test's own folder: never the data folder, never the user's cache
  const enc = await encodeDatasetImages(sub, 'descriptor', { cacheDir: join(root, 'cache'), threads: 1 });
  const ds = enc.dataset;
  const entry = imageEncoderEntry('descriptor');
  const built = await buildContinualCollection(ds, {
    dir: join(root, 'photos'), name: 'photos', hasher: createContinualHasher('ccmh-gam', { bits: 32, hidden: 128 }), bits: 32,
    sessions: String(ds.numLabels), seed: 1, train: { epochs: 15 }, vocabulary: vocabularyFor(ds), imageRoot: commonImageRoot(ds),
    imageDescriptor: entry.id, imageEncoderVersion: enc.version,
  });
  registry = new CollectionRegistry();
  registry.add(built.collection);
  app = await buildService({ collections: registry, processMetrics: false });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  buildSeconds = (performance.now() - t0) / 1000;
});

after(async () => {
  await app?.close();
  registry?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

test('photo search page on real MIRFlickr photos: thumbnails load, results match the API, screenshot', async (t) => {
  if (skipReason) { t.skip(skipReason); return; }
  t.diagnostic(`collection built and served in ${buildSeconds.toFixed(1)} s`);
  const info = await (await fetch(`${url}/api/collections/photos`)).json() as { items: number; thumbnails: boolean; raw_text: boolean };
  assert.ok(info.thumbnails, 'the collection serves thumbnails (image root set)');
  assert.ok(info.raw_text, 'raw text queries go through the tag vocabulary');
  const api = await (await fetch(`${url}/api/collections/photos/search`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ modality: 'text', query: { text: QUERY }, k: K }) })).json() as { results: { id: string; labels: string[]; thumbnail_url?: string }[] };
  assert.equal(api.results.length, K);
  assert.ok(api.results.every((r) => typeof r.thumbnail_url === 'string'), 'every photo result has a thumbnail URL');

  const { browser, page, pageErrors } = await openSearchPage(url, 'photos');
  try {
    await page.fill('#query-text', QUERY);
    await page.fill('#k', String(K));
    await page.click('#search-button');
    await page.waitForSelector('#results[data-state="done"]', { timeout: 15_000 });
    const hits = page.locator('#results .result');
    assert.equal(await hits.count(), K);
    const shown = await hits.evaluateAll((els) => els.map((e) => (e as unknown as { dataset: Record<string, string> }).dataset.id));
    assert.deepEqual(shown, api.results.map((r) => r.id), 'the page shows what the API answers');

    // every card's thumbnail is a decoded photo served by the thumbnail route (lazy: scroll to each;
    // the page's CSP forbids string eval, so poll)
    const natural: number[] = [];
    for (let i = 0; i < K; i++) {
      const thumb = hits.nth(i).locator('img.result-thumb');
      await thumb.waitFor({ timeout: 10_000 });
      await thumb.scrollIntoViewIfNeeded();
      let w = 0;
      for (let j = 0; j < 100 && w === 0; j++) {
        w = await thumb.evaluate((img) => { const x = img as unknown as { complete: boolean; naturalWidth: number }; return x.complete ? x.naturalWidth : 0; });
        if (w === 0) await new Promise((r) => setTimeout(r, 100));
      }
      natural.push(w);
    }
    assert.ok(natural.every((w) => w > 0), `thumbnails decoded (naturalWidth ${natural.join(', ')})`);

    await page.evaluate(() => (globalThis as unknown as { scrollTo(x: number, y: number): void }).scrollTo(0, 0));
    const dir = join(tmpdir(), 'cmhash-test-artifacts');
    mkdirSync(dir, { recursive: true });
    const shot = join(dir, 'photo-search.png');
    rmSync(shot, { force: true });
    await page.screenshot({ path: shot, fullPage: true });
    assert.ok(existsSync(shot));
    const size = statSync(shot).size;
    assert.ok(size > 50_000, `screenshot with photos is non-trivial (${size} bytes)`);
    t.diagnostic(`screenshot: ${shot} (${size} bytes); top ${K} for '${QUERY}': ${api.results.filter((r) => r.labels.includes(QUERY)).length} carry the concept`);
    assert.deepEqual(pageErrors, []);
  } finally {
    await browser.close();
  }
});
