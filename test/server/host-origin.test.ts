// The Host and Origin checks (src/server/host-check.ts, origin-check.ts): on loopback a Host that is
// not loopback, an IP address or a listed name gets 421 (DNS rebinding); a write from another
// origin gets 403 (a multipart upload needs no preflight, so any page could send one). Same-origin,
// Origin-less and --cors-origin requests pass; a non-loopback bind checks Host only when names are
// listed. The last test drives the search page and a page on another origin in headless Chromium.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request, createServer, type IncomingHttpHeaders } from 'node:http';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { buildService } from '../../src/server/app.js';
import { startService } from '../../src/server/serve.js';
import { CollectionRegistry } from '../../src/product/registry.js';
import { checkAllowedHosts, hostAccepted, hostName, hostRefusal } from '../../src/server/host-check.js';
import { crossOriginRefusal, isOwnOrigin } from '../../src/server/origin-check.js';
import { InputError } from '../../src/util/errors.js';
import { browserMissing, openSearchPage } from './search-page-browser.js';
import { buildFixture, type Fixture } from './fixture.js';
import { multipartBody } from './multipart-body.js';

const APP = 'https://app.example.com';
const WRITE = 'write-token-0123456789abcdef';

let fx: Fixture;
let registry: CollectionRegistry;

before(async () => {
  fx = await buildFixture('guard');
  registry = new CollectionRegistry();
  registry.add(fx.collection);
});
after(() => { registry.close(); rmSync(fx.root, { recursive: true, force: true }); });

interface Answer { status: number; headers: IncomingHttpHeaders; body: { message?: string; added?: number } }

/** A raw HTTP request to 127.0.0.1:port, with whatever Host and Origin headers the test wants. */
function send(port: number, o: { method?: string; path: string; headers?: Record<string, string>; body?: Buffer }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: o.method ?? 'GET', path: o.path, headers: o.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: Answer['body'] = {};
        try { body = JSON.parse(text) as Answer['body']; } catch { /* the search page's HTML */ }
        resolve({ status: res.statusCode!, headers: res.headers, body });
      });
    });
    req.on('error', reject);
    req.end(o.body);
  });
}

/** A multipart/form-data body as a browser form would send it. */
const form = (fields: Record<string, string>) => multipartBody(Object.entries(fields));

/** The item upload as curl sends it: `curl -F id=… -F text=… -F labels=class1 …/items/upload`. */
async function upload(port: number, id: string, headers: Record<string, string> = {}): Promise<Answer> {
  const f = await form({ id, text: 'w3 w17', labels: 'class1' });
  return send(port, { method: 'POST', path: '/api/collections/guard/items/upload', headers: { 'content-type': f.type, ...headers }, body: f.body });
}

const stored = async (port: number, id: string): Promise<boolean> => (await send(port, { path: `/api/collections/guard/items/${id}` })).status === 200;

test('Host names: localhost and IP addresses with any port, listed names; others and malformed headers refused', () => {
  assert.equal(hostName('LocalHost:8080'), 'localhost');
  assert.equal(hostName('[::1]:9'), '[::1]');
  assert.equal(hostName('127.0.0.1'), '127.0.0.1');
  for (const bad of [undefined, '', 'a b', 'evil@127.0.0.1', 'a/b', '[::1', 'a:b:c', 'a:123456']) assert.equal(hostName(bad), null, String(bad));
  const listed = new Set(checkAllowedHosts(['cmhash.lan', ' Photos.Example.COM ', '::1']));
  assert.deepEqual([...listed], ['cmhash.lan', 'photos.example.com', '[::1]']);
  for (const h of ['localhost', '127.0.0.1', '127.9.8.7', '[::1]', '[::ffff:127.0.0.1]', '10.0.0.5', 'cmhash.lan', 'photos.example.com']) assert.ok(hostAccepted(h, listed), h);
  for (const h of ['evil.example', 'localhost.evil.example', 'cmhash.lan.evil.example', '127.0.0.1.nip.io', 'lan']) assert.ok(!hostAccepted(h, listed), h);
  assert.equal(hostRefusal('localhost:1', new Set()), null);
  assert.equal(hostRefusal('evil.example:18123', new Set()), 'Host header refused: got Host "evil.example:18123"; this service answers localhost and IP addresses (add names with serve --allowed-hosts)');
  assert.equal(hostRefusal(undefined, listed), 'Host header refused: got no Host header; this service answers localhost, IP addresses and its --allowed-hosts names (add names with serve --allowed-hosts)');
  for (const bad of ['*', 'http://a.example', 'a.example:80', 'a.example/', '', '-a.example', 'a..b']) {
    assert.throws(() => checkAllowedHosts([bad]), (e: unknown) => e instanceof InputError && e.exitCode === 2 && /--allowed-hosts .*: expected a host name/.test(e.message), bad);
  }
});

test('Origin: the service\'s own (either scheme) and --cors-origin pass; other origins and cross-site refused, for writes only', () => {
  assert.ok(isOwnOrigin('http://127.0.0.1:8080', '127.0.0.1:8080'));
  assert.ok(isOwnOrigin('http://[::1]:8080', '[::1]:8080'));
  assert.ok(isOwnOrigin('http://cmhash.lan', 'cmhash.lan:80'), 'default port on either side');
  assert.ok(isOwnOrigin('https://photos.example.com', 'photos.example.com'), 'behind an HTTPS proxy that passes Host on');
  for (const [o, h] of [['http://127.0.0.1:8081', '127.0.0.1:8080'], ['http://localhost:8080', '127.0.0.1:8080'], ['http://evil.example', '127.0.0.1:8080'], ['null', '127.0.0.1:8080'],
    ['http://127.0.0.1:8080', 'evil@127.0.0.1:8080'], ['file:///x', '127.0.0.1:8080'], ['http://127.0.0.1:8080', undefined]] as const) assert.ok(!isOwnOrigin(o, h), `${o} on ${h}`);
  const cors = new Set([APP]);
  const h = (more: Record<string, string>) => ({ host: '127.0.0.1:8080', ...more });
  for (const m of ['POST', 'PUT', 'PATCH', 'DELETE']) {
    assert.match(crossOriginRefusal(m, h({ origin: 'http://evil.example' }), cors)!, new RegExp(`^cross-origin ${m} refused: Origin "http://evil\\.example" is neither`));
    assert.equal(crossOriginRefusal(m, h({ origin: 'http://127.0.0.1:8080' }), cors), null, `${m} same origin`);
    assert.equal(crossOriginRefusal(m, h({}), cors), null, `${m} without Origin (curl, the CLI)`);
    assert.equal(crossOriginRefusal(m, h({ origin: APP, 'sec-fetch-site': 'cross-site' }), cors), null, `${m} from a --cors-origin`);
  }
  assert.match(crossOriginRefusal('POST', h({ 'sec-fetch-site': 'cross-site' }), cors)!, /Sec-Fetch-Site is cross-site and the Origin \(none\)/);
  assert.match(crossOriginRefusal('POST', h({ origin: 'null' }), cors)!, /Origin "null"/);
  assert.equal(crossOriginRefusal('POST', h({ origin: 'http://127.0.0.1:8080', 'sec-fetch-site': 'same-origin' }), cors), null);
  for (const m of ['GET', 'HEAD', 'OPTIONS']) assert.equal(crossOriginRefusal(m, h({ origin: 'http://evil.example', 'sec-fetch-site': 'cross-site' }), cors), null, m);
});

test('loopback bind, no tokens: a cross-origin upload and a rebinding Host are refused; same-origin, no Origin, --cors-origin and listed hosts pass', async () => {
  const s = await startService({ collections: registry, processMetrics: false, host: '127.0.0.1', port: 0, corsOrigins: [APP], allowedHosts: ['cmhash.lan'] });
  const { port } = s;
  try {
    // curl -H 'Origin: http://evil.example' -F … …/items/upload
    const evil = await upload(port, 'evil1', { origin: 'http://evil.example' });
    assert.equal(evil.status, 403);
    assert.match(evil.body.message!, /cross-origin POST refused: Origin "http:\/\/evil\.example"/);
    assert.equal(await stored(port, 'evil1'), false, 'nothing stored');
    // curl -H 'Host: evil.example:PORT' …/api/collections — and a write through the rebound name
    const read = await send(port, { path: '/api/collections', headers: { host: `evil.example:${port}` } });
    assert.equal(read.status, 421);
    assert.deepEqual(read.body, { statusCode: 421, error: 'Misdirected Request', message: `Host header refused: got Host "evil.example:${port}"; this service answers localhost, IP addresses and its --allowed-hosts names (add names with serve --allowed-hosts)` });
    assert.equal((await upload(port, 'evil2', { host: `evil.example:${port}`, origin: `http://evil.example:${port}` })).status, 421);
    assert.equal((await send(port, { path: '/', headers: { host: 'evil.example' } })).status, 421, 'the page too');
    assert.equal((await upload(port, 'evil3', { 'sec-fetch-site': 'cross-site' })).status, 403);
    const json = { 'content-type': 'application/json', origin: 'http://evil.example' };
    assert.equal((await send(port, { method: 'POST', path: '/api/collections/guard/items', headers: json, body: Buffer.from(JSON.stringify({ items: [{ id: 'evil4', raw_text: 'w3' }] })) })).status, 403);
    for (const id of ['evil2', 'evil3', 'evil4']) assert.equal(await stored(port, id), false, id);

    // what must keep working
    assert.equal((await upload(port, 'same-origin', { origin: `http://127.0.0.1:${port}`, 'sec-fetch-site': 'same-origin' })).status, 200);
    assert.equal((await upload(port, 'no-origin')).status, 200, 'curl, the CLI, scripts');
    const cors = await upload(port, 'cors-origin', { origin: APP, 'sec-fetch-site': 'cross-site' });
    assert.equal(cors.status, 200);
    assert.equal(cors.headers['access-control-allow-origin'], APP);
    assert.equal((await upload(port, 'localhost-origin', { host: `localhost:${port}`, origin: `http://localhost:${port}` })).status, 200);
    assert.equal((await upload(port, 'listed-host', { host: 'cmhash.lan:8080', origin: 'http://cmhash.lan:8080' })).status, 200);
    for (const id of ['same-origin', 'no-origin', 'cors-origin', 'localhost-origin', 'listed-host']) assert.equal(await stored(port, id), true, id);
    for (const host of ['localhost:1', '127.0.0.1:65535', '127.3.4.5', '[::1]:80', 'CMHASH.LAN']) {
      assert.equal((await send(port, { path: '/api/collections', headers: { host } })).status, 200, host);
    }
    // GETs are checked for Host only; a preflight from a listed origin still works
    assert.equal((await send(port, { path: '/api/collections', headers: { origin: 'http://evil.example', 'sec-fetch-site': 'cross-site' } })).status, 200);
    const pre = await send(port, { method: 'OPTIONS', path: '/api/collections/guard/items', headers: { origin: APP, 'access-control-request-method': 'POST' } });
    assert.equal(pre.status, 204);
    assert.equal((await send(port, { method: 'DELETE', path: '/api/collections/guard/items/no-origin', headers: { origin: 'http://evil.example' } })).status, 403);
    assert.equal(await stored(port, 'no-origin'), true, 'the cross-origin DELETE removed nothing');
  } finally { await s.app.close(); }
});

test('with tokens the same rules apply; app.inject (not listening) is checked like loopback', async () => {
  const app = await buildService({ collections: registry, processMetrics: false, tokens: [{ scope: 'write', token: WRITE }] });
  try {
    const auth = { authorization: `Bearer ${WRITE}` };
    const f = await form({ id: 'tok-evil', text: 'w3', labels: 'class1' });
    const up = (headers: Record<string, string>) => app.inject({ method: 'POST', url: '/api/collections/guard/items/upload', payload: f.body, headers: { 'content-type': f.type, ...auth, ...headers } });
    assert.equal((await up({ origin: 'http://evil.example' })).statusCode, 403);
    assert.equal((await up({ host: 'evil.example' })).statusCode, 421);
    assert.equal((await app.inject({ url: '/api/collections', headers: { ...auth, host: 'evil.example' } })).statusCode, 421);
    assert.equal((await up({})).statusCode, 200, 'inject\'s own Host (localhost:80), no Origin');
  } finally { await app.close(); }
});

test('non-loopback bind: any Host is answered unless names are listed', async () => {
  // bound to every interface, with tokens so the collection is not open to the network; /health needs none
  const tokens = [{ scope: 'write' as const, token: WRITE }];
  const open = await startService({ collections: registry, processMetrics: false, host: '0.0.0.0', port: 0, tokens });
  try {
    for (const host of ['evil.example', 'photos.example.com:8080', '10.1.2.3']) assert.equal((await send(open.port, { path: '/health', headers: { host } })).status, 200, host);
    // the Origin check does not depend on the bind
    assert.equal((await upload(open.port, 'wild-evil', { origin: 'http://evil.example', authorization: `Bearer ${WRITE}` })).status, 403);
  } finally { await open.app.close(); }
  const listed = await startService({ collections: registry, processMetrics: false, host: '0.0.0.0', port: 0, tokens, allowedHosts: ['photos.example.com'] });
  try {
    assert.equal((await send(listed.port, { path: '/health', headers: { host: 'evil.example' } })).status, 421);
    for (const host of ['photos.example.com:8080', '10.1.2.3', 'localhost']) assert.equal((await send(listed.port, { path: '/health', headers: { host } })).status, 200, host);
  } finally { await listed.app.close(); }
});

test('in Chromium: the search page\'s JSON and multipart requests pass; another origin\'s upload and a rebound name are refused', async (t) => {
  const missing = browserMissing();
  if (missing) { t.skip(missing); return; }
  const s = await startService({ collections: registry, processMetrics: false, host: '127.0.0.1', port: 0 });
  // the other origin: a page on another port of 127.0.0.1 (no CSP), as any site the user visits
  const other = createServer((_req, res) => { res.writeHead(200, { 'content-type': 'text/html' }); res.end('<!doctype html><title>elsewhere</title>'); });
  await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
  const otherUrl = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
  const url = s.localUrl;
  const { browser, page, pageErrors } = await openSearchPage(url, 'guard', [`--host-resolver-rules=MAP rebound.example 127.0.0.1`]);
  try {
    // the page's own calls: a JSON search and an image upload search (multipart)
    await page.fill('#query-text', 'w3 w17');
    await page.click('#search-button');
    await page.waitForSelector('#results[data-state="done"]', { timeout: 15_000 });
    await page.setInputFiles('#query-image', join(fx.imageRoot, 'red.png'));
    await page.click('#image-search-button');
    // the synthetic collection has no photo encoder: the route itself answers 400, past both checks
    await page.waitForSelector('#error.visible', { timeout: 15_000 });
    assert.match((await page.locator('#error').textContent()) ?? '', /400.*cannot compute from a photo/);
    // a same-origin multipart write from the page, as the browser sends it (Origin, Sec-Fetch-Site)
    const sameStatus = await page.evaluate(async (target) => {
      const f = new FormData(); f.append('id', 'page-write'); f.append('text', 'w3'); f.append('labels', 'class1');
      return (await fetch(target, { method: 'POST', body: f })).status;
    }, '/api/collections/guard/items/upload');
    assert.equal(sameStatus, 200);
    assert.equal(await stored(s.port, 'page-write'), true);
    assert.deepEqual(pageErrors, []);

    // a page on another origin posts an item upload (no preflight needed, answer unread)
    const elsewhere = await browser.newPage();
    await elsewhere.goto(otherUrl);
    await elsewhere.evaluate(async (target) => {
      const f = new FormData(); f.append('id', 'csrf-1'); f.append('text', 'w3 w17'); f.append('labels', 'class1');
      await fetch(target, { method: 'POST', body: f, mode: 'no-cors' });
    }, `${url}/api/collections/guard/items/upload`);
    assert.equal(await stored(s.port, 'csrf-1'), false, 'the cross-origin upload stored nothing');
    const text = await (await fetch(`${url}/metrics`)).text();
    assert.match(text, /cmhash_http_requests_total\{method="POST",route="\/api\/collections\/:name\/items\/upload",status="403"\} 1/, 'it reached the service and was refused');

    // DNS rebinding: rebound.example resolves to 127.0.0.1, so its page would be "same-origin"
    const rebound = await elsewhere.goto(`http://rebound.example:${s.port}/api/collections`);
    assert.equal(rebound?.status(), 421);
    assert.match(await rebound!.text(), /Host header refused: got Host \\"rebound\.example:\d+\\"/);
  } finally {
    await browser.close();
    await new Promise((r) => other.close(r));
    await s.app.close();
  }
});
