// Adding items to a snapshot (SnapshotIndex.appended): the new snapshot answers exactly as one built
// from all codes at once; every older snapshot keeps answering as before (it may still be serving
// searches), also when a second branch is appended to an older snapshot; lookups by id see only a
// snapshot's own items; the caller's arrays are never written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SnapshotIndex } from '../../src/index/snapshot-index.js';
import { PackedCodes } from '../../src/codes/packed-codes.js';
import { randomCodes } from '../../src/index/random-codes.js';
import { Rng } from '../../src/util/rng.js';

function answers(m: SnapshotIndex, queries: PackedCodes, k: number, radius?: number): string {
  return JSON.stringify(m.knn(queries.data, queries.count, k, radius).map((h) => [h.ids, Array.from(h.distances)]));
}

for (const spec of ['flat', 'multi']) {
  test(`appended snapshots equal a fresh build and leave older snapshots unchanged (${spec})`, () => {
    const rng = new Rng(3), bits = 64;
    const all = randomCodes(rng, 700, bits);
    for (let i = 0; i < 700; i += 5) all.data.copyWithin(i * all.stride, 0, all.stride); // many ties
    const ids = Array.from({ length: 700 }, (_, i) => `id-${i}`);
    const queries = randomCodes(rng, 9, bits);
    const callerCodes = all.slice(0, 300), callerIds = ids.slice(0, 300);
    const before = Uint32Array.from(callerCodes.data);
    const snaps = [SnapshotIndex.build(callerIds, callerCodes, spec)];
    const cuts = [300, 301, 301, 350, 520, 700]; // includes an empty append
    for (let c = 1; c < cuts.length; c++) snaps.push(snaps[c - 1]!.appended(ids.slice(cuts[c - 1], cuts[c]), all.slice(cuts[c - 1]!, cuts[c]!)));
    const expected = cuts.map((n) => answers(SnapshotIndex.build(ids.slice(0, n), all.slice(0, n), spec), queries, 15));
    const expectedR = cuts.map((n) => answers(SnapshotIndex.build(ids.slice(0, n), all.slice(0, n), spec), queries, 50, 28));
    snaps.forEach((s, c) => {
      assert.equal(s.size, cuts[c], `snapshot ${c} size`);
      assert.equal(answers(s, queries, 15), expected[c], `snapshot ${c}: k-NN after all appends`);
      assert.equal(answers(s, queries, 50, 28), expectedR[c], `snapshot ${c}: radius search`);
      assert.deepEqual(s.ids(), ids.slice(0, cuts[c]));
    });
    // lookups by id: a snapshot knows only its own items
    assert.equal(snaps[0]!.codeOf('id-300'), null);
    assert.ok(snaps[1]!.codeOf('id-300'));
    assert.deepEqual(Array.from(snaps[5]!.codeOf('id-699')!.data), Array.from(all.slice(699, 700).data));
    // a second branch from an older snapshot: both branches stay correct
    const branch = snaps[3]!.appended(['other-a', 'other-b'], all.slice(0, 2));
    assert.equal(answers(branch, queries, 15), answers(SnapshotIndex.build([...ids.slice(0, 350), 'other-a', 'other-b'], PackedCodes.concat([all.slice(0, 350), all.slice(0, 2)]), spec), queries, 15));
    assert.equal(answers(snaps[5]!, queries, 15), expected[5], 'the newer branch is untouched by the older one\'s append');
    assert.equal(answers(snaps[3]!, queries, 15), expected[3]);
    assert.deepEqual(callerIds, ids.slice(0, 300), 'caller ids untouched');
    assert.deepEqual(Array.from(callerCodes.data), Array.from(before), 'caller codes untouched');
  });
}

test('appended: mismatched ids/codes and other code lengths are clear errors', () => {
  const m = SnapshotIndex.build(['a'], PackedCodes.alloc(64, 1));
  assert.throws(() => m.appended(['b', 'c'], PackedCodes.alloc(64, 1)), /2 ids for 1 codes/);
  assert.throws(() => m.appended(['b'], PackedCodes.alloc(32, 1)), /32-bit codes for a 64-bit collection/);
  assert.throws(() => SnapshotIndex.build(['a', 'b'], PackedCodes.alloc(64, 1)), /2 ids for 1 codes/);
});
