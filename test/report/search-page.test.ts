// The static search page: well-formed, self-contained, script parses; then driven in headless
// Chromium against a small mock of the API contract (docs/reports-export.md). The real service's
// end-to-end test lives with the service; this one checks the page on its own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Script } from 'node:vm';
import { SEARCH_PAGE_HTML, SEARCH_PAGE_SCRIPT_CSP_HASH, SEARCH_PAGE_STYLE_CSP_HASH } from '../../src/server/page/index.js';
import { checkWellFormed } from './html-check.js';

const CHROMIUM = '/usr/bin/chromium';
// A 1×1 PNG, served as a thumbnail.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');

test('search page is well-formed, self-contained and its script parses', () => {
  const { counts } = checkWellFormed(SEARCH_PAGE_HTML);
  assert.equal(counts.get('script'), 1);
  assert.doesNotMatch(SEARCH_PAGE_HTML, /https?:\/\//, 'no absolute URLs');
  assert.doesNotMatch(SEARCH_PAGE_HTML, /<script[^>]+src=|<link /, 'no external scripts or styles');
  for (const id of ['collection', 'query-text', 'search-button', 'query-item', 'item-modality', 'item-search-button', 'query-image', 'image-search-button', 'k', 'radius', 'error', 'status', 'results']) {
    assert.match(SEARCH_PAGE_HTML, new RegExp(`id="${id}" data-testid="${id}"`), `#${id}`);
  }
  const js = SEARCH_PAGE_HTML.slice(SEARCH_PAGE_HTML.indexOf('<script>') + 8, SEARCH_PAGE_HTML.indexOf('</script>'));
  assert.doesNotThrow(() => new Script(js));
  assert.match(SEARCH_PAGE_SCRIPT_CSP_HASH, /^'sha256-[A-Za-z0-9+/]{43}='$/);
  assert.match(SEARCH_PAGE_STYLE_CSP_HASH, /^'sha256-[A-Za-z0-9+/]{43}='$/);
});

interface Seen { path: string; body: string; contentType: string }

function mockService(seen: Seen[]) {
  return createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('latin1');
      const url = (req.url ?? '/').split('?')[0]!;
      seen.push({ path: `${req.method} ${url}`, body, contentType: String(req.headers['content-type'] ?? '') });
      const json = (status: number, obj: unknown) => { res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }); res.end(JSON.stringify(obj)); };
      if (req.method === 'GET' && url === '/') { res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }); res.end(SEARCH_PAGE_HTML); return; }
      if (req.method === 'GET' && url.startsWith('/thumbs/')) { res.writeHead(200, { 'content-type': 'image/png' }); res.end(PNG); return; }
      if (req.method === 'GET' && url === '/api/collections') { json(200, [{ name: 'mirflickr', items: 730, bits: 64, model_version: 3 }, { name: 'wiki', items: 2866, bits: 32, model_version: 1 }]); return; }
      const m = /^\/api\/collections\/([^/]+)\/(search|search-image)$/.exec(url);
      if (req.method === 'POST' && m) {
        const name = decodeURIComponent(m[1]!);
        if (name !== 'mirflickr') { json(404, { statusCode: 404, error: 'Not Found', message: `collection "${name}" not found` }); return; }
        if (m[2] === 'search-image') {
          if (!/multipart\/form-data/.test(String(req.headers['content-type'])) || !body.includes('name="image"')) { json(400, { statusCode: 400, error: 'Bad Request', message: 'field "image" missing' }); return; }
          json(200, { results: [{ id: 't7', distance: 5, labels: ['sea'], metadata: { text: 'a boat at sea' } }], model_version: 3, took_ms: 0.8 });
          return;
        }
        const q = JSON.parse(body) as { modality: string; query: { text?: string; itemId?: string }; k?: number };
        if (q.modality !== 'text' && q.modality !== 'image') { json(400, { statusCode: 400, error: 'Bad Request', message: 'modality must be text or image' }); return; }
        const kind = q.modality === 'text' ? 'img' : 'txt';
        json(200, {
          results: [
            { id: `${kind}1`, distance: 3, labels: ['sky', 'clouds'], metadata: { tags: 'sky clouds' }, thumbnail_url: '/thumbs/1.png' },
            { id: `${kind}2`, distance: 7, labels: ['<img src=x onerror=alert(1)>'], metadata: null, thumbnail_url: 'http://elsewhere.invalid/x.png' },
          ].slice(0, q.k ?? 20),
          model_version: 3, took_ms: 1.25,
        });
        return;
      }
      json(404, { statusCode: 404, error: 'Not Found', message: `no route ${req.method} ${url}` });
    });
  });
}

test('search page drives the API in headless Chromium', async (t) => {
  if (!existsSync(CHROMIUM)) { t.skip(`${CHROMIUM} not installed; browser check skipped`); return; }
  let pw: typeof import('playwright-core');
  try { pw = await import('playwright-core'); } catch (err) { t.skip(`playwright-core not available (${(err as Error).message})`); return; }
  const seen: Seen[] = [];
  const server = mockService(seen);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const browser = await pw.chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1100, height: 800 } });
    page.setDefaultTimeout(10_000);
    const dialogs: string[] = [];
    page.on('dialog', (d) => { dialogs.push(d.message()); void d.dismiss(); });
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(`http://127.0.0.1:${port}/?collection=mirflickr`);
    await page.waitForSelector('body[data-ready="true"]', { state: 'attached' });
    assert.equal(await page.inputValue('#collection'), 'mirflickr');
    assert.match(await page.textContent('#collection-info') ?? '', /730 items · 64 bits · model version 3/);

    // Tags → images.
    await page.fill('#query-text', 'sky clouds');
    await page.fill('#k', '5');
    await page.fill('#radius', '10');
    await page.click('#search-button');
    await page.waitForSelector('#results[data-state="done"]');
    const cards = page.locator('#results .result');
    assert.equal(await cards.count(), 2);
    assert.equal(await cards.nth(0).getAttribute('data-id'), 'img1');
    assert.equal(await cards.nth(0).locator('.result-distance').getAttribute('data-distance'), '3');
    assert.deepEqual(await cards.nth(0).locator('.label').allTextContents(), ['sky', 'clouds']);
    assert.equal(await cards.nth(0).locator('img.result-thumb').getAttribute('src'), `http://127.0.0.1:${port}/thumbs/1.png`);
    // Foreign thumbnail URLs are not loaded; markup in labels is shown as text.
    assert.equal(await cards.nth(1).locator('img').count(), 0);
    assert.deepEqual(await cards.nth(1).locator('.label').allTextContents(), ['<img src=x onerror=alert(1)>']);
    assert.match(await page.textContent('#status') ?? '', /2 results \(images\) in 1\.25 ms · model version 3/);
    const sent = JSON.parse(seen.find((s) => s.path === 'POST /api/collections/mirflickr/search')!.body);
    assert.deepEqual(sent, { modality: 'text', query: { text: 'sky clouds' }, k: 5, radius: 10 });
    const shotDir = join(tmpdir(), 'cmhash-test-artifacts');
    mkdirSync(shotDir, { recursive: true });
    await page.screenshot({ path: join(shotDir, 'search-page.png'), fullPage: true });
    t.diagnostic(`screenshot: ${join(shotDir, 'search-page.png')}`);

    // "Use as image query" on a result → item search with modality image.
    await cards.nth(0).locator('.result-query').click();
    await page.waitForSelector('#results[data-state="done"] .result[data-id="txt1"]');
    assert.deepEqual(JSON.parse(seen.filter((s) => s.path.endsWith('/search')).at(-1)!.body), { modality: 'image', query: { itemId: 'img1' }, k: 5, radius: 10 });

    // Image upload → texts (multipart with the "image" field and k).
    await page.fill('#radius', '');
    await page.setInputFiles('#query-image', { name: 'q.png', mimeType: 'image/png', buffer: PNG });
    await page.click('#image-search-button');
    await page.waitForSelector('#results[data-state="done"] .result[data-id="t7"]');
    const upload = seen.find((s) => s.path === 'POST /api/collections/mirflickr/search-image')!;
    assert.match(upload.contentType, /^multipart\/form-data; boundary=/);
    assert.match(upload.body, /name="k"\r\n\r\n5\r\n/);
    assert.match(upload.body, /name="image"; filename="q.png"/);
    assert.match(await page.textContent('#results .result-meta') ?? '', /text: a boat at sea/);

    // Errors: client-side validation, then a 404 from the service, shown in #error.
    await page.fill('#k', '0');
    await page.click('#search-button');
    assert.match(await page.textContent('#error') ?? '', /k must be a whole number of at least 1/);
    await page.fill('#k', '5');
    await page.selectOption('#collection', 'wiki');
    await page.click('#search-button');
    await page.waitForSelector('#results[data-state="error"]', { state: 'attached' });
    assert.equal(await page.textContent('#error'), 'Request failed (404 Not Found): collection "wiki" not found');
    assert.equal(await page.locator('#error').isVisible(), true);
    assert.equal(await page.locator('#results .result').count(), 0);

    assert.deepEqual(dialogs, [], 'no script injection');
    assert.deepEqual(pageErrors, []);
  } finally {
    await browser.close();
    await new Promise((resolve) => server.close(resolve));
  }
});
