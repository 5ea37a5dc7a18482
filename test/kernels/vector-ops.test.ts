// ReLU forward/backward/in-place mask, bias column sums, float64-accumulated dot and axpy on every backend against a plain
// TypeScript reference, bit for bit, on odd sizes (tails of every vector width) and special values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/util/rng.js';
import { backendsUnderTest } from './backends-under-test.js';

const SIZES = [0, 1, 3, 7, 8, 9, 15, 17, 31, 33, 63, 65, 127, 1000, 4099];

/** Random values with exact zeros, negative zeros and tiny / huge magnitudes mixed in. */
function values(rng: Rng, n: number): Float32Array {
  const x = rng.fillNormal(new Float32Array(n));
  for (let i = 0; i < n; i++) {
    const u = rng.uniform();
    if (u < 0.05) x[i] = 0; else if (u < 0.1) x[i] = -0; else if (u < 0.12) x[i]! *= 1e-30; else if (u < 0.14) x[i]! *= 1e30;
  }
  return x;
}

/** Bit-for-bit equality (Object.is: −0 ≠ +0, NaN = NaN); `zeroSign` also accepts +0 for −0. */
function sameBits(a: Float32Array, b: Float32Array, what: string, zeroSign = false): void {
  assert.equal(a.length, b.length, what);
  for (let i = 0; i < a.length; i++) {
    if (Object.is(a[i], b[i])) continue;
    // ReLU's backward adds 0 instead of skipping, which turns a −0 into +0 (equal values)
    if (zeroSign && a[i] === 0 && b[i] === 0) continue;
    assert.fail(`${what} [${i}]: ${a[i]} vs ${b[i]}`);
  }
}

for (const { label, backend, skip } of backendsUnderTest()) {
  test(`relu and its backward match the reference (${label})`, (t) => {
    if (!backend) { t.skip(skip); return; }
    const rng = new Rng(21);
    for (const n of SIZES) {
      const x = values(rng, n), g = values(rng, n), ga0 = values(rng, n);
      const y = new Float32Array(n).fill(7), ga = ga0.slice();
      backend.relu(x, y, n);
      backend.reluBackward(x, g, ga, n);
      const yRef = new Float32Array(n), gaRef = ga0.slice();
      for (let i = 0; i < n; i++) { yRef[i] = x[i]! > 0 ? x[i]! : 0; if (x[i]! > 0) gaRef[i] = gaRef[i]! + g[i]!; }
      sameBits(y, yRef, `${label} relu n=${n}`);
      sameBits(ga, gaRef, `${label} reluBackward n=${n}`, true);
    }
    // NaN input: the reference's comparison is false, so the output is 0 and no gradient flows
    const y = new Float32Array(1), ga = new Float32Array([1]);
    backend.relu(new Float32Array([NaN]), y, 1);
    backend.reluBackward(new Float32Array([NaN]), new Float32Array([5]), ga, 1);
    assert.deepEqual([y[0], ga[0]], [0, 1], label);
  });

  test(`reluMask (ReLU's backward in place) and addColumnSums match the reference bit for bit (${label})`, (t) => {
    if (!backend) { t.skip(skip); return; }
    const rng = new Rng(23);
    for (const n of SIZES) {
      const y = values(rng, n), g0 = values(rng, n);
      for (let i = 0; i < n; i += 11) y[i] = NaN; // NaN output: the test is false, no gradient
      const g = g0.slice();
      backend.reluMask(y, g, n);
      // what reluBackward gives into a zeroed buffer: 0 + (y > 0 ? g : 0), so −0 becomes +0 exactly
      const ref = new Float32Array(n);
      for (let i = 0; i < n; i++) ref[i] = 0 + (y[i]! > 0 ? g0[i]! : 0);
      sameBits(g, ref, `${label} reluMask n=${n}`);
    }
    for (const [rows, cols] of [[0, 5], [3, 0], [1, 1], [7, 9], [128, 32], [5, 513], [33, 17], [2, 4099]] as const) {
      const g = values(rng, rows * cols), d0 = values(rng, cols + 3), d = d0.slice();
      backend.addColumnSums(d, g, rows, cols);
      const ref = d0.slice();
      for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) ref[j] = ref[j]! + g[i * cols + j]!;
      sameBits(d, ref, `${label} addColumnSums ${rows}×${cols}`);
    }
  });

  test(`dot (float64, in order) and axpy match the reference bit for bit (${label})`, (t) => {
    if (!backend) { t.skip(skip); return; }
    const rng = new Rng(22);
    for (const n of SIZES) {
      const a = values(rng, n), b = values(rng, n);
      let ref = 0;
      for (let i = 0; i < n; i++) ref += a[i]! * b[i]!;
      assert.ok(Object.is(backend.dot(a, b, n), ref), `${label} dot n=${n}: ${backend.dot(a, b, n)} vs ${ref}`);
      for (const s of [0.3, -1.7e-3, 1 / 3]) {
        const y = values(rng, n), yRef = y.slice();
        backend.axpy(y, s, a, n);
        for (let i = 0; i < n; i++) yRef[i] = yRef[i]! + s * a[i]!;
        sameBits(y, yRef, `${label} axpy n=${n} s=${s}`);
      }
    }
    // in place and on overlapping views the kernels behave as the element-by-element loop does
    const buf = Float32Array.from({ length: 40 }, (_, i) => i + 1), ref = buf.slice();
    backend.axpy(buf.subarray(1), 1, buf.subarray(0, 39), 39);
    for (let i = 1; i < 40; i++) ref[i] = ref[i]! + ref[i - 1]!;
    sameBits(buf, ref, `${label} axpy on overlapping views`);
    const r = Float32Array.from({ length: 37 }, (_, i) => i - 18), rr = r.map((v) => (v > 0 ? v : 0));
    backend.relu(r, r, 37);
    sameBits(r, rr, `${label} relu in place`);
    // only the first n entries are touched
    const y = new Float32Array([1, 2, 3]);
    backend.axpy(y, 2, new Float32Array([1, 1, 1]), 2);
    assert.deepEqual(Array.from(y), [3, 4, 3]);
    assert.equal(backend.dot(new Float32Array([1, 2, 3]), new Float32Array([1, 1, 100]), 2), 3);
  });

  test(`dots (several float64 chains in one pass) equal one dot per vector bit for bit (${label})`, (t) => {
    if (!backend) { t.skip(skip); return; }
    const rng = new Rng(23);
    for (const n of SIZES) {
      for (const k of [0, 1, 2, 3, 4, 5, 7, 9]) {
        const a = values(rng, n), bs = Array.from({ length: k }, () => values(rng, n + 2));
        const out = new Float64Array(k + 1).fill(42);
        backend.dots(a, bs, n, out);
        for (let j = 0; j < k; j++) {
          let ref = 0;
          for (let i = 0; i < n; i++) ref += a[i]! * bs[j]![i]!;
          assert.ok(Object.is(out[j], ref), `${label} dots n=${n} k=${k} [${j}]: ${out[j]} vs ${ref}`);
        }
        assert.equal(out[k], 42, `${label} dots n=${n} k=${k}: wrote past k`);
      }
    }
    // the same array as a and as one of the bs (a Gram matrix's diagonal)
    const a = values(rng, 1001), out = new Float64Array(2);
    backend.dots(a, [a, a], 1001, out);
    assert.ok(Object.is(out[0], backend.dot(a, a, 1001)) && Object.is(out[1], out[0]));
  });
}

test('native vector kernels reject arrays shorter than n and non-float32 arrays', async (t) => {
  const { loadNativeAddon } = await import('../../src/tensor/backend-native.js');
  const lib = loadNativeAddon();
  if (!lib) { t.skip('native addon not built'); return; }
  assert.throws(() => lib.reluForward('generic', new Float32Array(3), new Float32Array(2), 3), /y has 2 elements, need 3/);
  assert.throws(() => lib.dotF32(new Float32Array(3), new Float64Array(3) as unknown as Float32Array, 3), /b must be a Float32Array/);
  assert.throws(() => lib.axpyF32('generic', new Float32Array(3), 1, new Float32Array(3), -1), /non-negative integer/);
  assert.throws(() => lib.dotsF32(new Float32Array(3), [new Float32Array(3), new Float32Array(2)], 3, new Float64Array(2)), /bs\[1\] has 2 elements, need 3/);
  assert.throws(() => lib.dotsF32(new Float32Array(3), [new Float64Array(3) as unknown as Float32Array], 3, new Float64Array(1)), /bs\[0\] must be a Float32Array/);
  assert.throws(() => lib.dotsF32(new Float32Array(3), [new Float32Array(3), new Float32Array(3)], 3, new Float64Array(1)), /out has 1 elements, need 2/);
  assert.throws(() => lib.dotsF32(new Float32Array(3), new Float32Array(3) as unknown as Float32Array[], 3, new Float64Array(1)), /bs must be an array/);
  assert.throws(() => lib.reluMask('generic', new Float32Array(2), new Float32Array(3), 3), /y has 2 elements, need 3/);
  assert.throws(() => lib.addColumnSums('generic', new Float32Array(4), new Float32Array(11), 3, 4), /g has 11 elements, need 12/);
  assert.throws(() => lib.addColumnSums('generic', new Float32Array(3), new Float32Array(12), 3, 4), /dst has 3 elements, need 4/);
});
