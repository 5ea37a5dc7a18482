// Adding items to a collection snapshot: SnapshotIndex.appended (shared growable storage, O(added))
// against rebuilding the snapshot from all codes (what an add cost before), measured in the same
// run. Usage: node bench/product/append-snapshot.mjs [n=1000000] [batch=10] [adds=20]   (after npm run build)
import { SnapshotIndex } from '../../dist/src/index/snapshot-index.js';
import { PackedCodes } from '../../dist/src/codes/packed-codes.js';
import { randomCodes } from '../../dist/src/index/random-codes.js';
import { Rng } from '../../dist/src/util/rng.js';

const [n = 1_000_000, batch = 10, adds = 20] = process.argv.slice(2).map(Number);
const rng = new Rng(1);
const base = randomCodes(rng, n, 64);
const ids = Array.from({ length: n }, (_, i) => `item-${i}`);
const batches = Array.from({ length: adds }, (_, a) => ({ ids: Array.from({ length: batch }, (_, i) => `new-${a}-${i}`), codes: randomCodes(rng, batch, 64) }));
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

let snap = SnapshotIndex.build(ids, base);
const appendMs = [];
for (const b of batches) { const t = performance.now(); snap = snap.appended(b.ids, b.codes); appendMs.push(performance.now() - t); }

let rebuilt = SnapshotIndex.build(ids, base);
const rebuildMs = [];
for (const b of batches) {
  const t = performance.now();
  rebuilt = SnapshotIndex.build([...rebuilt.ids, ...b.ids], PackedCodes.concat([rebuilt.codes, b.codes]));
  rebuildMs.push(performance.now() - t);
}
const same = JSON.stringify(snap.knn(batches[0].codes.data, batch, 10)) === JSON.stringify(rebuilt.knn(batches[0].codes.data, batch, 10));
console.log(`${n.toLocaleString()} 64-bit codes, ${adds} adds of ${batch}; same answers: ${same}`);
console.table({
  appended: { 'first add ms': +appendMs[0].toFixed(3), 'median add ms': +median(appendMs.slice(1)).toFixed(3) },
  rebuild: { 'first add ms': +rebuildMs[0].toFixed(3), 'median add ms': +median(rebuildMs.slice(1)).toFixed(3) },
});
console.log(`ratio (rebuild / appended, median add): ${(median(rebuildMs.slice(1)) / median(appendMs.slice(1))).toFixed(0)}x`);
