// Items given as JSON (HTTP bodies and `cmhash add/update` files) share one conversion: metadata must
// be an object or null there too (a file's "metadata": "hello" used to be stored, while HTTP refused it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { itemFromJson, type ItemContext } from '../../src/product/item-input.js';
import { readItemsFile } from '../../src/product/items-file.js';
import { NotFoundError } from '../../src/util/errors.js';

const ctx = { config: { name: 'c', imageDim: 2, textDim: 2 }, vocabulary: null } as unknown as ItemContext;

test('itemFromJson: metadata is an object or null; anything else is refused with the item\'s position', () => {
  assert.deepEqual(itemFromJson(ctx, { id: 'a', image: [1, 2], metadata: { note: 'x' } }, 0).metadata, { note: 'x' });
  assert.equal(itemFromJson(ctx, { id: 'a', image: [1, 2] }, 0).metadata, null);
  assert.equal(itemFromJson(ctx, { id: 'a', image: [1, 2], metadata: null }, 0).metadata, null);
  const bad = (metadata: unknown) => () => itemFromJson(ctx, { id: 'a', image: [1, 2], metadata } as never, 3);
  assert.throws(bad('hello'), /items\[3\]\.metadata: expected a JSON object or null, got "hello"/);
  assert.throws(bad([1, 2]), /items\[3\]\.metadata: expected a JSON object or null, got an array/);
  assert.throws(bad(7), /got 7/);
});

test('readItemsFile: a missing file is NotFoundError (exit 3), for library callers as for the CLI', () => {
  assert.throws(() => readItemsFile('/no/such/items.jsonl'), (e: Error) => e instanceof NotFoundError && /items\.jsonl: no such file/.test(e.message));
});
