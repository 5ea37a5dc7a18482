// Guards of the service besides tokens: the per-client rate limit (429, Retry-After, /health
// exempt), CORS (off by default, exact allow-list), socket timeouts (a client stalling in its
// headers is cut off; idle keep-alive closes), accurate JSON body errors (`__proto__`), the
// listen address (real bind printed, non-loopback refused without tokens).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { buildService } from '../../src/server/app.js';
import { startService } from '../../src/server/serve.js';
import { checkExposure, isLoopbackHost } from '../../src/server/exposure.js';
import { checkCorsOrigins } from '../../src/server/cors.js';
import { CollectionRegistry } from '../../src/product/registry.js';
import { InputError } from '../../src/util/errors.js';
import { buildFixture, type Fixture } from './fixture.js';
import { rmSync } from 'node:fs';

let fx: Fixture;
let registry: CollectionRegistry;

before(async () => {
  fx = await buildFixture('lim');
  registry = new CollectionRegistry();
  registry.add(fx.collection);
});
after(() => { registry.close(); rmSync(fx.root, { recursive: true, force: true }); });

async function withService(opts: Partial<Parameters<typeof buildService>[0]>, fn: (app: FastifyInstance) => Promise<void>): Promise<void> {
  const app = await buildService({ collections: registry, processMetrics: false, ...opts });
  try { await fn(app); } finally { await app.close(); }
}

test('rate limit: past the per-minute budget a client gets 429 with JSON and Retry-After; /health exempt', async () => {
  await withService({ limits: { rateLimitPerMinute: 3 } }, async (app) => {
    for (let i = 0; i < 3; i++) assert.equal((await app.inject({ url: '/api/collections' })).statusCode, 200);
    const r = await app.inject({ url: '/api/collections' });
    assert.equal(r.statusCode, 429);
    assert.ok(Number(r.headers['retry-after']) > 0 && Number(r.headers['retry-after']) <= 60, `retry-after ${r.headers['retry-after']}`);
    const body = JSON.parse(r.body);
    assert.deepEqual(body, { statusCode: 429, error: 'Too Many Requests', message: body.message });
    assert.match(body.message, /rate limit exceeded: at most 3 requests per minute per client; retry in/);
    // another client address has its own budget; health checks are never limited
    assert.equal((await app.inject({ url: '/api/collections', remoteAddress: '10.0.0.9' })).statusCode, 200);
    for (let i = 0; i < 5; i++) assert.equal((await app.inject({ url: '/health' })).statusCode, 200);
  });
  // the library default is off (bench serve drives one client at thousands of requests/s)
  await withService({}, async (app) => {
    for (let i = 0; i < 50; i++) assert.equal((await app.inject({ url: '/api/collections' })).statusCode, 200);
  });
});

test('CORS: no headers by default; only listed origins are allowed', async () => {
  await withService({}, async (app) => {
    const r = await app.inject({ url: '/api/collections', headers: { origin: 'https://app.example.com' } });
    assert.equal(r.headers['access-control-allow-origin'], undefined);
    const pre = await app.inject({ method: 'OPTIONS', url: '/api/collections/lim/search', headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST' } });
    assert.equal(pre.headers['access-control-allow-origin'], undefined);
  });
  await withService({ corsOrigins: ['https://app.example.com'], tokens: [{ scope: 'read', token: 'read-token-0123456789' }] }, async (app) => {
    const pre = await app.inject({ method: 'OPTIONS', url: '/api/collections/lim/search', headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' } });
    assert.equal(pre.statusCode, 204, 'preflight needs no token');
    assert.equal(pre.headers['access-control-allow-origin'], 'https://app.example.com');
    assert.match(String(pre.headers['access-control-allow-headers']), /authorization/);
    const ok = await app.inject({ url: '/api/collections', headers: { origin: 'https://app.example.com', authorization: 'Bearer read-token-0123456789' } });
    assert.equal(ok.statusCode, 200);
    assert.equal(ok.headers['access-control-allow-origin'], 'https://app.example.com');
    const other = await app.inject({ url: '/api/collections', headers: { origin: 'https://evil.example', authorization: 'Bearer read-token-0123456789' } });
    assert.equal(other.headers['access-control-allow-origin'], undefined);
    const doc = JSON.parse((await app.inject({ url: '/openapi.json' })).body) as { paths: Record<string, unknown> };
    assert.ok(!('*' in doc.paths) && !('/*' in doc.paths), 'the catch-all OPTIONS route is not documented');
  });
  assert.deepEqual(checkCorsOrigins(['http://localhost:3000']), ['http://localhost:3000']);
  for (const bad of ['*', 'https://a.example/', 'https://a.example/path', 'a.example', 'ftp://a.example']) {
    assert.throws(() => checkCorsOrigins([bad]), (e: unknown) => e instanceof InputError && /expected an origin like/.test(e.message), bad);
  }
});

/** Opens a socket, sends `data`, resolves with ms until the server closes it (or rejects after `maxMs`). */
function closedAfter(port: number, data: string, maxMs: number): Promise<{ ms: number; reply: string }> {
  return new Promise((res, rej) => {
    const t0 = performance.now();
    let reply = '';
    const s = connect(port, '127.0.0.1', () => s.write(data));
    s.on('data', (d) => { reply += d; });
    s.on('close', () => { clearTimeout(timer); res({ ms: performance.now() - t0, reply }); });
    s.on('error', () => { /* reset counts as closed */ });
    const timer = setTimeout(() => { s.destroy(); rej(new Error(`socket still open after ${maxMs} ms`)); }, maxMs);
  });
}

test('timeouts: a client stalling in its headers is cut off; an idle keep-alive connection is closed', async () => {
  await withService({ limits: { headersTimeoutMs: 300, requestTimeoutMs: 1000, keepAliveTimeoutMs: 200 } }, async (app) => {
    await app.listen({ host: '127.0.0.1', port: 0 });
    const addr = app.server.address();
    const port = typeof addr === 'object' && addr ? addr.port : 0;
    assert.equal(app.server.headersTimeout, 300);
    assert.equal(app.server.requestTimeout, 1000);
    assert.equal(app.server.keepAliveTimeout, 200);
    // partial headers, then silence: closed after ~300 ms (checked every 75 ms), with a 408
    const slow = await closedAfter(port, 'GET /health HTTP/1.1\r\nHost: localhost\r\nX-Slow: 1\r\n', 3000);
    assert.ok(slow.ms >= 250 && slow.ms < 1500, `closed after ${slow.ms.toFixed(0)} ms`);
    assert.match(slow.reply, /^HTTP\/1\.1 408/);
    // a complete request, then an idle keep-alive connection: closed after ~200 ms
    const idle = await closedAfter(port, 'GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n', 3000);
    assert.match(idle.reply, /^HTTP\/1\.1 200/);
    assert.ok(idle.ms < 1500, `idle connection closed after ${idle.ms.toFixed(0)} ms`);
  });
  await assert.rejects(buildService({ collections: registry, limits: { headersTimeoutMs: 2000, requestTimeoutMs: 1000 } }), /must not exceed the request timeout/);
});

test('JSON bodies: a "__proto__" key and malformed JSON get accurate 400 messages', async () => {
  await withService({}, async (app) => {
    const send = (payload: string) => app.inject({ method: 'POST', url: '/api/collections/lim/search', headers: { 'content-type': 'application/json' }, payload });
    const proto = await send('{"modality":"text","query":{"text":"w1"},"__proto__":{"polluted":true}}');
    assert.equal(proto.statusCode, 400);
    assert.deepEqual(JSON.parse(proto.body), { statusCode: 400, error: 'Bad Request', message: 'request body contains a "__proto__" key, which is not accepted (prototype poisoning)' });
    const nested = await send('{"modality":"text","query":{"text":"w1","__proto__":{"x":1}}}');
    assert.match(JSON.parse(nested.body).message, /"__proto__" key/);
    const ctor = await send('{"modality":"text","query":{"text":"w1"},"constructor":{"prototype":{"x":1}}}');
    assert.equal(ctor.statusCode, 400);
    assert.match(JSON.parse(ctor.body).message, /"constructor" key with a "prototype" key/);
    const bad = await send('{"modality":"text",');
    assert.equal(bad.statusCode, 400);
    assert.match(JSON.parse(bad.body).message, /^request body is not valid JSON \(.+\)$/);
    const empty = await send('');
    assert.equal(empty.statusCode, 400);
    assert.equal(({} as { polluted?: boolean }).polluted, undefined);
    const fine = await send('{"modality":"text","query":{"text":"w1 w2"},"k":2}');
    assert.equal(fine.statusCode, 200, fine.body);
  });
});

test('listen address: loopback check, refusal without tokens, the real bind in the URL', async () => {
  for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1']) assert.ok(isLoopbackHost(h), h);
  for (const h of ['0.0.0.0', '::', '10.0.0.1', '192.168.1.5', 'example.com', '128.0.0.1']) assert.ok(!isLoopbackHost(h), h);
  assert.throws(() => checkExposure('0.0.0.0', false, false), (e: unknown) => e instanceof InputError && e.exitCode === 2 && /refusing to serve on all network interfaces .* --token-file .* --insecure/.test(e.message));
  assert.throws(() => checkExposure('10.0.0.1', false, false), /--host 10\.0\.0\.1, which is not a loopback address/);
  checkExposure('0.0.0.0', true, false);
  checkExposure('0.0.0.0', false, true);
  checkExposure('127.0.0.1', false, false);
  const s = await startService({ collections: registry, processMetrics: false, host: '0.0.0.0', port: 0 });
  try {
    assert.equal(s.url, `http://0.0.0.0:${s.port}`, 'the real bind, not 127.0.0.1');
    assert.equal(s.allInterfaces, true);
    assert.equal(s.localUrl, `http://127.0.0.1:${s.port}`);
    assert.equal((await fetch(`${s.localUrl}/health`)).status, 200);
  } finally { await s.app.close(); }
  const l = await startService({ collections: registry, processMetrics: false, host: '127.0.0.1', port: 0 });
  try {
    assert.equal(l.url, `http://127.0.0.1:${l.port}`);
    assert.equal(l.localUrl, l.url);
  } finally { await l.app.close(); }
});
