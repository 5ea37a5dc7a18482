// All or nothing on the PostgreSQL store, as crash-points.test.ts checks the embedded one. Every
// statement a write sends inside its transaction, and its commit, is a crash point: each write
// (add, session update in the service's training process, remove, compact) is run once
// to list them, then killed with SIGKILL at each in turn on a fresh copy of the collection (a
// database made from a template) — mid-transaction kills included. After each kill the collection
// is exactly the state before (and the same write, retried, succeeds and gives the state after)
// or exactly the state after. Then random kills of a writer adding batch after batch, and the
// PostgreSQL server itself crashing (immediate shutdown) and restarting under a writer: every
// batch complete or absent, every acknowledged batch present, and a collection left open across
// the restart works again once the server is back.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Collection } from '../../src/product/collection.js';
import { PgStore } from '../../src/index/pg/pg-store.js';
import { SyncPg } from '../../src/index/pg/sync-client.js';
import { localClusterUnavailable, startLocalCluster, type LocalCluster } from '../../src/index/pg/local-cluster.js';
import { createContinualHasher } from '../../src/methods/registry.js';
import { buildContinualCollection } from '../../src/product/build-collection.js';
import { generateSynthetic } from '../../src/data/synthetic.js';
import { Rng } from '../../src/util/rng.js';
import { DATA, batchItems, runChild } from './crash-writer.child.js';

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'crash-writer.child.js');
const why = localClusterUnavailable();
let pg: LocalCluster | null = null;
let admin: SyncPg | null = null;
const root = mkdtempSync(join(tmpdir(), 'cmhash-pgcrash-'));

const dbUrl = (db: string) => pg!.url.replace(/\/cmhash$/, `/${db}`);
const loc = (db: string) => `${dbUrl(db)}#crash`;
const copyOf = (db: string) => { admin!.query(`CREATE DATABASE ${db} TEMPLATE base`); return loc(db); };
const dropDb = (db: string) => admin!.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);

/**
 * Waits until no session is left on database `db`. A killed writer's server backend finishes the
 * statement it is in (a COMMIT already sent still commits) before it notices the client is gone, so
 * a look at the data before then can miss a batch that lands a moment later (seen: the next writer
 * then met "item … already exists" for the batch the check had called absent).
 */
async function settled(db: string): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (Number(admin!.value(`SELECT COUNT(*) FROM pg_stat_activity WHERE datname = '${db}'`)) === 0) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.fail(`database ${db}: a killed writer's session was still there after 10 s`);
}

before(async () => {
  if (why) return;
  pg = await startLocalCluster();
  admin = SyncPg.connect(pg.url);
  admin.query('CREATE DATABASE base');
  const ds = generateSynthetic(DATA);
  const hasher = createContinualHasher('ccmh-gam', { bits: 16, hidden: 16 });
  const r = await buildContinualCollection(ds, { dir: loc('base'), name: 'crash', hasher, bits: 16, sessions: '4,2', seed: 1, train: { epochs: 2, labelSteps: 20 } });
  const names = r.collection.snapshot().labelNames;
  for (const b of [1, 2, 3]) await r.collection.addItems(batchItems(b, names));
  r.collection.close();
});
after(() => { admin?.close(); pg?.stop(); rmSync(root, { recursive: true, force: true }); });

const run = runChild;

/** Everything a reader can observe, plus what only the tables show (pending versions, orphan codes). */
function state(where: string): string {
  const c = Collection.open(where);
  const { url, name } = { url: where.slice(0, where.indexOf('#')), name: 'crash' };
  const s = PgStore.open(url, name);
  try {
    const snap = c.snapshot();
    const h = c.history();
    const codes = (m: 'image' | 'text') => {
      const idx = m === 'image' ? snap.image : snap.text;
      return { ids: idx.ids(), hex: Buffer.from(idx.codes().data.buffer).toString('hex') };
    };
    const db = SyncPg.connect(url);
    let tables: unknown;
    try {
      const sc = s.schema;
      tables = {
        orphanCodes: db.value(`SELECT COUNT(*) FROM ${sc}.codes c WHERE NOT EXISTS (SELECT 1 FROM ${sc}.items i WHERE i.key = c.key)`),
        checkpoints: db.value(`SELECT COUNT(*) FROM ${sc}.checkpoints`),
        segments: s.stats().segments,
      };
    } finally { db.close(); }
    return JSON.stringify({
      version: snap.modelVersion, labels: snap.labelNames, items: c.items(s.itemIds()).map((i) => [i.id, i.labels, i.metadata]),
      image: codes('image'), text: codes('text'), versions: h.versions.map((v) => [v.id, v.status, v.codes]), sessions: h.sessions.length, tables,
    });
  } finally { s.close(); c.close(); }
}

let n = 0;
// The session update runs as the service runs it (trained and committed in the training process):
// its transaction is the same statements as the in-thread update's (both commit through
// Collection.commitModelNow), so the in-thread variant would repeat the same 42 points at 2.5 min.
for (const scenario of ['add', 'update-worker', 'remove', 'compact']) {
  test(`PostgreSQL crash points: ${scenario} is all or nothing at every statement, and a retry succeeds`, { timeout: 600_000 }, async (t) => {
    if (why) { t.skip(`PostgreSQL tests skipped: ${why}`); return; }
    const before = state(loc('base'));
    const ref = `ref_${scenario.replace('-', '_')}`;
    const trace = join(root, `${scenario}.trace`);
    const r = await run([scenario, copyOf(ref)], { CMHASH_CRASH_TRACE: trace });
    assert.equal(r.code, 0, r.err);
    const after = state(loc(ref));
    dropDb(ref);
    assert.notEqual(after, before, `${scenario} changed nothing`);
    const points = readFileSync(trace, 'utf8').trim().split('\n');
    assert.ok(points.length >= 4, `${scenario}: only ${points.length} crash points:\n${points.join('\n')}`);
    let sawBefore = 0, sawAfter = 0;
    for (let at = 1; at <= points.length; at++) {
      const db = `p${++n}`;
      const where = copyOf(db);
      const k = await run([scenario, where], { CMHASH_CRASH_AT: String(at) });
      assert.equal(k.signal, 'SIGKILL', `${scenario} point ${points[at - 1]}: expected a kill (exit ${k.code}: ${k.err})`);
      await settled(db);
      const got = state(where);
      if (got === before) {
        sawBefore++;
        const again = await run([scenario, where]);
        assert.equal(again.code, 0, `${scenario} point ${points[at - 1]}: retry failed: ${again.err}`);
        assert.equal(state(where), after, `${scenario} point ${points[at - 1]}: retry gave another state`);
      } else {
        assert.equal(got, after, `${scenario} point ${points[at - 1]}: half-written state`);
        sawAfter++;
      }
      dropDb(db);
    }
    assert.ok(sawBefore >= 1 && sawAfter >= 1, `${scenario}: before ${sawBefore}, after ${sawAfter}`);
    process.stdout.write(`# postgresql ${scenario}: ${points.length} crash points, ${sawBefore} left the state before (retried), ${sawAfter} the state after\n`);
  });
}

/** Checks every batch from 10 on is complete or absent and returns the first absent one. */
function checkBatches(where: string, acked: number, what: string): number {
  const c = Collection.open(where);
  try {
    const snap = c.snapshot();
    const s = PgStore.open(where.slice(0, where.indexOf('#')), 'crash');
    let present: Set<string>;
    try { present = new Set(s.itemIds()); } finally { s.close(); }
    let b = 10;
    for (; ; b++) {
      const items = batchItems(b, snap.labelNames, 6);
      const here = items.filter((it) => present.has(it.id)).length;
      if (here === 0) break;
      assert.equal(here, items.length, `${what}: batch ${b} half-written (${here} of ${items.length} items)`);
      for (const it of items) {
        assert.equal(snap.image.has(it.id), !!it.image, `${what}: ${it.id} image code`);
        assert.equal(snap.text.has(it.id), !!it.text, `${what}: ${it.id} text code`);
      }
    }
    assert.ok(b > acked, `${what}: acknowledged batch ${acked} lost`);
    return b;
  } finally { c.close(); }
}

function startWriter(where: string, from: number) {
  const p = spawn(process.execPath, [CHILD, 'loop', where, String(from)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((r) => p.once('exit', (code) => r(code)));
  const io = { out: '', err: '' };
  p.stdout.on('data', (d) => { io.out += d; });
  p.stderr.on('data', (d) => { io.err += d; });
  const ready = Promise.race([new Promise((r) => p.stdout.on('data', () => { if (io.out.includes('ready')) r(null); })), exited]);
  return { p, exited, io, ready };
}

const acks = (out: string) => Math.max(-1, ...[...out.matchAll(/ack (\d+)/g)].map((m) => Number(m[1])));

test('PostgreSQL crash points: random SIGKILLs of a writer adding batch after batch', { timeout: 900_000 }, async (t) => {
  if (why) { t.skip(`PostgreSQL tests skipped: ${why}`); return; }
  const where = copyOf('loop');
  const tries = Number(process.env.CMHASH_CRASH_TRIES ?? 100);
  const rng = new Rng(11);
  let acked = -1, next = 10, killedMidWrite = 0;
  for (let i = 0; i < tries; i++) {
    const w = startWriter(where, next);
    await w.ready;
    await new Promise((r) => setTimeout(r, rng.int(250)));
    w.p.kill('SIGKILL');
    assert.equal(await w.exited, null, `try ${i}: the writer stopped by itself: ${w.io.err}`);
    await settled('loop');
    acked = Math.max(acked, acks(w.io.out));
    const b = checkBatches(where, acked, `try ${i}`);
    if (b === next) killedMidWrite++;
    next = b;
  }
  assert.ok(next > 10, 'no batch was ever stored');
  dropDb('loop');
  process.stdout.write(`# postgresql random kills: ${tries} tries, ${next - 10} batches stored, ${killedMidWrite} kills before the try's first commit, none half-written, every retry succeeded\n`);
});

// PostgreSQL 15+ (pgsql-hackers, "Fix sequence value may rollback after CREATE DATABASE TEMPLATE
// with WAL_LOG strategy"): CREATE DATABASE … TEMPLATE copies a sequence's page as the template
// holds it in memory, with values already WAL-logged ahead (log_cnt). nextval in the copy hands
// those out without WAL, so crash recovery restores the template's value, below keys that committed
// after the copy: the next add failed with a duplicate key on items_pkey. The restart test below met
// it when its writer had committed a few batches, fewer keys than base had logged ahead, before the
// first crash (a slow or loaded machine). The template here has such a sequence deterministically.
test('PostgreSQL crash points: a database copied by CREATE DATABASE … TEMPLATE takes adds after the server crashes', { timeout: 300_000 }, async (t) => {
  if (why) { t.skip(`PostgreSQL tests skipped: ${why}`); return; }
  copyOf('seqtpl');
  const tpl = SyncPg.connect(dbUrl('seqtpl'));
  try {
    const st = PgStore.open(dbUrl('seqtpl'), 'crash');
    const seq = `${st.schema}.items_key_seq`;
    st.close();
    // the template's sequence as a write that took keys from it leaves it (cmhash before its keys
    // came from the table, or an older replica): setval logs, then nextval logs 32 values ahead
    tpl.query(`SELECT setval('${seq}', (SELECT last_value FROM ${seq}))`);
    tpl.query(`SELECT nextval('${seq}')`);
  } finally { tpl.close(); }
  const where = copyOf('seqcopy'); // nothing between this copy and the crash may checkpoint (DROP DATABASE does)
  let c = Collection.open(where);
  const names = c.snapshot().labelNames;
  try { await c.addItems(batchItems(10, names, 6)); } finally { c.close(); }
  admin!.close(); admin = null;
  pg!.restart('immediate');
  admin = SyncPg.connect(pg!.url);
  c = Collection.open(where);
  try { await c.addItems(batchItems(11, names, 6)); } finally { c.close(); }
  assert.equal(checkBatches(where, 11, 'after the crash'), 12);
  dropDb('seqcopy');
  dropDb('seqtpl');
});

test('PostgreSQL crash points: the server crashes (immediate shutdown) and restarts under a writer', { timeout: 600_000 }, async (t) => {
  if (why) { t.skip(`PostgreSQL tests skipped: ${why}`); return; }
  const where = copyOf('restart');
  admin!.close(); admin = null;
  const open = Collection.open(where); // stays open across the restarts
  const rng = new Rng(5);
  let acked = -1, next = 10;
  const restarts = 3;
  try {
    for (let i = 0; i < restarts; i++) {
      const w = startWriter(where, next);
      await w.ready;
      await new Promise((r) => setTimeout(r, 100 + rng.int(400)));
      pg!.restart('immediate');
      const code = await w.exited;
      // the writer loses its connection: it stops with an error that says so (it never hangs)
      assert.notEqual(code, 0, `restart ${i}: the writer did not notice the server going away`);
      assert.match(w.io.err, /PostgreSQL|connection/i, `restart ${i}: ${w.io.err}`);
      acked = Math.max(acked, acks(w.io.out));
      next = checkBatches(where, acked, `restart ${i}`);
    }
    // the collection opened before the restarts works again: reads, a refresh, a write
    assert.equal(await open.refresh(), true, 'the open collection reloads what the writers stored');
    const snap = open.snapshot();
    assert.ok(snap.image.has('b10-0'), 'it sees the batches stored meanwhile');
    await open.addItems(batchItems(next, snap.labelNames, 6));
    assert.equal(checkBatches(where, next, 'after the restarts'), next + 1);
    process.stdout.write(`# postgresql restarts: ${restarts} immediate shutdowns under a writer, ${next - 10} batches stored, none half-written; the open collection reconnected\n`);
  } finally { open.close(); }
  admin = SyncPg.connect(pg!.url);
  dropDb('restart');
});
