import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Dbrc } from '../../src/methods/dbrc.js';
import { loadHasher } from '../../src/methods/registry.js';
import { InputError } from '../../src/util/errors.js';
import { tinyData } from './fixture.js';

const train = tinyData(160, 1), query = tinyData(40, 3);
const signedSqrt = (a: Float32Array) => Float32Array.from(a, (v) => (v < 0 ? -Math.sqrt(-v) : Math.sqrt(v)));

test('DBRC imageMap sqrt = training and encoding on signed-square-rooted image features; survives save/load', async () => {
  const opts = { bits: 8, epochs: 2, seed: 4 };
  const mapped = new Dbrc({ bits: 8, hidden: 16 }), manual = new Dbrc({ bits: 8, hidden: 16 });
  await mapped.fit(train, { ...opts, imageMap: 'sqrt' });
  await manual.fit({ ...train, image: signedSqrt(train.image) }, opts);
  assert.equal(mapped.imageMap, 'sqrt');
  assert.deepEqual(mapped.encode('image', query.image, query.n).values, manual.encode('image', signedSqrt(query.image), query.n).values);
  assert.deepEqual(mapped.encode('text', query.text, query.n).values, manual.encode('text', query.text, query.n).values);
  const dir = mkdtempSync(join(tmpdir(), 'dbrc-map-'));
  try {
    mapped.save(join(dir, 'm.ckpt'));
    const loaded = loadHasher(join(dir, 'm.ckpt'), { method: 'dbrc', bits: 8 }) as Dbrc;
    assert.equal(loaded.imageMap, 'sqrt');
    assert.deepEqual(loaded.encode('image', query.image, query.n).values, mapped.encode('image', query.image, query.n).values);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('DBRC lrDecay cosine changes training (lr schedule applied) and bad option values are InputErrors', async () => {
  const a = new Dbrc({ bits: 8, hidden: 16 }), b = new Dbrc({ bits: 8, hidden: 16 });
  await a.fit(train, { bits: 8, epochs: 3, seed: 2 });
  await b.fit(train, { bits: 8, epochs: 3, seed: 2, lrDecay: 'cosine' });
  assert.notDeepEqual(a.encode('image', query.image, query.n).values, b.encode('image', query.image, query.n).values);
  await assert.rejects(new Dbrc({ bits: 8, hidden: 8 }).fit(train, { bits: 8, imageMap: 'log' as never }), (e: Error) => e instanceof InputError && /imageMap must be one of none, sqrt/.test(e.message));
  await assert.rejects(new Dbrc({ bits: 8, hidden: 8 }).fit(train, { bits: 8, lrDecay: 'step' as never }), (e: Error) => e instanceof InputError && /lrDecay must be one of none, cosine/.test(e.message));
});

test('DBRC imageDepth adds image-pathway layers (0 = linear), survives save/load; out-of-range depth is an InputError', async () => {
  const deep = new Dbrc({ bits: 8, hidden: 16 });
  await deep.fit(train, { bits: 8, epochs: 2, seed: 6, imageDepth: 2 });
  assert.equal(deep.imageDepth, 2);
  const dir = mkdtempSync(join(tmpdir(), 'dbrc-depth-'));
  try {
    deep.save(join(dir, 'd.ckpt'));
    const loaded = loadHasher(join(dir, 'd.ckpt'), { method: 'dbrc', bits: 8 }) as Dbrc;
    assert.equal(loaded.imageDepth, 2);
    assert.deepEqual(loaded.encode('image', query.image, query.n).values, deep.encode('image', query.image, query.n).values);
  } finally { rmSync(dir, { recursive: true, force: true }); }
  const linear = new Dbrc({ bits: 8, hidden: 8 });
  await linear.fit(train, { bits: 8, epochs: 1, seed: 6, imageDepth: 0 }); // 0 = a linear image pathway
  assert.equal(linear.imageDepth, 0);
  assert.equal(linear.encode('image', query.image, query.n).values.length, query.n * 8);
  for (const bad of [-1, 5, 1.5]) {
    await assert.rejects(new Dbrc({ bits: 8, hidden: 8 }).fit(train, { bits: 8, imageDepth: bad }), (e: Error) => e instanceof InputError && /option imageDepth must be (an integer|≥ 0|≤ 4)/.test(e.message));
  }
});
