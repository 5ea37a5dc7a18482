// SnapshotIndex (a collection snapshot's index) behind the CodeIndex contract: the same answers as
// FlatIndex for add / search / rangeSearch / remove / ids / codes / save, for both index kinds; and
// appended() leaves the version it came from unchanged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SnapshotIndex } from '../../src/index/snapshot-index.js';
import { FlatIndex } from '../../src/index/flat.js';
import { loadIndex } from '../../src/index/factory.js';
import { Rng } from '../../src/util/rng.js';
import { InputError, NotFoundError } from '../../src/util/errors.js';
import { clusteredCodes, randomCodes } from './helpers.js';

const same = (a: { ids: string[]; distances: Int32Array }[], b: { ids: string[]; distances: Int32Array }[]) =>
  assert.deepEqual(a.map((h) => [h.ids, Array.from(h.distances)]), b.map((h) => [h.ids, Array.from(h.distances)]));

for (const spec of ['flat', 'multi']) {
  test(`SnapshotIndex (${spec}) answers as FlatIndex through the CodeIndex contract`, () => {
    const rng = new Rng(11);
    for (const bits of [8, 24, 64, 136]) {
      const db = clusteredCodes(rng, 301, bits, 7, 0.1);
      const ids = Array.from({ length: db.count }, (_, i) => `it${i}`);
      const flat = new FlatIndex(bits);
      const snap = SnapshotIndex.build(ids.slice(0, 200), db.slice(0, 200), spec);
      flat.add(ids.slice(0, 200), db.slice(0, 200));
      assert.equal(snap.kind, spec);
      snap.add(ids.slice(200), db.slice(200, db.count));
      flat.add(ids.slice(200), db.slice(200, db.count));
      const q = randomCodes(rng, 9, bits);
      same(snap.search(q, 7), flat.search(q, 7));
      same(snap.search(q, 500, { maxDistance: Math.floor(bits / 3) }), flat.search(q, 500, { maxDistance: Math.floor(bits / 3) }));
      same(snap.rangeSearch(q, Math.floor(bits / 4)), flat.rangeSearch(q, Math.floor(bits / 4)));
      const gone = ['it0', 'it150', 'it300'];
      assert.equal(snap.remove(gone), 3); flat.remove(gone);
      assert.equal(snap.has('it150'), false); assert.equal(snap.has('it151'), true);
      assert.deepEqual(snap.ids(), flat.ids());
      assert.deepEqual(Array.from(snap.codes().data), Array.from(flat.codes().data));
      same(snap.search(q, 11), flat.search(q, 11));
      assert.throws(() => snap.add(['it5'], db.slice(5, 6)), InputError, 'an id already present is refused');
      assert.throws(() => snap.add(['x', 'x'], db.slice(0, 2)), InputError, 'a duplicate in the batch is refused');
      assert.throws(() => snap.remove(['nope']), NotFoundError);
      assert.equal(snap.size, flat.size, 'a refused change leaves the index as it was');
      assert.throws(() => snap.search(randomCodes(rng, 1, bits + 8), 3), InputError);
      assert.throws(() => snap.search(q, 0), InputError);
    }
  });
}

test('appended() makes the next version and leaves the one it came from unchanged; save loads as an index', () => {
  const rng = new Rng(3), bits = 32;
  const db = randomCodes(rng, 50, bits);
  const ids = Array.from({ length: 50 }, (_, i) => `d${i}`);
  const v1 = SnapshotIndex.build(ids.slice(0, 30), db.slice(0, 30));
  const v2 = v1.appended(ids.slice(30), db.slice(30, 50));
  assert.equal(v1.size, 30); assert.equal(v2.size, 50);
  assert.equal(v1.has('d40'), false); assert.equal(v2.has('d40'), true);
  const q = db.slice(45, 46);
  assert.equal(v2.search(q, 1)[0]!.ids[0], 'd45');
  assert.notEqual(v1.search(q, 1)[0]!.ids[0], 'd45');
  // branching: v1 appended again after v2 extended the shared storage, and add()/remove() on the
  // newest version — every older version keeps its answers
  const before1 = JSON.stringify(v1.search(db, 5).map((h) => h.ids)), before2 = JSON.stringify(v2.search(db, 5).map((h) => h.ids));
  const branch = v1.appended(['b0', 'b1'], db.slice(0, 2));
  assert.equal(branch.size, 32);
  assert.deepEqual(branch.ids().slice(30), ['b0', 'b1']);
  const v3 = v2.appended(['c0'], db.slice(3, 4));
  v3.add(['c1'], db.slice(4, 5));
  v3.remove(['d0']);
  assert.equal(JSON.stringify(v1.search(db, 5).map((h) => h.ids)), before1, 'v1 unchanged');
  assert.equal(JSON.stringify(v2.search(db, 5).map((h) => h.ids)), before2, 'v2 unchanged');
  assert.equal(v2.size, 50); assert.equal(v3.size, 51); assert.equal(v3.has('d0'), false); assert.equal(v2.has('d0'), true);
  const dir = mkdtempSync(join(tmpdir(), 'cmhash-snapidx-'));
  try {
    v2.save(join(dir, 'i.cmhi'));
    const back = loadIndex(join(dir, 'i.cmhi'));
    assert.deepEqual(back.ids(), v2.ids());
    same(back.search(db, 3), v2.search(db, 3));
  } finally { rmSync(dir, { recursive: true, force: true }); }
});
