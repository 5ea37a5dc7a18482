// gatherRows copies the chosen rows of a row-major matrix in order (repeats allowed), for narrow rows
// (up to 32 columns: an element loop) and wide ones (a view and a block copy per row) alike, for float and byte data.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gatherRows } from '../../src/data/dataset.js';

test('gatherRows: the given rows in the given order, narrow and wide, float and byte', () => {
  for (const dim of [1, 10, 32, 33, 64, 200]) {
    const n = 7;
    const f = Float32Array.from({ length: n * dim }, (_, i) => i * 0.5 - 3);
    const b = Uint8Array.from({ length: n * dim }, (_, i) => (i * 7) % 256);
    const rows = [6, 0, 3, 3, 1];
    for (const src of [f, b]) {
      const got = gatherRows(src, dim, rows);
      assert.equal(got.constructor, src.constructor, `dim ${dim}: same array type`);
      const want = rows.flatMap((r) => Array.from(src.subarray(r * dim, (r + 1) * dim)));
      assert.deepEqual(Array.from(got), want, `dim ${dim} ${src.constructor.name}`);
    }
    assert.equal(gatherRows(f, dim, []).length, 0);
  }
  assert.equal(gatherRows(new Float32Array(0), 0, [0, 1]).length, 0);
});
