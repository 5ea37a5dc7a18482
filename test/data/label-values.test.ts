// Label matrices are 0/1 or ±1: any other value (a 2, a 0.5 score, NaN) is refused with its position —
// it used to be read as "v > 0", so counts and scores loaded as labels silently.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { labelsFrom } from '../../src/data/presets/common.js';

test('labelsFrom: 0/1 and ±1 matrices load; other values are refused with row and column', () => {
  const m = (data: number[]) => ({ shape: [2, 3], dtype: 'float32' as const, data: Float32Array.from(data) });
  assert.deepEqual(Array.from(labelsFrom(m([1, 0, 0, 0, 1, 1]), 'L', 2).labels), [1, 0, 0, 0, 1, 1]);
  assert.deepEqual(Array.from(labelsFrom(m([1, -1, -1, -1, 1, 1]), 'L', 2).labels), [1, 0, 0, 0, 1, 1]);
  assert.throws(() => labelsFrom(m([1, 0, 0, 0, 2, 1]), 'L.npy', 2), /L\.npy: label value 2 at \[1, 1\]; expected a 0\/1 \(or ±1\) matrix/);
  assert.throws(() => labelsFrom(m([1, 0.5, 0, 0, 1, 1]), 'L.npy', 2), /label value 0\.5 at \[0, 1\]/);
  assert.throws(() => labelsFrom(m([1, 0, NaN, 0, 1, 1]), 'L.npy', 2), /label value NaN at \[0, 2\]/);
  // class-index vectors are unchanged
  assert.deepEqual(labelsFrom({ shape: [3], dtype: 'int32', data: Int32Array.from([0, 2, 1]) }, 'y').numLabels, 3);
});
