// The PostgreSQL store gives the same answers as the embedded store: the same collection built on
// both (same data, seeds, sessions) answers every stored code's search identically — ids,
// distances, order — and stays identical through adding, removing, compacting, a session update
// and reopening. Plus its own unit-of-work rules (a failed write leaves nothing), migrations, and
// the errors a user meets. Skips, saying why, where no PostgreSQL server can be started.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { localClusterUnavailable, startLocalCluster, type LocalCluster } from '../../src/index/pg/local-cluster.js';
import { PgStore, listPgCollections } from '../../src/index/pg/pg-store.js';
import { SyncPg } from '../../src/index/pg/sync-client.js';
import { Collection, type ItemInput } from '../../src/product/collection.js';
import { PackedCodes } from '../../src/codes/packed-codes.js';
import { generateSynthetic } from '../../src/data/synthetic.js';
import { vocabularyFromTerms } from '../../src/data/text-features.js';
import { createContinualHasher } from '../../src/methods/registry.js';
import { buildContinualCollection } from '../../src/product/build-collection.js';
import { applySessionUpdate } from '../../src/product/session-update.js';
import { InputError, NotFoundError } from '../../src/util/errors.js';
import type { Dataset } from '../../src/data/dataset.js';

const why = localClusterUnavailable();
let pg: LocalCluster | null = null;
let root = '';
let ds: Dataset;
const TERMS = Array.from({ length: 40 }, (_, i) => `w${i}`);

before(async () => {
  if (why) return;
  pg = await startLocalCluster();
  root = mkdtempSync(join(tmpdir(), 'cmhash-pgstore-'));
  ds = generateSynthetic({ n: 400, numLabels: 6, imageDim: 24, textDim: TERMS.length, seed: 5 });
});
after(() => { pg?.stop(); if (root) rmSync(root, { recursive: true, force: true }); });

async function build(where: string, name: string): Promise<Collection> {
  const r = await buildContinualCollection(ds, {
    dir: where, name, hasher: createContinualHasher('ccmh-gam', { bits: 24, hidden: 32 }), bits: 24, sessions: '3x2', seed: 1,
    train: { epochs: 2, labelSteps: 20 }, vocabulary: vocabularyFromTerms(TERMS),
  });
  return r.collection;
}

/** Every stored code of each modality as a query against the other: the full ranked answers and hit details. */
function answers(c: Collection): unknown {
  const snap = c.snapshot();
  const out: unknown[] = [snap.modelVersion, snap.labelNames, snap.image.ids(), snap.text.ids()];
  for (const m of ['image', 'text'] as const) {
    const own = m === 'image' ? snap.image : snap.text;
    const ids = own.ids(), codes = own.codes();
    for (let i = 0; i < ids.length; i += 5) {
      const q = new PackedCodes(codes.bits, 1, codes.data.slice(i * codes.stride, (i + 1) * codes.stride));
      for (const r of [c.search(snap, q, { modality: m, k: 12 }, 100), c.search(snap, q, { modality: m, radius: 4 }, 30)]) {
        out.push(r.results.map((h) => [h.id, h.distance, h.labels, h.metadata]));
      }
    }
  }
  return out;
}

function firstDifference(x: unknown, y: unknown, what: string): void {
  const a = x as unknown[], b = y as unknown[];
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (JSON.stringify(a[i]) !== JSON.stringify(b[i])) { console.log(what, i, JSON.stringify(a[i]).slice(0, 400), '\n vs', JSON.stringify(b[i]).slice(0, 400)); return; }
  }
}

function newItems(from: number, n: number, labels: string[]): ItemInput[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `new-${from + i}`, image: ds.imageRow(from + i).slice(), text: ds.textRow(from + i).slice(), labels: [labels[i % labels.length]!],
    metadata: { row: from + i, tag: 'added' },
  }));
}

test('PostgreSQL store: the same collection answers identically to the embedded store, through add, remove, compact, a session and reopening', async (t) => {
  if (why) { t.skip(`PostgreSQL tests skipped: ${why}`); return; }
  const dir = join(root, 'emb');
  const url = `${pg!.url}#twin`;
  let a = await build(dir, 'twin');
  let b = await build(url, 'twin');
  try {
    assert.equal(b.backend, 'postgresql');
    firstDifference(answers(b), answers(a), 'after building');
    assert.deepEqual(answers(b), answers(a), 'after building');
    assert.deepEqual(b.history().versions.map((v) => [v.id, v.method, v.bits, v.status, v.codes]), a.history().versions.map((v) => [v.id, v.method, v.bits, v.status, v.codes]));
    const sessions = (c: Collection) => (c.history().sessions as { created?: string; meta?: unknown }[]).map((s) => ({ ...s, created: undefined, meta: undefined }));
    assert.deepEqual(sessions(b), sessions(a));
    assert.equal(b.info().items, a.info().items);

    const labels = a.snapshot().labelNames.slice(0, 2);
    for (let k = 0; k < 3; k++) { // several adds → several segments
      await a.addItems(newItems(300 + 10 * k, 10, labels));
      await b.addItems(newItems(300 + 10 * k, 10, labels));
    }
    assert.deepEqual(answers(b), answers(a), 'after adding');
    const gone = [a.snapshot().image.ids()[3]!, 'new-305', a.snapshot().text.ids()[40]!];
    assert.deepEqual(await b.removeItems(gone), await a.removeItems(gone));
    assert.deepEqual(answers(b), answers(a), 'after removing');
    assert.deepEqual(b.items(['new-301']), a.items(['new-301']));
    const ca = await a.compact(), cb = await b.compact();
    assert.ok(cb.segmentsAfter < cb.segmentsBefore && ca.segmentsAfter < ca.segmentsBefore, `compaction merged segments (pg ${cb.segmentsBefore}→${cb.segmentsAfter})`);
    assert.equal(b.segmentCount(), a.segmentCount());
    assert.deepEqual(answers(b), answers(a), 'after compacting');

    const session = newItems(340, 30, ['brand-new', labels[0]!]);
    const ra = await applySessionUpdate(a, session, { epochs: 1, seed: 2 });
    const rb = await applySessionUpdate(b, session, { epochs: 1, seed: 2 });
    assert.equal(rb.model_version, ra.model_version);
    assert.deepEqual(answers(b), answers(a), 'after a session update');

    a.close(); b.close();
    a = Collection.open(dir);
    b = Collection.open(pg!.url, { name: 'twin' });
    assert.deepEqual(answers(b), answers(a), 'after reopening');
    assert.ok(b.vocabulary && b.vocabulary.terms.length === TERMS.length, 'the vocabulary is stored with the collection');

    // the same collection searched in the database (--search server): nothing loaded, the same answers
    const srv = Collection.open(pg!.url, { name: 'twin', search: 'server' });
    try {
      const ss = srv.snapshot(), ms = a.snapshot();
      assert.equal(ss.codesOnServer, true);
      assert.equal(ss.image.size, 0, 'no codes in memory');
      assert.deepEqual(srv.info(), b.info());
      const some = ms.image.ids().filter((_, i) => i % 9 === 0);
      assert.deepEqual(srv.items(some), b.items(some));
      for (const m of ['image', 'text'] as const) {
        const own = m === 'image' ? ms.image : ms.text;
        const ids = own.ids();
        for (let i = 0; i < ids.length; i += 11) {
          const q = srv.storedCodeOf(ss, m, ids[i]!);
          assert.deepEqual(q.data, Collection.storedCode(ms, m, ids[i]!).data);
          for (const cq of [{ modality: m, k: 12 }, { modality: m, radius: 4 }, { modality: m, k: 5, radius: 2 }]) {
            const want = a.search(ms, q, cq, 100), got = await srv.searchOnDatabase(ss, q, cq, 100);
            assert.deepEqual(got.results, want.results, `${m} ${ids[i]} ${JSON.stringify(cq)}`);
          }
        }
      }
    } finally { srv.close(); }
  } finally { a.close(); b.close(); }
});

test('PostgreSQL store: a failed write leaves nothing; unknown ids and existing ids are clear errors', async (t) => {
  if (why) { t.skip(`PostgreSQL tests skipped: ${why}`); return; }
  const url = pg!.url;
  const s = PgStore.create(url, 'unit', 16, { name: 'unit', bits: 16 });
  try {
    s.addItems({ ids: ['a', 'b'], labels: Uint8Array.from([1, 0, 0, 1]), classes: 2, metadata: [{ x: 1 }, null] });
    const v = s.createModelVersion({ method: 'm', bits: 16 });
    s.putCodes(v, ['a'], PackedCodes.fromBinary([[1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0]]));
    s.commitModelVersion(v);
    const before = JSON.stringify([s.stats(), s.loadCodes()]);
    // the second step fails (a already has a code in v): the first (item c) is undone with it
    assert.throws(() => s.write(() => {
      s.addItems({ ids: ['c'] });
      s.putCodes(v, ['c', 'a'], PackedCodes.alloc(16, 2));
    }), (e: Error) => e instanceof InputError && /already has a code/.test(e.message));
    assert.equal(JSON.stringify([s.stats(), s.loadCodes()]), before);
    assert.deepEqual(s.existingIds(['a', 'c']), ['a']);
    assert.throws(() => s.addItems({ ids: ['b'] }), (e: Error) => e instanceof InputError && /"b" already exists/.test(e.message));
    assert.throws(() => s.removeItems(['a', 'nope']), (e: Error) => e instanceof NotFoundError && /nope/.test(e.message));
    assert.deepEqual(s.existingIds(['a', 'b']), ['a', 'b'], 'a failed removal removed nothing');
    assert.throws(() => PgStore.create(url, 'unit', 16, {}), /already exists/);
    assert.throws(() => PgStore.open(url, 'no-such'), (e: Error) => e instanceof NotFoundError && /no collection "no-such"/.test(e.message));
    assert.ok(listPgCollections(url).some((c) => c.name === 'unit'));
  } finally { s.close(); }
  PgStore.drop(url, 'unit');
  assert.ok(!listPgCollections(url).some((c) => c.name === 'unit'));
});

// PostgreSQL can put a sequence back below values it handed out: crash recovery (or a failover) of
// a database made by CREATE DATABASE … TEMPLATE (test/product/pg-crash-points.test.ts replays it).
// Item keys therefore continue from the table's largest key when the sequence is behind it.
test('PostgreSQL store: an add succeeds when the items sequence is behind the keys stored; a removed key is not given again', async (t) => {
  if (why) { t.skip(`PostgreSQL tests skipped: ${why}`); return; }
  const url = pg!.url;
  const s = PgStore.create(url, 'seqlag', 16, {});
  const db = SyncPg.connect(url);
  const keys = () => db.query<{ id: string; key: string }>(`SELECT id, key::text AS key FROM ${s.schema}.items ORDER BY key`).rows.map((r) => [r.id, Number(r.key)]);
  const seq = `${s.schema}.items_key_seq`;
  try {
    s.addItems({ ids: ['a', 'b', 'c'] });
    db.query(`SELECT setval('${seq}', 1)`); // what recovery left in the bug above
    s.addItems({ ids: ['d', 'e'] });
    const k = keys();
    assert.deepEqual(k.map(([id]) => id), ['a', 'b', 'c', 'd', 'e'], 'keys follow the order of the adds');
    assert.equal(new Set(k.map(([, key]) => key)).size, 5);
    // the sequence is moved past the keys taken, so a writer that still takes keys from it (an older cmhash replica) does not collide
    const top = k[4]![1] as number;
    assert.ok(Number(db.value(`SELECT last_value FROM ${seq}`)) >= top, 'sequence moved past the keys');
    // the key of a removed item is not given again (server-side search maps keys to ids in a second statement)
    s.removeItems(['e']);
    s.addItems({ ids: ['f'] });
    assert.ok((keys().at(-1)![1] as number) > top, 'a removed key was given again');
  } finally { db.close(); s.close(); }
  PgStore.drop(url, 'seqlag');
});

test('PostgreSQL store: migrations are recorded once; a newer catalog is refused; a wrong URL names the server', async (t) => {
  if (why) { t.skip(`PostgreSQL tests skipped: ${why}`); return; }
  const db = SyncPg.connect(pg!.url);
  try {
    listPgCollections(pg!.url); listPgCollections(pg!.url);
    const rows = db.query<{ version: number }>('SELECT version FROM cmhash.migrations ORDER BY version').rows;
    assert.deepEqual(rows.map((r) => r.version), [...new Set(rows.map((r) => r.version))], 'each migration once');
    db.query("INSERT INTO cmhash.migrations (version, description) VALUES (9999, 'from the future')");
    assert.throws(() => listPgCollections(pg!.url), /newer than this cmhash/);
    db.query('DELETE FROM cmhash.migrations WHERE version = 9999');
  } finally { db.close(); }
  const bad = pg!.url.replace(/\/cmhash$/, '/no_such_db');
  assert.throws(() => Collection.open(`${bad}#x`), (e: Error) => /cannot connect to PostgreSQL at postgresql:\/\/cmhash@127\.0\.0\.1:\d+\/no_such_db/.test(e.message));
});

test('PostgreSQL store: a second collection object catches up with another writer (appends, removal, compaction, a session) and answers as a fresh open', async (t) => {
  if (why) { t.skip(`PostgreSQL tests skipped: ${why}`); return; }
  const writer = Collection.open(pg!.url, { name: 'twin' });
  const reader = Collection.open(pg!.url, { name: 'twin' });
  const fresh = (): unknown => { const f = Collection.open(pg!.url, { name: 'twin' }); try { return answers(f); } finally { f.close(); } };
  try {
    const labels = writer.snapshot().labelNames.slice(0, 2);
    await writer.addItems(newItems(200, 8, labels));
    await writer.addItems(newItems(210, 8, labels));
    const before = reader.snapshot();
    assert.equal(await reader.refresh(), true);
    assert.equal(reader.snapshot().hasher, before.hasher, 'appends only: the model was not reloaded');
    assert.deepEqual(answers(reader), fresh(), 'after appends');
    assert.equal(await reader.refresh(), false, 'nothing new: nothing done');
    await writer.removeItems(['new-201', 'new-212']);
    await reader.refresh();
    assert.deepEqual(answers(reader), fresh(), 'after a removal');
    assert.throws(() => reader.items(['new-201']), NotFoundError);
    await writer.compact();
    await writer.addItems(newItems(220, 5, labels));
    await reader.refresh();
    assert.deepEqual(answers(reader), fresh(), 'after compaction and an append');
    await applySessionUpdate(writer, newItems(230, 20, ['later', labels[0]!]), { epochs: 1, seed: 3 });
    await reader.refresh();
    assert.deepEqual(answers(reader), fresh(), 'after a session');
    // the reader writes too: it builds on what it caught up with
    await reader.addItems(newItems(260, 4, ['later']));
    await writer.refresh();
    assert.deepEqual(answers(writer), answers(reader));
  } finally { writer.close(); reader.close(); }
});
