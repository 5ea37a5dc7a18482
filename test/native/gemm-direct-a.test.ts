// The one-row-block path (m <= MC, A not transposed) of the AVX-512 and AVX2 kernels reads A in
// place instead of packing it (ukrDirectA; AVX2 only up to 256 columns of C), and the first tile of
// each panel of a row-major B packs that panel as it goes (ukrDirectAPackB). Checked two ways:
// against the float64 reference on odd shapes (every tile remainder of the 6-row and 8/12/14-row
// tiles, k across KC = 256, padded strides, both B layouts, beta 0 with NaN in C, 1 and 2 threads); and bit for bit against the packed path of the same build
// (CMHASH_GEMM_DIRECT_A=0, and CMHASH_GEMM_FUSED_B=0, in child processes), under each forced tile.
// The AVX2 kernels' results are also pinned to a hash of the intrinsics kernel they replaced.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createNativeBackend, loadNativeAddon } from '../../src/tensor/backend-native.js';
import { refSgemm } from '../kernels/reference.js';
import { sgemmResultHash, type SgemmCase } from './sgemm-hash.js';

const SHAPES: [number, number, number, boolean][] = [
  [1, 1, 1, false], [7, 33, 65, false], [9, 31, 257, true], [13, 64, 256, false], [15, 65, 600, true],
  [127, 100, 300, false], [129, 17, 513, true], [128, 64, 1024, false], [200, 257, 129, false], [416, 40, 70, true],
  [128, 300, 260, false], [143, 520, 70, false],
];
const VARIANTS = ['avx512', 'avx2'] as const;

for (const isa of VARIANTS) test(`direct-A sgemm (${isa}, m <= MC, A not transposed) matches the float64 reference`, (t) => {
  const lib = loadNativeAddon();
  if (!lib || !lib.supportedIsas().includes(isa)) { t.skip(`no native ${isa}`); return; }
  const be = createNativeBackend(isa)!;
  const saved = be.getThreads();
  let s = 99;
  const r = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32 - 0.5);
  try {
    for (const threads of [1, 2]) {
      be.setThreads(threads);
      for (const [m, n, k, tb] of SHAPES) {
        for (const beta of [0, 0.5]) {
          const lda = k + 3, ldb = (tb ? k : n) + 1, ldc = n + 2;
          const a = Float32Array.from({ length: m * lda }, r), b = Float32Array.from({ length: (tb ? n : k) * ldb }, r);
          const c = Float32Array.from({ length: m * ldc }, () => (beta === 0 ? NaN : r()));
          const ref = Float64Array.from(c), scale = new Float64Array(c.length);
          refSgemm(false, tb, m, n, k, 0.75, a, lda, b, ldb, beta, ref, ldc, scale);
          be.sgemm(false, tb, m, n, k, 0.75, a, lda, b, ldb, beta, c, ldc);
          for (let i = 0; i < m; i++) for (let j = 0; j < ldc; j++) {
            const o = i * ldc + j;
            if (j >= n) { assert.ok(beta === 0 ? Number.isNaN(c[o]) : c[o] === Math.fround(ref[o]!), `padding C[${i}][${j}] was written`); continue; }
            const err = Math.abs(c[o]! - ref[o]!), tol = (k + 4) * 1.2e-7 * scale[o]! + 1e-30;
            if (!(err <= tol)) assert.fail(`${isa}: C[${i}][${j}] = ${c[o]} vs ${ref[o]} (err ${err} > ${tol}) m=${m} n=${n} k=${k} tb=${tb} beta=${beta} threads=${threads}`);
          }
        }
      }
    }
  } finally { be.setThreads(saved); }
});

const CASES: SgemmCase[] = SHAPES.flatMap(([m, n, k, tb]) => [0, 1].map((beta) => ({ m, n, k, ta: false, tb, alpha: 1, beta })));

for (const isa of VARIANTS) test(`direct-A sgemm (${isa}) is bit-identical to the packed-A path under every tile`, (t) => {
  const lib = loadNativeAddon();
  if (!lib || !lib.supportedIsas().includes(isa)) { t.skip(`no native ${isa}`); return; }
  const run = (env: Record<string, string>) => sgemmResultHash(CASES, env, 4242, isa);
  // the AVX2 kernel has one tile (6x16); CMHASH_GEMM_TILE forces the AVX-512 one
  for (const tile of isa === 'avx2' ? [null] : ['8', '12', '14']) {
    const forced: Record<string, string> = tile ? { CMHASH_GEMM_TILE: tile } : {};
    const packed = run({ ...forced, CMHASH_GEMM_DIRECT_A: '0' });
    assert.equal(run(forced), packed, `${isa} tile ${tile ?? '6'}: direct-A results differ from packed-A`);
    assert.equal(run({ ...forced, CMHASH_GEMM_FUSED_B: '0' }), packed, `${isa} tile ${tile ?? '6'}: direct-A without the fused B packing differs`);
  }
});

// sha256 of the avx2 results of CASES plus the transposed-A and larger products below (seed 4242),
// computed with the intrinsics 6x16 kernel and scalar packing of 3b4a9fa, which the assembly
// kernels, vectorised and row-wise packing and the new paths replaced: every fp32 result is unchanged.
const PINNED_AVX2 = 'a65ba9ea09a9991851334b10907e4fd57fa857df109770c9f0bf17f03f49777c';
const MORE: SgemmCase[] = [
  { m: 300, n: 200, k: 700, ta: true, tb: false, alpha: 1, beta: 0 }, { m: 301, n: 99, k: 513, ta: true, tb: true, alpha: 0.5, beta: 1 },
  { m: 128, n: 1024, k: 600, ta: false, tb: false, alpha: 1, beta: 0 }, { m: 400, n: 530, k: 300, ta: false, tb: false, alpha: 1, beta: 0.25 },
  // alpha and beta that round (a power of two would hide a change in how C is scaled and added)
  { m: 128, n: 64, k: 300, ta: false, tb: false, alpha: 0.7, beta: 0.3 }, { m: 131, n: 700, k: 300, ta: false, tb: false, alpha: 1.3, beta: 0.3 },
  { m: 200, n: 33, k: 70, ta: true, tb: false, alpha: 0.7, beta: -0.6 }, { m: 127, n: 45, k: 260, ta: false, tb: true, alpha: 0.9, beta: 0.7 },
];

test('avx2 sgemm results are the ones of the intrinsics kernel it replaced (pinned hash)', (t) => {
  const lib = loadNativeAddon();
  if (!lib || !lib.supportedIsas().includes('avx2')) { t.skip('no native avx2'); return; }
  assert.equal(sgemmResultHash([...CASES, ...MORE], {}, 4242, 'avx2'), PINNED_AVX2);
});
