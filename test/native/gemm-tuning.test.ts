// The fp32 AVX-512 GEMM's tuned choices: cache sizes are read from the OS, the report names KC,
// MC, NC and the measured tile; and results do not depend on the tile (MR) or MC — only KC sets
// the summation order — checked bit for bit across processes forced to each tile and MC.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createNativeBackend, loadNativeAddon } from '../../src/tensor/backend-native.js';
import { sgemmResultHash, type SgemmCase } from './sgemm-hash.js';

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
  const cases: SgemmCase[] = ([[17, 33, 65, false, false], [300, 70, 600, true, false], [130, 257, 129, false, true], [8, 1000, 300, true, true], [600, 40, 300, false, false]] as const)
    .map(([m, n, k, ta, tb]) => ({ m, n, k, ta, tb, alpha: 0.5, beta: 1 }));
  const run = (env: Record<string, string>) => sgemmResultHash(cases, env);
  const base = run({ CMHASH_GEMM_TILE: '8', CMHASH_GEMM_MC: '144' });
  assert.match(base, /^[0-9a-f]{64}$/);
  const variants: Record<string, string>[] = [{ CMHASH_GEMM_TILE: '12', CMHASH_GEMM_MC: '144' }, { CMHASH_GEMM_TILE: '14', CMHASH_GEMM_MC: '56' }, { CMHASH_GEMM_TILE: '8', CMHASH_GEMM_MC: '512', CMHASH_GEMM_NC: '64' }, {}];
  for (const env of variants) {
    assert.equal(run(env), base, `results changed with ${JSON.stringify(env)}`);
  }
  // and KC does change them (so the check above can fail)
  assert.notEqual(run({ CMHASH_GEMM_KC: '64' }), base);
});
