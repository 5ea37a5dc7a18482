// The HTTP service against a real small collection (fixture.ts): search in every query form, item
// additions, thumbnails, session updates as jobs with concurrent searches, metrics, OpenAPI, and
// every kind of bad request — 4xx with a clear message, and stored data unchanged afterwards.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { buildService } from '../../src/server/app.js';
import { CollectionRegistry } from '../../src/product/registry.js';
import { Collection } from '../../src/product/collection.js';
import { codeToHex } from '../../src/product/code-hex.js';
import { buildFixture, features, BITS, type Fixture } from './fixture.js';

let fx: Fixture;
let app: FastifyInstance;
let registry: CollectionRegistry;

before(async () => {
  fx = await buildFixture('syn');
  fx.collection.close();
  registry = new CollectionRegistry();
  registry.openDir(fx.dir); // reopened from disk: persistence is part of the test
  app = await buildService({ collections: registry, processMetrics: false, limits: { searchBodyBytes: 64 << 10 } });
});

after(async () => {
  await app.close();
  registry.close();
  rmSync(fx.root, { recursive: true, force: true });
});

const post = (url: string, payload: unknown) => app.inject({ method: 'POST', url, payload: payload as object });
const json = (r: { body: string }) => JSON.parse(r.body);
const coll = () => registry.get('syn');

/** Everything a failed request must not change: items, versions, codes, and an answer. */
async function storedState(): Promise<string> {
  const c = coll();
  const s = c.snapshot();
  const probe = await post('/api/collections/syn/search', { modality: 'text', query: { itemId: fx.ds.ids[fx.ds.split('retrieval')[0]!]! }, k: 10 });
  return JSON.stringify({ info: c.info(), versions: c.history().versions, img: Array.from(s.image.packed.data), txt: Array.from(s.text.packed.data), probe: json(probe).results });
}

test('lists collections and describes one', async () => {
  const list = json(await app.inject({ url: '/api/collections' }));
  assert.equal(list.length, 1);
  assert.equal(list[0].name, 'syn');
  assert.equal(list[0].bits, BITS);
  assert.ok(list[0].items > 0 && Number.isInteger(list[0].model_version));
  const info = json(await app.inject({ url: '/api/collections/syn' }));
  assert.deepEqual(info.labels, ['class0', 'class1', 'class2', 'class3', 'class4', 'class5']);
  assert.equal(info.raw_text, true);
  assert.equal(info.sessions.length, 3);
  assert.equal(info.image_codes, info.items);
});

test('search by features, raw text, item id and code: exact Hamming ranking of the other modality', async () => {
  const c = coll();
  const snap = c.snapshot();
  const row = Array.from(fx.ds.split('query')).find((r) => fx.ds.textRow(r).filter((v) => v > 0).length >= 2)!;
  const f = features(fx.ds, row);
  const r = await post('/api/collections/syn/search', { modality: 'image', query: { features: f.image }, k: 15 });
  assert.equal(r.statusCode, 200, r.body);
  const body = json(r);
  assert.equal(body.results.length, 15);
  assert.equal(body.model_version, snap.modelVersion);
  assert.equal(body.target, 'text');
  // distances equal the Hamming distance between the encoded query and each stored text code
  const q = Collection.encodeQuery(snap, 'image', Float32Array.from(f.image));
  for (const hit of body.results) {
    const code = snap.text.codeOf(hit.id)!;
    assert.equal(hit.distance, q.distance(0, code, 0));
    assert.ok(Array.isArray(hit.labels) && hit.labels.every((l: string) => l.startsWith('class')));
  }
  for (let i = 1; i < body.results.length; i++) assert.ok(body.results[i - 1].distance <= body.results[i].distance);
  // and nothing closer was left out
  const all = snap.text.ids().map((id) => q.distance(0, snap.text.codeOf(id)!, 0)).sort((a, b) => a - b);
  assert.deepEqual(body.results.map((h: { distance: number }) => h.distance), all.slice(0, 15));

  const words = f.text.map((v, j) => (v > 0 ? `w${j}` : '')).filter(Boolean).join(' ');
  const byText = json(await post('/api/collections/syn/search', { modality: 'text', query: { text: words }, k: 5 }));
  const byFeat = json(await post('/api/collections/syn/search', { modality: 'text', query: { features: f.text }, k: 5 }));
  assert.deepEqual(byText.results, byFeat.results, 'raw text goes through the vocabulary to the same features');

  const id = snap.image.ids()[7]!;
  const byItem = json(await post('/api/collections/syn/search', { modality: 'image', query: { itemId: id }, k: 5 }));
  const byCode = json(await post('/api/collections/syn/search', { modality: 'image', query: { code: codeToHex(snap.image.packed, 7) }, k: 5 }));
  assert.deepEqual(byItem.results, byCode.results);

  const within = json(await post('/api/collections/syn/search', { modality: 'image', query: { itemId: id }, radius: 3 }));
  assert.ok(within.results.every((h: { distance: number }) => h.distance <= 3));
  assert.equal(within.results.length, all.length === 0 ? 0 : snap.text.ids().filter((t) => snap.image.codeOf(id)!.distance(0, snap.text.codeOf(t)!, 0) <= 3).length);
});

test('bad requests get 4xx with a clear message and change nothing', async () => {
  const before = await storedState();
  const f = features(fx.ds, 0);
  const cases: [string, () => Promise<{ statusCode: number; body: string }>, number, RegExp][] = [
    ['wrong modality', () => post('/api/collections/syn/search', { modality: 'audio', query: { features: f.image } }), 400, /modality/],
    ['wrong feature width', () => post('/api/collections/syn/search', { modality: 'image', query: { features: f.image.slice(1) } }), 400, /expects 32 image features, got 31/],
    ['text features as image', () => post('/api/collections/syn/search', { modality: 'image', query: { features: f.text } }), 400, /expects 32 image features, got 48/],
    ['raw text as image query', () => post('/api/collections/syn/search', { modality: 'image', query: { text: 'w1 w2' } }), 400, /modality "text"/],
    ['k = 1e9', () => post('/api/collections/syn/search', { modality: 'image', query: { features: f.image }, k: 1e9 }), 400, /k must be <= 1000/],
    ['k = 0', () => post('/api/collections/syn/search', { modality: 'image', query: { features: f.image }, k: 0 }), 400, /k must be >= 1/],
    ['negative radius', () => post('/api/collections/syn/search', { modality: 'image', query: { features: f.image }, radius: -1 }), 400, /radius/],
    ['two query kinds', () => post('/api/collections/syn/search', { modality: 'image', query: { features: f.image, itemId: 'x' } }), 400, /query/],
    ['no query', () => post('/api/collections/syn/search', { modality: 'image' }), 400, /query/],
    ['bad code', () => post('/api/collections/syn/search', { modality: 'image', query: { code: 'abcd12' } }), 400, /4 hex digits/],
    ['unknown item', () => post('/api/collections/syn/search', { modality: 'image', query: { itemId: 'nope' } }), 404, /nope/],
    ['unknown collection', () => post('/api/collections/other/search', { modality: 'image', query: { features: f.image } }), 404, /no collection named "other"/],
    ['../ in the name', () => post(`/api/collections/${encodeURIComponent('../syn')}/search`, { modality: 'image', query: { features: f.image } }), 400, /name/],
    ['.. in the name', () => post('/api/collections/../search', { modality: 'image', query: { features: f.image } }), 404, /no route/],
    ['NaN-ish feature', () => post('/api/collections/syn/search', { modality: 'image', query: { features: [...f.image.slice(1), 'x'] } }), 400, /number/],
    ['oversized body', () => post('/api/collections/syn/search', { modality: 'image', query: { features: new Array(20000).fill(0.5) } }), 413, /too large/],
    ['not JSON', () => app.inject({ method: 'POST', url: '/api/collections/syn/search', payload: '{"modality":', headers: { 'content-type': 'application/json' } }), 400, /JSON/i],
    ['unknown field', () => post('/api/collections/syn/search', { modality: 'image', query: { features: f.image }, evil: 1 }), 400, /additional/],
    ['add: wrong width', () => post('/api/collections/syn/items', { items: [{ id: 'new-1', image: f.image.slice(2) }] }), 400, /expects 32 image features, got 30/],
    ['add: existing id', () => post('/api/collections/syn/items', { items: [{ id: fx.ds.ids[fx.ds.split('retrieval')[0]!]!, image: f.image }] }), 400, /already exists/],
    ['add: unknown label', () => post('/api/collections/syn/items', { items: [{ id: 'new-2', image: f.image, labels: ['martian'] }] }), 400, /unknown label "martian"/],
    ['add: duplicate ids', () => post('/api/collections/syn/items', { items: [{ id: 'd', image: f.image }, { id: 'd', text: f.text }] }), 400, /twice/],
    ['add: no features', () => post('/api/collections/syn/items', { items: [{ id: 'e' }] }), 400, /image or text/],
    ['session: text missing', () => post('/api/collections/syn/sessions', { items: [{ id: 's1', image: f.image, labels: ['new'] }] }), 400, /both image and text/],
    ['session: no labels', () => post('/api/collections/syn/sessions', { items: [{ id: 's1', ...f }] }), 400, /label/],
    ['session: existing id', () => post('/api/collections/syn/sessions', { items: [{ id: fx.ds.ids[fx.ds.split('retrieval')[0]!]!, ...f, labels: ['x'] }] }), 400, /already exists/],
    ['unknown job', () => app.inject({ url: '/api/jobs/00000000-0000-0000-0000-000000000000' }), 404, /no job/],
    ['bad job id', () => app.inject({ url: '/api/jobs/..%2F..%2Fetc' }), 400, /id/],
    ['thumbnail: no image', () => app.inject({ url: `/api/collections/syn/items/${fx.ds.ids[fx.ds.split('retrieval')[0]!]!}/thumbnail` }), 404, /no image file/],
    ['upload: not multipart', () => post('/api/collections/syn/search-image', { image: 'x' }), 415, /multipart/],
  ];
  for (const [what, run, status, msg] of cases) {
    const r = await run();
    assert.equal(r.statusCode, status, `${what}: ${r.body}`);
    const b = json(r);
    assert.equal(b.statusCode, status, what);
    assert.match(b.message, msg, `${what}: ${b.message}`);
  }
  // a non-image upload
  const form = multipartBody({ image: { name: 'x.png', type: 'image/png', data: Buffer.from('this is not a picture') } });
  const up = await app.inject({ method: 'POST', url: '/api/collections/syn/search-image', payload: form.body, headers: { 'content-type': form.type } });
  assert.equal(up.statusCode, 400, up.body);
  assert.match(json(up).message, /image/);
  assert.equal(await storedState(), before, 'failed requests left stored data as it was');
  assert.equal(json(await app.inject({ url: '/health' })).status, 'ok', 'still serving');
});

test('add items: encoded by the current model and searchable at once; thumbnails stay inside the image folder', async () => {
  const c = coll();
  const v = c.snapshot().modelVersion;
  const f = features(fx.ds, Array.from(fx.ds.split('query')).find((r) => fx.ds.textRow(r).some((v) => v > 0))!);
  const words = f.text.map((x, j) => (x > 0 ? `w${j}` : '')).filter(Boolean).join(' ');
  const r = await post('/api/collections/syn/items', { items: [
    { id: 'added-1', image: f.image, raw_text: words, labels: ['class1'], metadata: { image: 'red.png', note: 'hi' } },
    { id: 'added-2', text: f.text, metadata: { image: '../secret.png' } },
    { id: 'added-3', image: f.image, metadata: { image: 'not-an-image.png' } },
  ] });
  assert.equal(r.statusCode, 200, r.body);
  assert.deepEqual(json(r), { added: 3, model_version: v });
  const hit = json(await post('/api/collections/syn/search', { modality: 'text', query: { itemId: 'added-1' }, k: 1000 }));
  const me = hit.results.find((h: { id: string }) => h.id === 'added-1');
  assert.ok(me, 'its image is found by its own text');
  assert.deepEqual(me.labels, ['class1']);
  assert.equal(me.metadata.note, 'hi');
  assert.equal(me.thumbnail_url, '/api/collections/syn/items/added-1/thumbnail');
  const th = await app.inject({ url: me.thumbnail_url });
  assert.equal(th.statusCode, 200);
  assert.equal(th.headers['content-type'], 'image/jpeg');
  assert.equal(th.rawPayload.subarray(0, 2).toString('hex'), 'ffd8');
  const esc = await app.inject({ url: '/api/collections/syn/items/added-2/thumbnail' });
  assert.equal(esc.statusCode, 400);
  assert.match(json(esc).message, /outside the collection's image folder/);
  const bad = await app.inject({ url: '/api/collections/syn/items/added-3/thumbnail' });
  assert.equal(bad.statusCode, 400);
  const item = json(await app.inject({ url: '/api/collections/syn/items/added-2' }));
  assert.deepEqual({ img: item.has_image, txt: item.has_text }, { img: false, txt: true });
});

test('a session update runs as a job; concurrent searches see the old or the new version, never a mix', async () => {
  const c = coll();
  const before = c.snapshot();
  const oldCount = before.image.size;
  const rows = fx.ds.split('query').slice(5, 25);
  const items = Array.from(rows, (r, i) => ({ id: `sess-${i}`, ...features(fx.ds, r), labels: i % 2 ? ['class0', 'zebra'] : ['zebra'] }));
  const r = await post('/api/collections/syn/sessions', { items, name: 'zebras', epochs: 2 });
  assert.equal(r.statusCode, 202, r.body);
  const job = json(r);
  assert.match(job.id, /^[0-9a-f-]{36}$/);
  const probe = before.text.packed.slice(0, 1);
  const hex = codeToHex(probe, 0);
  const seen = new Map<number, Set<number>>();
  let status = job.status;
  for (let i = 0; i < 400 && status !== 'succeeded' && status !== 'failed'; i++) {
    const answers = await Promise.all(Array.from({ length: 4 }, () => post('/api/collections/syn/search', { modality: 'text', query: { code: hex }, radius: BITS })));
    for (const a of answers) {
      assert.equal(a.statusCode, 200);
      const b = json(a);
      const counts = seen.get(b.model_version) ?? new Set<number>();
      counts.add(b.results.length);
      seen.set(b.model_version, counts);
    }
    status = json(await app.inject({ url: `/api/jobs/${job.id}` })).status;
    await new Promise((res) => setTimeout(res, 5));
  }
  const done = json(await app.inject({ url: `/api/jobs/${job.id}` }));
  assert.equal(done.status, 'succeeded', done.error ?? '');
  assert.equal(done.result.previous_version, before.modelVersion);
  assert.deepEqual(done.result.new_labels, ['zebra']);
  const after = c.snapshot();
  assert.notEqual(after.modelVersion, before.modelVersion);
  assert.equal(after.image.size, oldCount + items.length);
  // each version answered with exactly its own size: the old snapshot, or the complete new one
  assert.deepEqual([...(seen.get(before.modelVersion!) ?? new Set([oldCount]))], [oldCount]);
  const final = json(await post('/api/collections/syn/search', { modality: 'text', query: { code: hex }, radius: BITS }));
  assert.equal(final.results.length, oldCount + items.length);
  for (const [v, counts] of seen) if (v !== before.modelVersion) assert.deepEqual([...counts], [oldCount + items.length], `version ${v}`);
  // old codes were kept (continual: stored codes stay valid), the new label is known
  assert.deepEqual(Array.from(after.image.packed.data.subarray(0, before.image.packed.data.length)), Array.from(before.image.packed.data));
  const info = json(await app.inject({ url: '/api/collections/syn' }));
  assert.ok(info.labels.includes('zebra'));
  const z = json(await post('/api/collections/syn/search', { modality: 'text', query: { itemId: 'sess-1' }, k: 3 }));
  assert.equal(z.model_version, after.modelVersion);
  // the collection reopens from disk at the new version
  const again = Collection.open(fx.dir);
  try { assert.equal(again.snapshot().modelVersion, after.modelVersion); assert.equal(again.snapshot().image.size, after.image.size); } finally { again.close(); }
});

test('health, metrics and the OpenAPI document generated from the route schemas', async () => {
  const h = json(await app.inject({ url: '/health' }));
  assert.equal(h.status, 'ok');
  assert.equal(h.collections, 1);
  const m = await app.inject({ url: '/metrics' });
  assert.equal(m.statusCode, 200);
  assert.match(m.body, /cmhash_http_requests_total\{method="POST",route="\/api\/collections\/:name\/search",status="200"\} \d+/);
  assert.match(m.body, /cmhash_search_duration_seconds_bucket/);
  assert.match(m.body, /cmhash_collection_codes\{collection="syn",modality="image"\} \d+/);
  const doc = json(await app.inject({ url: '/openapi.json' }));
  assert.equal(doc.openapi, '3.1.0');
  const search = doc.paths['/api/collections/{name}/search'].post;
  assert.equal(search.requestBody.content['application/json'].schema.properties.k.maximum, 1000);
  assert.deepEqual(search.requestBody.content['application/json'].schema.properties.modality.enum, ['image', 'text']);
  assert.ok(search.responses['200'].content['application/json'].schema.properties.results);
  assert.equal(search.parameters[0].name, 'name');
  for (const p of ['/api/collections', '/api/collections/{name}/items', '/api/collections/{name}/sessions', '/api/jobs/{id}', '/api/collections/{name}/search-image', '/health', '/metrics']) {
    assert.ok(doc.paths[p], `${p} documented`);
  }
  const page = await app.inject({ url: '/' });
  assert.equal(page.statusCode, 200);
  assert.match(page.headers['content-type'] as string, /text\/html/);
  assert.match(page.headers['content-security-policy'] as string, /script-src 'sha256-/);
});

/** A multipart/form-data body with files and fields. */
export function multipartBody(parts: Record<string, string | { name: string; type: string; data: Buffer }>): { body: Buffer; type: string } {
  const boundary = '----cmhashtest' + 'x'.repeat(8);
  const chunks: Buffer[] = [];
  for (const [field, v] of Object.entries(parts)) {
    if (typeof v === 'string') chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${field}"\r\n\r\n${v}\r\n`));
    else {
      chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="${v.name}"\r\nContent-Type: ${v.type}\r\n\r\n`));
      chunks.push(v.data, Buffer.from('\r\n'));
    }
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), type: `multipart/form-data; boundary=${boundary}` };
}
