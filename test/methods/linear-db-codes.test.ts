// The linear baseline's learned database codes are the codes its labels map to: for items whose
// labels the ridge fits exactly, they equal sign(encode()) — the convention --db-codes learned uses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHasher } from '../../src/methods/registry.js';
import { Rng } from '../../src/util/rng.js';
import type { ContinualHasher } from '../../src/methods/hasher.js';

test('linear databaseCodes = sign((L − μ)·R), equal to the encoded codes when the ridge fits the labels', async () => {
  const rng = new Rng(7), n = 60, C = 4, d = 8, bits = 16;
  const labels = new Uint8Array(n * C), image = new Float32Array(n * d), text = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const c = i % C;
    labels[i * C + c] = 1;
    // features: the one-hot label in the first C columns, noise in the rest (an exact linear fit exists)
    for (let j = 0; j < d; j++) {
      const v = j < C ? (j === c ? 1 : 0) : 0.001 * rng.normal();
      image[i * d + j] = v; text[i * d + j] = v;
    }
  }
  const m = createHasher('linear', { bits, ridge: 1e-6 }) as ContinualHasher;
  await m.fit({ n, imageDim: d, textDim: d, image, text, labels, numClasses: C }, { bits, seed: 3 });
  const db = m.databaseCodes!()!;
  assert.equal(db.length, n * bits);
  const enc = m.encode('image', image, n).values;
  let agree = 0;
  for (let i = 0; i < n * bits; i++) if ((enc[i]! >= 0 ? 1 : -1) === db[i]) agree++;
  assert.ok(agree / (n * bits) > 0.99, `agreement ${agree / (n * bits)}`);
  // items of one class share one code; different classes get different codes
  const code = (i: number) => Array.from(db.subarray(i * bits, (i + 1) * bits)).join(',');
  assert.equal(code(0), code(C));
  assert.notEqual(code(0), code(1));
});
