// All or nothing at every crash point. Each collection write (add, session update in the calling
// thread and in the training process as the service runs it, remove, compact)
// is first run once with CMHASH_CRASH_TRACE to list its crash points (every file created, synced or
// renamed, the commit); then, on a fresh copy of the same collection, it is killed with SIGKILL at
// each point in turn — every point, not a sample. After each kill the collection must be exactly
// the state before the write or exactly the state after it, with no file left that nothing refers
// to; when it is the state before, running the same write again (same ids) must succeed and give
// the state after. Then a random-kill loop (CMHASH_CRASH_TRIES, default 100) kills a writer that
// adds batch after batch at random moments.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Collection } from '../../src/product/collection.js';
import { Store } from '../../src/index/store.js';
import { createContinualHasher } from '../../src/methods/registry.js';
import { buildContinualCollection } from '../../src/product/build-collection.js';
import { generateSynthetic } from '../../src/data/synthetic.js';
import { Rng } from '../../src/util/rng.js';
import { DATA, batchItems, runChild } from './crash-writer.child.js';

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'crash-writer.child.js');

/** A collection with 2 sessions, a few adds (several segments) and nothing removed yet. */
async function buildBase(dir: string): Promise<void> {
  const ds = generateSynthetic(DATA);
  const hasher = createContinualHasher('ccmh-gam', { bits: 16, hidden: 16 });
  const r = await buildContinualCollection(ds, { dir, name: 'crash', hasher, bits: 16, sessions: '4,2', seed: 1, train: { epochs: 2, labelSteps: 20 } });
  const names = r.collection.snapshot().labelNames;
  for (const b of [1, 2, 3]) await r.collection.addItems(batchItems(b, names));
  r.collection.close();
}

const run = runChild;

/** Everything a reader can observe (opening the collection writable also sweeps leftovers). */
function state(dir: string): string {
  const c = Collection.open(dir);
  try {
    const snap = c.snapshot();
    const h = c.history();
    const codes = (m: 'image' | 'text') => {
      const idx = m === 'image' ? snap.image : snap.text;
      return { ids: idx.ids(), hex: Buffer.from(idx.codes().data.buffer).toString('hex') };
    };
    return JSON.stringify({
      version: snap.modelVersion, labels: snap.labelNames, items: c.items(itemIds(dir)).map((i) => [i.id, i.labels, i.metadata]),
      image: codes('image'), text: codes('text'),
      versions: h.versions.map((v) => [v.id, v.status, v.codes]), sessions: h.sessions.length, segments: segmentFiles(dir).length,
    });
  } finally { c.close(); }
}

function segmentFiles(dir: string): string[] {
  const s = Store.open(dir, { readonly: true });
  try { return s.segmentFiles(); } finally { s.close(); }
}

function itemIds(dir: string): string[] {
  const s = Store.open(dir, { readonly: true });
  try { return s.itemIds(); } finally { s.close(); }
}

/** Files in segments/ and models/ that no row refers to, and temp files anywhere (must be none). */
function leftovers(dir: string): string[] {
  const s = Store.open(dir, { readonly: true });
  try {
    const segs = new Set(s.segmentFiles());
    const ckpts = new Set(s.versions().map((v) => v.checkpoint?.replace(/^models[\\/]/, '')).filter(Boolean) as string[]);
    const extra = readdirSync(join(dir, 'segments')).filter((f) => !segs.has(f));
    const models = existsSync(join(dir, 'models')) ? readdirSync(join(dir, 'models')).filter((f) => !ckpts.has(f)) : [];
    const tmp = readdirSync(dir).filter((f) => f.endsWith('.tmp'));
    return [...extra.map((f) => `segments/${f}`), ...models.map((f) => `models/${f}`), ...tmp];
  } finally { s.close(); }
}

const root = mkdtempSync(join(tmpdir(), 'cmhash-crash-'));
const base = join(root, 'base');
let baseReady: Promise<void> | null = null;
const ready = () => (baseReady ??= buildBase(base));

for (const scenario of ['add', 'update', 'update-worker', 'remove', 'compact']) {
  test(`crash points: ${scenario} is all or nothing at every point, and a retry succeeds`, { timeout: 300_000 }, async () => {
    await ready();
    const before = state(base);
    // the reference run: the state after, and the list of crash points
    const ref = join(root, `${scenario}-ref`);
    cpSync(base, ref, { recursive: true });
    const trace = join(root, `${scenario}.trace`);
    const r = await run([scenario, ref], { CMHASH_CRASH_TRACE: trace });
    assert.equal(r.code, 0, r.err);
    const after = state(ref);
    assert.notEqual(after, before, `${scenario} changed nothing`);
    if (scenario === 'compact') {
      // compaction keeps every answer: same codes in the same order, only fewer files
      const strip = (s: string) => { const o = JSON.parse(s); delete o.segments; return JSON.stringify(o); };
      assert.equal(strip(after), strip(before));
      assert.ok(JSON.parse(after).segments < JSON.parse(before).segments);
    }
    const points = readFileSync(trace, 'utf8').trim().split('\n');
    assert.ok(points.length >= (scenario === 'remove' ? 2 : 7), `${scenario}: only ${points.length} crash points:\n${points.join('\n')}`);
    let sawBefore = 0, sawAfter = 0;
    for (let at = 1; at <= points.length; at++) {
      const dir = join(root, `${scenario}-${at}`);
      cpSync(base, dir, { recursive: true });
      const k = await run([scenario, dir], { CMHASH_CRASH_AT: String(at) });
      assert.equal(k.signal, 'SIGKILL', `${scenario} point ${points[at - 1]}: expected a kill (exit ${k.code}: ${k.err})`);
      const got = state(dir);
      assert.deepEqual(leftovers(dir), [], `${scenario} point ${points[at - 1]}: files left behind`);
      if (got === before) {
        sawBefore++;
        const again = await run([scenario, dir]);
        assert.equal(again.code, 0, `${scenario} point ${points[at - 1]}: retry failed: ${again.err}`);
        assert.equal(state(dir), after, `${scenario} point ${points[at - 1]}: retry gave another state`);
      } else {
        assert.equal(got, after, `${scenario} point ${points[at - 1]}: half-written state`);
        sawAfter++;
      }
      rmSync(dir, { recursive: true, force: true });
    }
    // killed before the commit → nothing; after → everything
    assert.ok(sawBefore >= 1 && sawAfter >= 1, `${scenario}: before ${sawBefore}, after ${sawAfter}`);
    process.stdout.write(`# ${scenario}: ${points.length} crash points, ${sawBefore} left the state before (retried), ${sawAfter} the state after\n`);
  });
}

test('crash points: random SIGKILLs of a writer adding batch after batch', { timeout: 600_000 }, async () => {
  await ready();
  const dir = join(root, 'loop');
  cpSync(base, dir, { recursive: true });
  const tries = Number(process.env.CMHASH_CRASH_TRIES ?? 100);
  const rng = new Rng(7);
  let acked = -1, next = 10, killedMidWrite = 0;
  for (let t = 0; t < tries; t++) {
    const p = spawn(process.execPath, [CHILD, 'loop', dir, String(next)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((r) => p.once('exit', (code) => r(code)));
    let out = '', err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    // the kill lands at a random moment of the writing, whatever the machine's load: the clock starts
    // once the writer has opened the collection (or gave up)
    await Promise.race([new Promise((r) => p.stdout.on('data', () => { if (out.includes('ready')) r(null); })), exited]);
    await new Promise((r) => setTimeout(r, rng.int(250)));
    p.kill('SIGKILL');
    const code = await exited;
    assert.equal(code, null, `try ${t}: the writer stopped by itself: ${err}`);
    for (const m of out.matchAll(/ack (\d+)/g)) acked = Math.max(acked, Number(m[1]));
    // every batch is complete or absent; every acknowledged batch is there
    const c = Collection.open(dir);
    try {
      const snap = c.snapshot();
      const present = new Set(itemIds(dir));
      let b = 10;
      for (; ; b++) {
        const items = batchItems(b, snap.labelNames, 6);
        const here = items.filter((it) => present.has(it.id)).length;
        if (here === 0) break;
        assert.equal(here, items.length, `try ${t}: batch ${b} half-written (${here} of ${items.length} items)`);
        for (const it of items) {
          assert.equal(snap.image.has(it.id), !!it.image, `try ${t}: ${it.id} image code`);
          assert.equal(snap.text.has(it.id), !!it.text, `try ${t}: ${it.id} text code`);
        }
      }
      assert.ok(b > acked, `try ${t}: acknowledged batch ${acked} lost`);
      if (b === next) killedMidWrite++;
      next = b; // the next writer retries the batch that was cut off, with the same ids
    } finally { c.close(); }
    assert.deepEqual(leftovers(dir), [], `try ${t}: files left behind`);
  }
  assert.ok(next > 10, 'no batch was ever stored');
  process.stdout.write(`# random kills: ${tries} tries, ${next - 10} batches stored, ${killedMidWrite} kills before the try's first commit, none half-written, every retry succeeded\n`);
});

after(() => rmSync(root, { recursive: true, force: true }));
