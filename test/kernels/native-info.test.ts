// The addon's CPU feature report, variant choice (CMHASH_ISA), FMA peak loop and thread setting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createNativeBackend, loadNativeAddon, nativeLoadError } from '../../src/tensor/backend-native.js';

const backendModule = fileURLToPath(new URL('../../src/tensor/backend-native.js', import.meta.url));

test('native: cpu features, supported variants and kernel shapes', (t) => {
  const lib = loadNativeAddon();
  if (!lib) { t.skip(`native addon not built: ${nativeLoadError()}`); return; }
  const f = lib.cpuFeatures();
  for (const key of ['avx512f', 'avx512vpopcntdq', 'avx2', 'fma', 'popcnt'] as const) assert.equal(typeof f[key], 'boolean');
  const supported = lib.supportedIsas();
  assert.ok(supported.includes('generic'));
  assert.equal(supported.includes('avx512'), f.avx512f && f.avx512bw && f.avx512vl && f.avx512dq && f.avx2 && f.fma);
  for (const v of supported) {
    const info = createNativeBackend(v)!.kernelInfo();
    assert.ok(info.mr > 0 && info.nr > 0 && info.kc > 0, `kernel info for ${v}`);
  }
  assert.throws(() => lib.sgemm('sse9' as never, false, false, 1, 1, 1, 1, new Float32Array(1), 1, new Float32Array(1), 1, 0, new Float32Array(1), 1), /unknown ISA/);
});

test('native: CMHASH_ISA forces a variant; an unsupported one falls back with a notice', (t) => {
  if (!loadNativeAddon()) { t.skip(`native addon not built: ${nativeLoadError()}`); return; }
  const script = `import(${JSON.stringify(backendModule)}).then((m) => console.log(m.createNativeBackend().variant))`;
  const run = (isa: string) => spawnSync(process.execPath, ['-e', script], { env: { ...process.env, CMHASH_ISA: isa }, encoding: 'utf8' });
  const g = run('generic');
  assert.equal(g.stdout.trim(), 'generic');
  const bad = run('avx1024');
  assert.notEqual(bad.stdout.trim(), 'avx1024');
  assert.match(bad.stderr, /CMHASH_ISA=avx1024 is not one of/);
});

test('native: FMA peak loop and thread count', (t) => {
  const be = createNativeBackend();
  if (!be) { t.skip(`native addon not built: ${nativeLoadError()}`); return; }
  const peak = be.fmaPeak(0.02, 1);
  assert.ok(peak > 0.5 && peak < 10000, `peak ${peak} GFLOP/s`);
  const before = be.getThreads();
  be.setThreads(3);
  assert.equal(be.getThreads(), 3);
  be.setThreads(before);
});
