// `cmhash doctor --json`: one record naming the backend, kernels and what the CPU offers, including
// whether Adam can run inside the weight-gradient GEMMs, on the native and the portable backend.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { loadNativeAddon } from '../../src/tensor/backend-native.js';

function doctor(env: Record<string, string>): Record<string, unknown> {
  const r = spawnSync(process.execPath, [resolve('bin/cmhash.js'), 'doctor', '--json'], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...env } });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
}

test('doctor on the portable backend says so, fused Adam as the reference', () => {
  const d = doctor({ CMHASH_BACKEND: 'js' });
  assert.equal(d.backend, 'js');
  assert.equal(d.gemm_kernel, 'typescript 4x4');
  assert.match(String(d.fused_adam), /^portable reference/);
  for (const k of ['threads', 'cpu', 'cores', 'node', 'malloc_retain']) assert.ok(k in d, k);
});

test('doctor on the native backend names its kernels and the fused Adam GEMMs', (t) => {
  if (!loadNativeAddon()) { t.skip('native addon absent'); return; }
  const d = doctor({ CMHASH_BACKEND: 'native' });
  assert.equal(d.backend, 'native');
  assert.equal(d.native_error, null);
  assert.match(String(d.gemm_kernel), /^(avx512|avx2|generic)/);
  assert.match(String(d.fused_adam), /^yes, fp32( and bf16)? GEMMs? \(threads split the gradient rows\)$/);
  // bf16 fused exactly when the bf16 GEMM is there
  assert.equal(String(d.fused_adam).includes('bf16'), String(d.bf16_gemm).startsWith('avx512bf16'));
});
