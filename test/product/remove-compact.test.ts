// Removing items (library, HTTP DELETE and bulk route, CLI) and compaction: removed items leave
// every answer and stay removed after reopening; an unknown id removes nothing; a removed id can be
// added again; compaction (automatic past AUTO_COMPACT_SEGMENTS and by `cmhash compact`) leaves every
// answer identical, in the same order, while segment files shrink and removed codes are dropped.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { buildService } from '../../src/server/app.js';
import { CollectionRegistry } from '../../src/product/registry.js';
import { Collection } from '../../src/product/collection.js';
import { PackedCodes } from '../../src/codes/packed-codes.js';
import { AUTO_COMPACT_SEGMENTS } from '../../src/index/store.js';
import { NotFoundError } from '../../src/util/errors.js';
import { buildFixture, type Fixture } from '../server/fixture.js';

const BIN = resolve('bin/cmhash.js');
let fx: Fixture;

before(async () => { fx = await buildFixture('rm'); fx.collection.close(); });
after(() => rmSync(fx.root, { recursive: true, force: true }));

/** Every stored code of one modality as a query against the other: the full ranked answers. */
function answers(c: Collection): string {
  const snap = c.snapshot();
  const out: unknown[] = [];
  for (const m of ['image', 'text'] as const) {
    const own = m === 'image' ? snap.image : snap.text;
    const ids = own.ids(), codes = own.codes();
    for (let i = 0; i < ids.length; i += 7) {
      const q = new PackedCodes(codes.bits, 1, codes.data.slice(i * codes.stride, (i + 1) * codes.stride));
      const r = c.search(snap, q, { modality: m, k: 15 }, 100);
      out.push(r.results.map((h) => [h.id, h.distance]));
    }
  }
  return JSON.stringify(out);
}

const cli = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000 });

test('remove: items leave every answer, stay removed after reopening, unknown ids remove nothing, ids can come back', async () => {
  const c = Collection.open(fx.dir);
  try {
    const snap = c.snapshot();
    const [a, b] = snap.image.ids();
    const n = c.info().items;
    await assert.rejects(c.removeItems([a!, 'no-such-item']), (e: Error) => e instanceof NotFoundError && /no-such-item/.test(e.message));
    assert.equal(c.info().items, n, 'a failed removal removed nothing');
    assert.deepEqual(await c.removeItems([a!, b!]), { removed: 2, model_version: snap.modelVersion });
    assert.equal(c.info().items, n - 2);
    const after = c.snapshot();
    assert.ok(!after.image.has(a!) && !after.text.has(a!) && !after.image.has(b!));
    assert.ok(snap.image.has(a!), 'the snapshot taken before the removal is unchanged');
    assert.throws(() => c.items([a!]), NotFoundError);
    c.close();
    const again = Collection.open(fx.dir);
    try {
      assert.ok(!again.snapshot().image.has(a!) && !again.snapshot().text.has(b!));
      assert.equal(again.info().items, n - 2);
      // the same id can be added again (encoded by the current model)
      await again.addItems([{ id: a!, image: fx.ds.imageRow(0), text: fx.ds.textRow(0), labels: [] }]);
      assert.ok(again.snapshot().image.has(a!));
    } finally { again.close(); }
  } finally { c.close(); }
});

test('remove over HTTP: DELETE one item, bulk removal all-or-nothing, 404 for unknown ids', async () => {
  const registry = new CollectionRegistry();
  registry.openDir(fx.dir);
  const app = await buildService({ collections: registry, processMetrics: false });
  try {
    const ids = registry.get('rm').snapshot().text.ids();
    let r = await app.inject({ method: 'DELETE', url: `/api/collections/rm/items/${encodeURIComponent(ids[5]!)}` });
    assert.equal(r.statusCode, 200, r.body);
    assert.equal(JSON.parse(r.body).removed, 1);
    r = await app.inject({ method: 'DELETE', url: `/api/collections/rm/items/${encodeURIComponent(ids[5]!)}` });
    assert.equal(r.statusCode, 404);
    // a plain message, not the store's function name
    assert.match(JSON.parse(r.body).message, /^no item ".*" in the collection$/);
    const before = registry.get('rm').info().items;
    r = await app.inject({ method: 'POST', url: '/api/collections/rm/items/remove', payload: { ids: [ids[6], 'missing'] } });
    assert.equal(r.statusCode, 404);
    assert.equal(registry.get('rm').info().items, before);
    r = await app.inject({ method: 'POST', url: '/api/collections/rm/items/remove', payload: { ids: [ids[6], ids[7]] } });
    assert.equal(r.statusCode, 200, r.body);
    assert.equal(JSON.parse(r.body).removed, 2);
    r = await app.inject({ method: 'POST', url: '/api/collections/rm/search', payload: { modality: 'image', query: { itemId: ids[8] }, k: 1000 } });
    assert.ok(!JSON.parse(r.body).results.some((h: { id: string }) => h.id === ids[6] || h.id === ids[7]));
  } finally { await app.close(); registry.close(); }
});

test('compaction: automatic past the threshold, on demand; same answers in the same order; removed codes dropped', async () => {
  const c = Collection.open(fx.dir);
  try {
    for (let i = 0; i < AUTO_COMPACT_SEGMENTS + 4; i++) {
      await c.addItems([{ id: `single-${i}`, image: fx.ds.imageRow(i), text: i % 2 ? fx.ds.textRow(i) : null, labels: [] }]);
      assert.ok(c.segmentCount() <= AUTO_COMPACT_SEGMENTS, `after add ${i}: ${c.segmentCount()} segments`);
    }
    await c.removeItems(['single-3', 'single-4']);
    const before = answers(c), segsBefore = c.segmentCount();
    const r = await c.compact();
    assert.equal(answers(c), before, 'compaction changed an answer');
    assert.ok(r.codesDropped >= 3, `dropped ${r.codesDropped} codes of removed items`); // single-3 has two codes, single-4 one
    assert.ok(c.segmentCount() <= 3 && c.segmentCount() < segsBefore, `segments ${segsBefore} → ${c.segmentCount()}`);
    c.close();
    const again = Collection.open(fx.dir);
    try { assert.equal(answers(again), before, 'reopened after compaction: an answer changed'); } finally { again.close(); }
    const files = readdirSync(join(fx.dir, 'segments'));
    assert.ok(files.every((f) => f.endsWith('.seg')), `stray files: ${files.join(', ')}`);
  } finally { c.close(); }
});

test('cmhash remove and cmhash compact: exit codes, --json records', () => {
  const c = Collection.open(fx.dir);
  const id = c.snapshot().image.ids()[20]!;
  c.close();
  let r = cli(['remove', fx.dir, 'not-there', '--json']);
  assert.equal(r.status, 3, r.stderr);
  assert.match(r.stderr, /no item "not-there"/);
  r = cli(['remove', fx.dir, id, '--json']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).removed, 1);
  r = cli(['compact', fx.dir, '--json']);
  assert.equal(r.status, 0, r.stderr);
  const rec = JSON.parse(r.stdout);
  assert.ok(rec.segmentsAfter <= rec.segmentsBefore && rec.codesDropped >= 1, r.stdout);
  r = cli(['remove', fx.dir]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /give item ids/);
});
