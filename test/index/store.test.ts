import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { Store } from '../../src/index/store.js';
import { PackedCodes } from '../../src/codes/packed-codes.js';
import { FlatIndex } from '../../src/index/flat.js';
import { MultiIndex } from '../../src/index/multi-index.js';
import { CorruptDataError, InputError, NotFoundError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/rng.js';
import { randomCodes } from './helpers.js';
import { expectedCode } from './store-writer.child.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'cmhash-store-'));

function snapshot(s: Store) {
  const st = s.stats();
  return JSON.stringify({ st, codes: st.currentVersion === null ? null : s.loadCodes().ids });
}

test('store: items, versions, codes per version, current switch, sessions, reopen', () => {
  const dir = tmp();
  try {
    const s = Store.open(dir, { create: true });
    s.addItems({ ids: ['a', 'b', 'c'], labels: Uint8Array.from([1, 0, 0, 1, 1, 0]), classes: 2, metadata: [{ t: 'x' }, null, { n: 3 }], session: 0 });
    s.addItems({ ids: ['d'], labels: Uint8Array.from([0, 0, 1]), classes: 3, session: 1 }); // a new class appears
    assert.equal(s.classes(), 3);
    const items = s.getItems(['a', 'd']);
    assert.deepEqual([...items[0]!.labels], [1, 0, 0]); // padded to the new width
    assert.deepEqual(items[0]!.metadata, { t: 'x' });
    assert.deepEqual([...items[1]!.labels], [0, 0, 1]);
    const rng = new Rng(1), c1 = randomCodes(rng, 4, 64), c2 = randomCodes(rng, 4, 64);
    const v1 = s.createModelVersion({ method: 'dcmh', bits: 64, checkpoint: 'ckpt/v1.bin', session: 0 });
    s.putCodes(v1, ['a', 'b'], c1.slice(0, 2));
    s.putCodes(v1, ['c', 'd'], c1.slice(2, 4));
    assert.equal(s.currentVersion(), null);
    s.commitModelVersion(v1);
    assert.equal(s.currentVersion(), v1);
    const v2 = s.createModelVersion({ method: 'dcmh', bits: 64 });
    s.putCodes(v2, ['a', 'b', 'c', 'd'], c2);
    // v2 is pending: the current version's codes are still v1's, and the two never mix
    const idx1 = s.loadIndex();
    assert.equal(idx1.modelVersion, v1);
    assert.ok(idx1.codes().equals(c1));
    assert.ok(s.loadIndex(v2).codes().equals(c2));
    s.commitModelVersion(v2);
    assert.equal(s.loadIndex().modelVersion, v2);
    assert.ok(s.loadIndex(undefined, 'multi') instanceof MultiIndex);
    assert.ok(s.loadIndex() instanceof FlatIndex);
    // a continual version inherits v2's frozen codes and adds codes for new items only
    const v3 = s.createModelVersion({ method: 'dlcmh', bits: 64, inheritCodesFrom: v2, session: 1 });
    s.addItems({ ids: ['e'] });
    const ce = randomCodes(rng, 1, 64);
    s.putCodes(v3, ['e'], ce);
    s.commitModelVersion(v3);
    const idx3 = s.loadIndex();
    assert.deepEqual(idx3.ids(), ['a', 'b', 'c', 'd', 'e']);
    assert.ok(idx3.codes().equals(PackedCodes.concat([c2, ce])));
    assert.deepEqual(s.loadIndex(v2).ids(), ['a', 'b', 'c', 'd']);
    // removal drops codes from every version's index
    assert.equal(s.removeItems(['b']), 1);
    assert.deepEqual(s.loadIndex().ids(), ['a', 'c', 'd', 'e']);
    assert.deepEqual(s.loadIndex(v1).ids(), ['a', 'c', 'd']);
    const sid = s.addSession({ name: 'session 1', classes: [2], modelVersion: v3 });
    assert.equal(s.sessions()[0]!.id, sid);
    s.setCurrentVersion(v1);
    assert.equal(s.currentVersion(), v1);
    assert.throws(() => s.retireModelVersion(v1), /current/);
    s.retireModelVersion(v2);
    assert.throws(() => s.loadIndex(v2), /retired/);
    assert.throws(() => s.putCodes(v2, ['e'], ce), /retired/);
    const before = snapshot(s);
    s.close();
    const again = Store.open(dir);
    assert.equal(snapshot(again), before);
    assert.equal(again.stats().versions.find((v) => v.id === v1)!.checkpoint, 'ckpt/v1.bin');
    again.close();
    assert.throws(() => Store.open(join(dir, 'nope')), NotFoundError);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('store: failed writes leave stored data untouched', () => {
  const dir = tmp();
  try {
    const s = Store.open(dir, { create: true });
    s.addItems({ ids: ['a', 'b'], labels: Uint8Array.from([1, 0, 0, 1]), classes: 2 });
    const v = s.createModelVersion({ method: 'm', bits: 32 });
    const rng = new Rng(2);
    s.putCodes(v, ['a'], randomCodes(rng, 1, 32));
    s.commitModelVersion(v);
    const before = snapshot(s), segs = readdirSync(join(dir, 'segments')).sort();
    assert.throws(() => s.addItems({ ids: ['c', 'a'] }), /already exists/);           // fails midway: 'c' not kept
    assert.throws(() => s.addItems({ ids: ['x', 'x'] }), /twice/);
    assert.throws(() => s.addItems({ ids: ['y'], labels: Uint8Array.from([1, 0, 1]), classes: 2 }), /label widths|expected 1×2/);
    assert.throws(() => s.addItems({ ids: ['y'], labels: Uint8Array.from([1, 2]), classes: 2 }), /0 or 1/);
    assert.throws(() => s.putCodes(v, ['b'], randomCodes(rng, 1, 64)), /32-bit codes, got 64-bit/);
    assert.throws(() => s.putCodes(v, ['b', 'zz'], randomCodes(rng, 2, 32)), NotFoundError);
    assert.throws(() => s.putCodes(v, ['a'], randomCodes(rng, 1, 32)), /already has a code/);
    assert.throws(() => s.putCodes(v, ['b', 'b'], randomCodes(rng, 2, 32)), /twice/);
    assert.throws(() => s.putCodes(999, ['b'], randomCodes(rng, 1, 32)), NotFoundError);
    assert.throws(() => s.removeItems(['a', 'ghost']), NotFoundError);
    assert.throws(() => s.createModelVersion({ method: 'm', bits: 12 }), InputError);
    assert.throws(() => s.createModelVersion({ method: 'm', bits: 64, inheritCodesFrom: v }), /32-bit/);
    assert.equal(snapshot(s), before);
    assert.deepEqual(readdirSync(join(dir, 'segments')).sort(), segs);
    s.close();
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('store: a newer format is refused with a clear message; a damaged segment is CorruptDataError', () => {
  const dir = tmp();
  try {
    const s = Store.open(dir, { create: true });
    s.addItems({ ids: ['a'] });
    const v = s.createModelVersion({ method: 'm', bits: 64 });
    s.putCodes(v, ['a'], randomCodes(new Rng(3), 1, 64));
    s.commitModelVersion(v);
    s.close();
    const seg = join(dir, 'segments', readdirSync(join(dir, 'segments'))[0]!);
    const bytes = readFileSync(seg);
    writeFileSync(seg, bytes.subarray(0, bytes.length - 3));
    const s2 = Store.open(dir);
    assert.throws(() => s2.loadIndex(), CorruptDataError);
    s2.close();
    const db = new Database(join(dir, 'collection.db'));
    db.prepare("UPDATE meta SET value = '99' WHERE key = 'format'").run();
    db.close();
    assert.throws(() => Store.open(dir), (e: Error) => e instanceof CorruptDataError && /newer cmhash \(store format 99/.test(e.message));
    // a file that is not a database: CorruptDataError naming it (SQLite alone says "file is not a database")
    writeFileSync(join(dir, 'collection.db'), 'garbage\n'.repeat(200));
    for (const f of readdirSync(dir)) if (f.startsWith('collection.db-')) rmSync(join(dir, f));
    for (const readonly of [false, true]) {
      assert.throws(() => Store.open(dir, { readonly }), (e: Error) => e instanceof CorruptDataError && e.message.includes(join(dir, 'collection.db')) && /not a database/.test(e.message), `readonly ${readonly}`);
    }
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('store: kill -9 at random moments leaves the last committed state readable', async () => {
  const dir = tmp();
  const child = join(dirname(fileURLToPath(import.meta.url)), 'store-writer.child.js');
  const rng = new Rng(99);
  try {
    let lastItems = 0;
    for (let round = 0; round < 6; round++) {
      const p = spawn(process.execPath, [child, dir, String(round)], { stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise<void>((resolve) => p.stdout!.once('data', () => resolve()));
      await new Promise((r) => setTimeout(r, 50 + rng.int(400)));
      p.kill('SIGKILL');
      await new Promise((r) => p.once('exit', r));
      const s = Store.open(dir);
      const st = s.stats();
      assert.ok(st.items >= lastItems, 'committed items never disappear');
      lastItems = st.items;
      const cur = s.currentVersion();
      assert.notEqual(cur, null);
      const index = s.loadIndex();
      assert.equal(index.modelVersion, cur);
      const codes = index.codes(), ids = index.ids();
      assert.equal(new Set(ids).size, ids.length);
      for (let i = 0; i < ids.length; i++) {
        const [lo, hi] = expectedCode(Number(ids[i]!.slice(4)));
        assert.equal(codes.data[2 * i], lo); assert.equal(codes.data[2 * i + 1], hi);
      }
      // every item with a code exists (items added just before a kill may still lack codes)
      assert.ok(ids.length <= st.items);
      s.getItems(ids).forEach((it) => assert.deepEqual(it.metadata, { id: it.id }));
      s.close();
    }
    assert.ok(lastItems > 0);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});
