// `cmhash bench gemm --precision`: an unknown precision is refused with exit 2 and names the option.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { loadNativeAddon } from '../../src/tensor/backend-native.js';

test('bench gemm: a bad --precision is a clear error (exit 2)', (t) => {
  if (!loadNativeAddon()) { t.skip('native addon not built'); return; }
  const r = spawnSync(process.execPath, [resolve('bin/cmhash.js'), 'bench', 'gemm', '--precision', 'fp16'], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /precision/);
});
