// Feature files given to `encode` / `search --features`: a NaN, an infinity or a value beyond float32
// in a .npy is refused with its row and column (it used to become a code), as is a file with no rows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeNpy } from '../../src/data/npy.js';
import { readFeatureFile } from '../../src/product/feature-file.js';
import { NotFoundError } from '../../src/util/errors.js';

test('readFeatureFile: .npy values must be finite in float32, and the file must have rows', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cmhash-features-'));
  try {
    const file = (name: string, shape: number[], dtype: 'float32' | 'float64', values: number[]) => {
      const path = join(dir, name);
      writeNpy(path, { shape, dtype, data: dtype === 'float32' ? Float32Array.from(values) : Float64Array.from(values) });
      return path;
    };
    const ok = readFeatureFile(file('ok.npy', [2, 3], 'float32', [1, 2, 3, 4, 5, 6]));
    assert.deepEqual([ok.rows, ok.dim, Array.from(ok.data)], [2, 3, [1, 2, 3, 4, 5, 6]]);
    const one = readFeatureFile(file('one.npy', [3], 'float64', [1, 2, 3]));
    assert.deepEqual([one.rows, one.dim], [1, 3]);
    assert.throws(() => readFeatureFile(file('nan.npy', [2, 3], 'float32', [1, 2, 3, 4, NaN, 6])), /nan\.npy: row 1, column 1 is NaN, expected a finite number/);
    assert.throws(() => readFeatureFile(file('inf.npy', [1, 2], 'float32', [Infinity, 0])), /inf\.npy: row 0, column 0 is infinite in float32/);
    assert.throws(() => readFeatureFile(file('big.npy', [1, 2], 'float64', [0, 1e300])), /big\.npy: row 0, column 1 is infinite in float32/);
    assert.throws(() => readFeatureFile(file('empty.npy', [0, 4], 'float32', [])), /empty\.npy: no rows/);
    // a missing file is "not found" (exit 3) in either format, not a JSON or read error
    for (const name of ['missing.json', 'missing.npy']) assert.throws(() => readFeatureFile(join(dir, name)), (e: Error) => e instanceof NotFoundError && /no such file/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
