// Bad input the service and CLI must refuse with a message naming the field: numbers beyond the
// float32 range in items and queries (they would become Infinity), and images whose header
// declares a size no photo has (refused before decoding, so quickly).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { deflateSync } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { buildService } from '../../src/server/app.js';
import { CollectionRegistry } from '../../src/product/registry.js';
import { checkFeatures, checkImageGeometry, decodeImage, MAX_IMAGE_SIDE } from '../../src/product/featurize.js';
import { crc32 } from '../../src/util/crc32.js';
import { InputError } from '../../src/util/errors.js';
import { buildFixture, features, type Fixture } from './fixture.js';

let fx: Fixture;
let app: FastifyInstance;
let registry: CollectionRegistry;

before(async () => {
  fx = await buildFixture('bad');
  fx.collection.close();
  registry = new CollectionRegistry();
  registry.openDir(fx.dir);
  app = await buildService({ collections: registry, processMetrics: false });
});
after(async () => { await app.close(); registry.close(); rmSync(fx.root, { recursive: true, force: true }); });

const post = (url: string, payload: object) => app.inject({ method: 'POST', url, payload });
const message = (r: { body: string }) => (JSON.parse(r.body) as { message: string }).message;

test('features beyond float32 are refused with the field named; the largest float32 is accepted', () => {
  const config = registry.get('bad').config;
  const v = new Array<number>(config.imageDim).fill(0.5);
  v[17] = 1e39;
  assert.throws(() => checkFeatures(v, config, 'image', 'items[3].image'), (e: unknown) => e instanceof InputError && e.message === 'items[3].image[17]: 1e+39 is outside the float32 range (±3.4028235e+38)');
  v[17] = -3.5e38;
  assert.throws(() => checkFeatures(v, config, 'image', 'q'), /q\[17\]: -3\.5e\+38 is outside the float32 range/);
  v[17] = 3.4028234663852886e38;
  assert.equal(checkFeatures(v, config, 'image', 'q')[17], 3.4028234663852886e38);
  v[17] = 1e-50; // underflow to 0 is harmless
  assert.equal(checkFeatures(v, config, 'image', 'q')[17], 0);
});

test('HTTP: items and query features with 1e39 get 400 naming the field; nothing is added', async () => {
  const before = registry.get('bad').info().items;
  const f = features(fx.ds, fx.ds.split('query')[0]!);
  const image = f.image.slice();
  image[17] = 1e39;
  const items = [0, 1, 2].map((i) => ({ id: `ok-${i}`, image: f.image, text: f.text, labels: ['class0'] }));
  const add = await post('/api/collections/bad/items', { items: [...items, { id: 'big', image, text: f.text, labels: ['class0'] }] });
  assert.equal(add.statusCode, 400, add.body);
  assert.equal(message(add), 'items[3].image[17]: 1e+39 is outside the float32 range (±3.4028235e+38)');
  assert.equal(registry.get('bad').info().items, before);
  const text = f.text.slice(); text[2] = -1e40;
  const session = await post('/api/collections/bad/sessions', { items: [{ id: 's', image: f.image, text, labels: ['class0'] }] });
  assert.equal(session.statusCode, 400);
  assert.match(message(session), /^items\[0\]\.text\[2\]: -1e\+40 is outside the float32 range/);
  const search = await post('/api/collections/bad/search', { modality: 'image', query: { features: image }, k: 3 });
  assert.equal(search.statusCode, 400);
  assert.match(message(search), /^query\.features\[17\]: 1e\+39 is outside the float32 range/);
});

test('CLI: an items file with 1e39 is refused (exit 2) naming the item and index', () => {
  const f = features(fx.ds, fx.ds.split('query')[1]!);
  const file = join(fx.root, 'items.jsonl');
  writeFileSync(file, `${JSON.stringify({ id: 'cli-1', image: f.image, text: f.text, labels: ['class0'] })}\n{"id":"cli-2","image":[${f.image.map((x, i) => (i === 5 ? '1e39' : String(x))).join(',')}],"labels":["class0"]}\n`);
  registry.close(); // the CLI opens the collection itself
  try {
    const r = spawnSync(process.execPath, [resolve('bin/cmhash.js'), 'add', fx.dir, '--items', file], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /items\[1\]\.image\[5\]: 1e\+39 is outside the float32 range/);
  } finally { registry.openDir(fx.dir); }
});

/** A PNG whose header declares width × height (RGB); the pixel data is a token zlib stream. */
function pngHeader(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body) >>> 0, 8 + data.length);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0); ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; ihdr[9] = 2; // 8-bit RGB
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(Buffer.alloc(64))), chunk('IEND', Buffer.alloc(0))]);
}

test('images: sides beyond 16384 or aspect beyond 50:1 are refused from the header, before decoding', async () => {
  assert.throws(() => checkImageGeometry(40_000_000, 1), /40000000×1 pixels; the longest side accepted is 16384/);
  assert.throws(() => checkImageGeometry(1000, 10), /1000×10 pixels is 100:1; aspect ratios beyond 50:1 are not accepted/);
  assert.throws(() => checkImageGeometry(16_000, 16_000), /at most 40000000 pixels/);
  checkImageGeometry(MAX_IMAGE_SIDE, 400);
  checkImageGeometry(4000, 3000);
  const t0 = performance.now();
  await assert.rejects(decodeImage(pngHeader(40_000_000, 1), 'upload'), /upload: 40000000×1 pixels; the longest side accepted is 16384/);
  assert.ok(performance.now() - t0 < 1000, `refused in ${(performance.now() - t0).toFixed(0)} ms`);
  const sharp = (await import('sharp')).default;
  const thin = await sharp({ create: { width: 6000, height: 20, channels: 3, background: { r: 9, g: 9, b: 9 } } }).png().toBuffer();
  await assert.rejects(decodeImage(thin, 'upload'), /6000×20 pixels is 300:1/);
  const ok = await sharp({ create: { width: 640, height: 480, channels: 3, background: { r: 9, g: 90, b: 9 } } }).png().toBuffer();
  assert.equal((await decodeImage(ok)).width, 128);
});
