// The bf16 GEMM (AVX512_BF16) against TypeScript references: (1) float64 products of the inputs
// rounded to bfloat16 (round to nearest even; denormals flushed, as vcvtneps2bf16 does), which it
// must match to float32-accumulation accuracy, and (2) the float32 inputs themselves, which it
// must match within bf16's rounding: each product's relative error is at most 2·2⁻⁹ + 2⁻¹⁸ < 2⁻⁸.
// Odd shapes (1, 17, 33, 513: not multiples of the 8×32 tile, the k pair or the 512 k block),
// every transpose case, alpha/beta, padded leading dimensions, 1 and 2 threads. Also the process-
// wide precision switch (tensor/precision.ts) that routes matmul/affine through it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/util/rng.js';
import { createNativeBackend, loadNativeAddon } from '../../src/tensor/backend-native.js';
import { getJsBackend, getBackend, setBackend } from '../../src/tensor/backends.js';
import { getMatmulPrecision, setMatmulPrecision } from '../../src/tensor/precision.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { matmul } from '../../src/tensor/ops-matmul.js';

const f32 = new Float32Array(1), u32 = new Uint32Array(f32.buffer);
/** x rounded to bfloat16 (RNE), denormals to ±0, NaN stays NaN. */
export function bf16(x: number): number {
  f32[0] = x;
  let b = u32[0]!;
  if ((b & 0x7f800000) === 0) b &= 0x80000000;
  else if ((b & 0x7fffffff) > 0x7f800000) b |= 0x400000;
  else b = (b + 0x7fff + ((b >>> 16) & 1)) >>> 0;
  u32[0] = b & 0xffff0000;
  return f32[0];
}

function bf16Backend() {
  if (!loadNativeAddon()) return { be: null, why: 'native addon not built' };
  const be = createNativeBackend(loadNativeAddon()!.supportedIsas()[0]);
  if (!be || !be.hasBf16()) return { be: null, why: 'CPU has no AVX512_BF16' };
  return { be, why: '' };
}

test('bf16 sgemm matches the bf16-rounded float64 reference and the fp32 one within 2^-8 of Σ|a·b|', (t) => {
  const { be, why } = bf16Backend();
  if (!be) { t.skip(why); return; }
  const rng = new Rng(5);
  const shapes: [number, number, number][] = [[1, 1, 1], [1, 1, 2], [3, 5, 7], [17, 33, 65], [8, 32, 512], [9, 33, 513], [33, 17, 1025], [130, 40, 300], [200, 70, 33]];
  let checked = 0;
  for (const threads of [1, 2]) {
    be.setThreads(threads);
    for (const [m, n, k] of shapes) for (const ta of [false, true]) for (const tb of [false, true]) {
      const pad = (m + n + k) % 3, alpha = 0.75, beta = k % 2 ? 0.5 : 0;
      const lda = (ta ? m : k) + pad, ldb = (tb ? k : n) + pad, ldc = n + pad;
      const a = rng.fillNormal(new Float32Array((ta ? k : m) * lda)), b = rng.fillNormal(new Float32Array((tb ? n : k) * ldb));
      const c = rng.fillNormal(new Float32Array(m * ldc)), before = c.slice();
      be.sgemmBf16!(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
      for (let i = 0; i < m; i++) for (let j = 0; j < ldc; j++) {
        const o = i * ldc + j;
        if (j >= n) { assert.equal(c[o], before[o], 'padding of C untouched'); continue; }
        let sRound = 0, sExact = 0, abs = 0;
        for (let p = 0; p < k; p++) {
          const av = ta ? a[p * lda + i]! : a[i * lda + p]!, bv = tb ? b[j * ldb + p]! : b[p * ldb + j]!;
          sRound += bf16(av) * bf16(bv); sExact += av * bv; abs += Math.abs(av * bv);
        }
        const cOld = beta === 0 ? 0 : beta * before[o]!;
        const scale = alpha * abs + Math.abs(cOld) + 1e-30;
        const errRound = Math.abs(c[o]! - (alpha * sRound + cOld)), errExact = Math.abs(c[o]! - (alpha * sExact + cOld));
        const ctx = `${m}x${n}x${k} ta=${ta} tb=${tb} threads=${threads} C[${i}][${j}]`;
        assert.ok(errRound <= (k + 4) * 1.2e-7 * scale, `${ctx}: ${c[o]} vs bf16 reference ${alpha * sRound + cOld}`);
        assert.ok(errExact <= 2 ** -8 * scale + (k + 4) * 1.2e-7 * scale, `${ctx}: ${c[o]} vs fp32 reference ${alpha * sExact + cOld}`);
        checked++;
      }
    }
  }
  be.setThreads(1);
  assert.ok(checked > 10000);
});

test('bf16 rounding is round-to-nearest-even on the inputs (ties), and NaN/Inf/−0 behave as in float32', (t) => {
  const { be, why } = bf16Backend();
  if (!be) { t.skip(why); return; }
  const one = (x: number, y: number) => { const c = new Float32Array(1); be.sgemmBf16!(false, false, 1, 1, 1, 1, Float32Array.of(x), 1, Float32Array.of(y), 1, 0, c, 1); return c[0]!; };
  assert.equal(one(1 + 2 ** -8, 1), 1);                     // tie → even (1.0)
  assert.equal(one(1 + 3 * 2 ** -8, 1), 1 + 2 ** -6);       // tie → even (up)
  assert.equal(one(1 + 2 ** -8 + 2 ** -20, 1), 1 + 2 ** -7); // above the tie → up
  assert.equal(one(3.14159265, 1), bf16(3.14159265));
  assert.ok(Number.isNaN(one(NaN, 1)));
  assert.equal(one(Infinity, 2), Infinity);
  assert.ok(Object.is(one(-0, 1), -0) || Object.is(one(-0, 1), 0)); // a zero either way
  assert.equal(one(3e38, 1), bf16(3e38));
});

test('precision switch: bf16 routes matmul through the bf16 kernel; fp32 afterwards gives the same bits as before', (t) => {
  const { be, why } = bf16Backend();
  const saved = getBackend();
  if (!be) {
    // without the kernel the switch refuses, naming why
    setBackend(getJsBackend());
    try { assert.throws(() => setMatmulPrecision('bf16'), /bf16/); } finally { setBackend(saved); }
    t.skip(why);
    return;
  }
  setBackend(be);
  try {
    const rng = new Rng(9);
    const a = Tensor.wrap(17, 65, rng.fillNormal(new Float32Array(17 * 65))), b = Tensor.wrap(65, 33, rng.fillNormal(new Float32Array(65 * 33)));
    const fp32Before = matmul(a, b).data.slice();
    setMatmulPrecision('bf16');
    assert.equal(getMatmulPrecision(), 'bf16');
    const viaSwitch = matmul(a, b).data;
    const direct = new Float32Array(17 * 33);
    be.sgemmBf16!(false, false, 17, 33, 65, 1, a.data as Float32Array, 65, b.data as Float32Array, 33, 0, direct, 33);
    assert.deepEqual(Array.from(viaSwitch), Array.from(direct));
    assert.notDeepEqual(Array.from(viaSwitch), Array.from(fp32Before));
    setMatmulPrecision('fp32');
    assert.deepEqual(Array.from(matmul(a, b).data), Array.from(fp32Before));
    // the JS backend has no bf16 kernel: the switch refuses it
    setBackend(getJsBackend());
    assert.throws(() => setMatmulPrecision('bf16'), /bf16/);
  } finally {
    setMatmulPrecision('fp32');
    setBackend(saved);
  }
});
