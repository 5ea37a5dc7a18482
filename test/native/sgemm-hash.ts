// A sha256 of native sgemm results (avx512 unless another variant is named) for a list of products,
// computed in a child process run under the given environment (the GEMM tile/blocking/path switches
// are read once per process), so tests can compare kernels' results bit for bit across settings.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

/** One product: C = alpha·op(A)·op(B) + beta·C with random A, B, C (lda = ta ? m : k, ldb = tb ? k : n). */
export interface SgemmCase { m: number; n: number; k: number; ta: boolean; tb: boolean; alpha: number; beta: number }

export function sgemmResultHash(cases: readonly SgemmCase[], env: Record<string, string>, seed = 12345, isa = 'avx512'): string {
  const script = `
    const { createNativeBackend } = await import(${JSON.stringify(new URL('../../src/tensor/backend-native.js', import.meta.url).href)});
    const { createHash } = await import('node:crypto');
    const be = createNativeBackend(${JSON.stringify(isa)});
    let s = ${seed}; const r = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32 - 0.5);
    const h = createHash('sha256');
    for (const { m, n, k, ta, tb, alpha, beta } of ${JSON.stringify(cases)}) {
      const A = Float32Array.from({ length: m * k }, r), B = Float32Array.from({ length: k * n }, r), C = Float32Array.from({ length: m * n }, r);
      be.sgemm(ta, tb, m, n, k, alpha, A, ta ? m : k, B, tb ? k : n, beta, C, n);
      h.update(new Uint8Array(C.buffer));
    }
    process.stdout.write(h.digest('hex'));`;
  const res = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 });
  assert.equal(res.status, 0, res.stderr);
  assert.match(res.stdout, /^[0-9a-f]{64}$/);
  return res.stdout;
}
