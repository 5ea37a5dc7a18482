// The fp32 AVX-512 GEMM's tuned choices: cache sizes are read from the OS, the report names KC,
// MC, NC and the measured tile; and results do not depend on the tile (MR) or MC — only KC sets
// the summation order — checked bit for bit across processes forced to each tile and MC.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createNativeBackend, loadNativeAddon } from '../../src/tensor/backend-native.js';

test('gemmTuning reports caches, blocks and the tile choice', (t) => {
  const lib = loadNativeAddon();
  if (!lib || !lib.supportedIsas().includes('avx512')) { t.skip('no native avx512'); return; }
  const tun = createNativeBackend('avx512')!.gemmTuning();
  assert.ok(tun, 'addon has gemmTuning');
  assert.ok(tun.l1d > 0 && tun.l2 > 0, JSON.stringify(tun));
  assert.match(tun.cacheSource, /^(sysfs|sysconf|default)$/);
  assert.match(tun.avx512, /KC=256/);
  assert.match(tun.avx512, /chosen avx512 (8|12|14)x32 MC=\d+ KC=256 NC=\d+/);
  const info = createNativeBackend('avx512')!.kernelInfo();
  assert.equal(info.kc, 256);
  assert.equal(info.mc % info.mr, 0);
});

test('fp32 sgemm results are bit-identical whatever tile (MR) and MC the tuning picks', (t) => {
  const lib = loadNativeAddon();
  if (!lib || !lib.supportedIsas().includes('avx512')) { t.skip('no native avx512'); return; }
  const script = `
    const { createNativeBackend } = await import(${JSON.stringify(new URL('../../src/tensor/backend-native.js', import.meta.url).href)});
    const { createHash } = await import('node:crypto');
    const be = createNativeBackend('avx512');
    let s = 12345; const r = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32 - 0.5);
    const h = createHash('sha256');
    for (const [m, n, k, ta, tb] of [[17, 33, 65, false, false], [300, 70, 600, true, false], [130, 257, 129, false, true], [8, 1000, 300, true, true], [600, 40, 300, false, false]]) {
      const A = Float32Array.from({ length: m * k }, r), B = Float32Array.from({ length: k * n }, r), C = Float32Array.from({ length: m * n }, r);
      be.sgemm(ta, tb, m, n, k, 0.5, A, ta ? m : k, B, tb ? k : n, 1, C, n);
      h.update(new Uint8Array(C.buffer));
    }
    process.stdout.write(h.digest('hex'));`;
  const run = (env: Record<string, string>) => {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout;
  };
  const base = run({ CMHASH_GEMM_TILE: '8', CMHASH_GEMM_MC: '144' });
  assert.match(base, /^[0-9a-f]{64}$/);
  const variants: Record<string, string>[] = [{ CMHASH_GEMM_TILE: '12', CMHASH_GEMM_MC: '144' }, { CMHASH_GEMM_TILE: '14', CMHASH_GEMM_MC: '56' }, { CMHASH_GEMM_TILE: '8', CMHASH_GEMM_MC: '512', CMHASH_GEMM_NC: '64' }, {}];
  for (const env of variants) {
    assert.equal(run(env), base, `results changed with ${JSON.stringify(env)}`);
  }
  // and KC does change them (so the check above can fail)
  assert.notEqual(run({ CMHASH_GEMM_KC: '64' }), base);
  void createHash;
});
