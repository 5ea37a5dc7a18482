// Access control of the service (src/server/access.ts, token-file.ts): the token file's format,
// the route table (open / read / write), 401 and 403 bodies, a new non-GET route being write-only
// without naming it, and the service without tokens staying open.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { buildService } from '../../src/server/app.js';
import { CollectionRegistry } from '../../src/product/registry.js';
import { parseTokens, readTokenFile } from '../../src/server/token-file.js';
import { AccessTokens, routeAccess } from '../../src/server/access.js';
import { InputError } from '../../src/util/errors.js';
import { buildFixture, features, type Fixture } from './fixture.js';

const READ = 'read-token-0123456789abcdef';
const WRITE = 'write-token-0123456789abcdef';

let fx: Fixture;
let app: FastifyInstance;
let registry: CollectionRegistry;

before(async () => {
  fx = await buildFixture('acl');
  registry = new CollectionRegistry();
  registry.add(fx.collection);
  app = await buildService({ collections: registry, processMetrics: false, tokens: parseTokens(`read ${READ}\nwrite ${WRITE}\n`, 'tokens') });
  // a route added later, named nowhere in the access code: non-GET, so it needs a write token
  app.delete('/api/test/unnamed', async () => ({ deleted: true }));
});

after(async () => {
  await app.close();
  registry.close();
  rmSync(fx.root, { recursive: true, force: true });
});

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
type Inject = InjectOptions & { url: string };
const call = (o: Inject) => app.inject(o);

test('token file: read/write lines, comments and blank lines; bad lines name file and line (exit 2)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cmhash-tokens-'));
  try {
    const good = join(dir, 'good.txt');
    writeFileSync(good, `# tokens of the service\n\nread ${READ}\n  write   ${WRITE}  \n`);
    assert.deepEqual(readTokenFile(good), [{ scope: 'read', token: READ }, { scope: 'write', token: WRITE }]);
    const cases: [string, RegExp][] = [
      [`read ${READ}\nadmin ${WRITE}\n`, /bad\.txt:2: expected "read TOKEN" or "write TOKEN"/],
      [`write short\n`, /bad\.txt:1: the write token has 5 characters; tokens need at least 16/],
      [`read ${READ}\nwrite ${READ}\n`, /bad\.txt:2: this token is already listed/],
      [`read ${READ} extra\n`, /bad\.txt:1: expected/],
      [`# nothing\n`, /bad\.txt: no tokens/],
    ];
    for (const [text, want] of cases) {
      writeFileSync(join(dir, 'bad.txt'), text);
      assert.throws(() => readTokenFile(join(dir, 'bad.txt')), (e: unknown) => e instanceof InputError && e.exitCode === 2 && want.test(e.message));
    }
    assert.throws(() => readTokenFile(join(dir, 'missing.txt')), /token file .*missing\.txt: cannot be read \(ENOENT\)/);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('route scopes: GET/HEAD read, other methods write unless config.access says otherwise', () => {
  assert.equal(routeAccess('GET', {}), 'read');
  assert.equal(routeAccess('HEAD', undefined), 'read');
  assert.equal(routeAccess('POST', {}), 'write');
  assert.equal(routeAccess('DELETE', {}), 'write');
  assert.equal(routeAccess('PATCH', undefined), 'write');
  assert.equal(routeAccess('POST', { access: 'read' }), 'read');
  assert.equal(routeAccess('GET', { access: 'open' }), 'open');
  assert.equal(routeAccess('OPTIONS', {}), 'open');
  const t = new AccessTokens([{ scope: 'read', token: READ }, { scope: 'write', token: WRITE }]);
  assert.equal(t.scopeOf(READ), 'read');
  assert.equal(t.scopeOf(WRITE), 'write');
  assert.equal(t.scopeOf(READ + 'x'), null);
  assert.equal(t.scopeOf(''), null);
});

test('open without a token: the page, /health, /openapi.json', async () => {
  for (const url of ['/', '/health', '/openapi.json']) {
    const r = await call({ url });
    assert.equal(r.statusCode, 200, url);
  }
});

test('read routes: 401 without or with an unknown token, 200 with a read or write token', async () => {
  const row = fx.ds.split('query')[0]!;
  const id = fx.ds.ids[fx.ds.split('retrieval')[0]!]!;
  const reads: Inject[] = [
    { url: '/api/collections' },
    { url: '/api/collections/acl' },
    { url: `/api/collections/acl/items/${encodeURIComponent(id)}` },
    { url: '/api/collections/acl/jobs' },
    { url: '/metrics' },
    { method: 'HEAD', url: '/api/collections' },
    { method: 'POST', url: '/api/collections/acl/search', payload: { modality: 'image', query: { features: features(fx.ds, row).image }, k: 3 } },
    { method: 'POST', url: '/api/collections/acl/search', payload: { modality: 'text', query: { itemId: id }, k: 3 } },
  ];
  for (const o of reads) {
    const what = `${o.method ?? 'GET'} ${o.url}`;
    const none = await call(o);
    assert.equal(none.statusCode, 401, what);
    assert.equal(none.headers['www-authenticate'], 'Bearer realm="cmhash"', what);
    if (o.method !== 'HEAD') {
      const body = JSON.parse(none.body);
      assert.deepEqual(Object.keys(body).sort(), ['error', 'message', 'statusCode'], what);
      assert.equal(body.error, 'Unauthorized');
      assert.match(body.message, /needs an access token: send "Authorization: Bearer <token>"/);
    }
    const wrong = await call({ ...o, headers: bearer(READ.slice(0, -1) + 'X') });
    assert.equal(wrong.statusCode, 401, what);
    if (o.method !== 'HEAD') assert.match(JSON.parse(wrong.body).message, /not valid/);
    assert.equal((await call({ ...o, headers: bearer(READ) })).statusCode, 200, what);
    assert.equal((await call({ ...o, headers: bearer(WRITE) })).statusCode, 200, what);
  }
  // X-Api-Key is the other accepted header
  assert.equal((await call({ url: '/api/collections', headers: { 'x-api-key': READ } })).statusCode, 200);
  assert.equal((await call({ url: '/api/collections', headers: { authorization: `Basic ${READ}` } })).statusCode, 401);
});

test('write routes: 403 with a read token, accepted with a write token; new DELETE routes included', async () => {
  const f = features(fx.ds, fx.ds.split('query')[1]!);
  const add = { method: 'POST' as const, url: '/api/collections/acl/items', payload: { items: [{ id: 'acl-new-1', image: f.image, text: f.text, labels: ['class0'] }] } };
  const session = { method: 'POST' as const, url: '/api/collections/acl/sessions', payload: { items: [{ id: 'acl-s-1', image: f.image, text: f.text, labels: ['class0'] }] } };
  const del = { method: 'DELETE' as const, url: '/api/test/unnamed' };
  for (const o of [add, session, del]) {
    assert.equal((await call(o)).statusCode, 401, o.url);
    const r = await call({ ...o, headers: bearer(READ) });
    assert.equal(r.statusCode, 403, o.url);
    const body = JSON.parse(r.body);
    assert.equal(body.error, 'Forbidden');
    assert.match(body.message, /needs a write token; this token is read-only/);
  }
  const before = registry.get('acl').info().items;
  assert.equal((await call({ ...add, headers: bearer(READ) })).statusCode, 403);
  assert.equal(registry.get('acl').info().items, before, 'a refused add changes nothing');
  const ok = await call({ ...add, headers: bearer(WRITE) });
  assert.equal(ok.statusCode, 200, ok.body);
  assert.equal(registry.get('acl').info().items, before + 1);
  const d = await call({ ...del, headers: bearer(WRITE) });
  assert.deepEqual(JSON.parse(d.body), { deleted: true });
});

test('without tokens every route is open (loopback use)', async () => {
  const open = await buildService({ collections: registry, processMetrics: false });
  try {
    assert.equal((await open.inject({ url: '/api/collections' })).statusCode, 200);
    assert.equal((await open.inject({ url: '/metrics' })).statusCode, 200);
  } finally { await open.close(); }
});
