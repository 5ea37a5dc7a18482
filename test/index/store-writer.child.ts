// Child process for the crash test: writes to a store in a loop until killed (SIGKILL).
// Usage: node store-writer.child.js <dir> <seed>. Without arguments it does nothing (the test
// runner may pick this file up as a test file).
import { Store } from '../../src/index/store.js';
import { PackedCodes } from '../../src/codes/packed-codes.js';

/** The code every writer stores for item number i (so a reader can check every code it finds). */
export function expectedCode(i: number): [number, number] {
  return [Math.imul(i, 2654435761) >>> 0, (i ^ 0x5bd1e995) >>> 0];
}

const [dir, seedArg] = process.argv.slice(2);
if (dir) {
  const store = Store.open(dir, { create: true });
  let next = store.stats().items;
  let version = store.currentVersion() ?? store.createModelVersion({ method: 'crash-test', bits: 64 });
  if (store.version(version).status === 'pending') store.commitModelVersion(version);
  let round = Number(seedArg ?? 0);
  process.stdout.write('ready\n');
  for (;;) {
    const n = 50 + (round % 7) * 30;
    const ids = Array.from({ length: n }, (_, j) => `item${next + j}`);
    store.addItems({ ids, labels: new Uint8Array(n * 3).fill(1), classes: 3, metadata: ids.map((id) => ({ id })) });
    const codes = PackedCodes.alloc(64, n);
    ids.forEach((_, j) => codes.data.set(expectedCode(next + j), 2 * j));
    store.putCodes(version, ids, codes);
    next += n;
    if (round % 5 === 4) { // a new model version inheriting the codes, switched to atomically
      const v2 = store.createModelVersion({ method: 'crash-test', bits: 64, inheritCodesFrom: version });
      store.commitModelVersion(v2);
      version = v2;
    }
    round++;
  }
}
