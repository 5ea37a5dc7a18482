// Weights in the GEMM kernel's panel layout (src/native/gemm_panel.cc): packing round-trips and
// puts each element where the layout says; the forward product from panels equals sgemm on the
// row-major weight bit for bit, and the weight-gradient product with Adam in panels equals gemmAdam
// on the row-major x, m, v bit for bit — on every native variant, 1 and 2 threads, odd shapes
// (rows not a multiple of KC, k over two KC blocks, beta 0 / 1 / other, alpha ≠ 1); bad arguments
// are named.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createNativeBackend, loadNativeAddon } from '../../src/tensor/backend-native.js';
import type { AdamStepParams, PanelKernels } from '../../src/tensor/backend.js';
import { Rng } from '../../src/util/rng.js';

function uniform(rng: Rng, len: number, s = 1): Float32Array {
  return Float32Array.from({ length: len }, () => (rng.uniform() - 0.5) * s);
}

/** Where the layout puts element (i, j) of a rows × cols weight. */
function panelIndex(i: number, j: number, rows: number, cols: number, kc: number, nr: number): number {
  const b = Math.floor(i / kc) * kc, kcb = Math.min(kc, rows - b);
  return b * cols + Math.floor(j / nr) * kcb * nr + (i - b) * nr + (j % nr);
}

function variants(t: { skip(msg: string): void }): { isa: string; be: NonNullable<ReturnType<typeof createNativeBackend>>; pk: PanelKernels }[] {
  const lib = loadNativeAddon();
  if (!lib?.sgemmPanels) { t.skip('native addon absent or without the panel kernels'); return []; }
  return lib.supportedIsas().map((isa) => {
    const be = createNativeBackend(isa)!;
    return { isa, be, pk: be.panels! };
  });
}

type Variant = ReturnType<typeof variants>[number];

/** fn on every native variant at 1 and 2 kernel threads (the thread setting restored after). */
function eachVariantAndThreads(t: { skip(msg: string): void }, fn: (v: Variant, threads: number) => void): void {
  for (const v of variants(t)) {
    const before = v.be.getThreads();
    try {
      for (const threads of [1, 2]) { v.be.setThreads(threads); fn(v, threads); }
    } finally { v.be.setThreads(before); }
  }
}

test('packPanels puts element (i, j) where the layout says, and unpackPanels inverts it', (t) => {
  for (const { isa, pk } of variants(t)) {
    for (const [rows, cols] of [[1, pk.nr], [5, 3 * pk.nr], [pk.kc + 7, 2 * pk.nr], [2 * pk.kc + 1, 5 * pk.nr]] as [number, number][]) {
      const w = Float32Array.from({ length: rows * cols }, (_, i) => i);
      const p = pk.alloc(rows * cols);
      pk.pack(rows, cols, w, p);
      for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) {
        const at = panelIndex(i, j, rows, cols, pk.kc, pk.nr);
        if (p[at] !== i * cols + j) assert.fail(`${isa} ${rows}x${cols}: (${i}, ${j}) at ${at} holds ${p[at]}`);
      }
      const back = new Float32Array(rows * cols);
      pk.unpack(rows, cols, p, back);
      assert.deepEqual(back, w, `${isa} ${rows}x${cols} round trip`);
      // an unaligned destination (an optimiser's moments) takes the plain copy: same layout
      const raw = new Float32Array(rows * cols + 1), q = raw.subarray(1);
      pk.pack(rows, cols, w, q);
      assert.deepEqual(q, p, `${isa} ${rows}x${cols} unaligned destination`);
    }
  }
});

test('sgemm from panels equals sgemm on the row-major weight bit for bit (every variant, 1 and 2 threads)', (t) => {
  let cases = 0;
  eachVariantAndThreads(t, ({ isa, be, pk }, threads) => {
    const shapes: [number, number, number][] = [[1, pk.nr, 1], [7, 3 * pk.nr, 5], [128, 32 * pk.nr, 300], [131, 4 * pk.nr, 2 * pk.kc + 3],
      [300, 2 * pk.nr, 77], [6, 96 * pk.nr, pk.kc]];
    for (const [m, n, k] of shapes) for (const [alpha, beta] of [[1, 1], [1, 0], [0.5, -2]]) {
      const rng = new Rng(m * 31 + n + k);
      const a = uniform(rng, m * (k + 3)), w = uniform(rng, k * n), c0 = uniform(rng, m * (n + 5));
      const c1 = c0.slice(), c2 = c0.slice(), p = pk.alloc(k * n);
      be.sgemm(false, false, m, n, k, alpha, a, k + 3, w, n, beta, c1, n + 5);
      pk.pack(k, n, w, p);
      pk.sgemm(m, n, k, alpha, a, k + 3, p, beta, c2, n + 5);
      assert.deepEqual(c2, c1, `${isa} ${threads}t ${m}x${n}x${k} alpha ${alpha} beta ${beta}`);
      cases++;
    }
  });
  if (cases) assert.ok(cases >= 36);
});

const params = (decoupled: boolean): AdamStepParams => ({ b1: 0.9, b2: 0.999, stepSize: 1e-3 / 0.19, invSqrtC2: 1 / Math.sqrt(0.002998),
  eps: 1e-8, wd: decoupled ? 0 : 3e-3, lrWd: decoupled ? 1e-5 : 0, decoupled });

test('gemmAdam in panels equals gemmAdam on row-major x, m, v bit for bit (every variant, 1 and 2 threads)', (t) => {
  let cases = 0;
  eachVariantAndThreads(t, ({ isa, be, pk }, threads) => {
    const shapes: [number, number, number][] = [[1, pk.nr, 1], [7, 3 * pk.nr, 5], [pk.kc + 9, 6 * pk.nr, 128], [2 * pk.kc + 1, 2 * pk.nr, 2 * pk.kc + 5],
      [40, 64 * pk.nr, 64], [13, pk.nr, 0]];
    for (const [rows, n, k] of shapes) for (const ta of [true, false]) {
      const rng = new Rng(rows * 7 + n + k + (ta ? 1 : 0));
      const a = uniform(rng, rows * k), b = uniform(rng, k * n), x = uniform(rng, rows * n);
      const m = uniform(rng, rows * n, 0.02), v = uniform(rng, rows * n, 0.002).map(Math.abs);
      const prm = params(rows % 2 === 1), lda = ta ? rows : k;
      const x1 = x.slice(), m1 = m.slice(), v1 = v.slice();
      be.gemmAdam!(ta, false, rows, n, k, 1, a, lda, b, n, x1, m1, v1, prm);
      const xp = pk.alloc(rows * n), mp = pk.alloc(rows * n), vp = pk.alloc(rows * n);
      pk.pack(rows, n, x, xp); pk.pack(rows, n, m, mp); pk.pack(rows, n, v, vp);
      pk.gemmAdam(ta, rows, n, k, 1, a, lda, b, n, xp, mp, vp, prm);
      const x2 = new Float32Array(rows * n), m2 = new Float32Array(rows * n), v2 = new Float32Array(rows * n);
      pk.unpack(rows, n, xp, x2); pk.unpack(rows, n, mp, m2); pk.unpack(rows, n, vp, v2);
      const where = `${isa} ${threads}t ${rows}x${n}x${k} ta=${ta}`;
      assert.deepEqual(x2, x1, `x differs: ${where}`);
      assert.deepEqual(m2, m1, `m differs: ${where}`);
      assert.deepEqual(v2, v1, `v differs: ${where}`);
      cases++;
    }
  });
  if (cases) assert.ok(cases >= 24);
});

test('the panel kernels name a bad argument', (t) => {
  const lib = loadNativeAddon();
  if (!lib?.sgemmPanels) { t.skip('native addon absent or without the panel kernels'); return; }
  const isa = lib.supportedIsas()[0]!;
  const nr = lib.kernelInfo(isa).nr;
  assert.throws(() => lib.packPanels!(isa, 2, nr + 1, new Float32Array(2 * (nr + 1)), new Float32Array(2 * (nr + 1))),
    /cols must be a multiple of the kernel's panel width/);
  assert.throws(() => lib.sgemmPanels!(isa, 2, nr, 3, 1, new Float32Array(6), 3, new Float32Array(3 * nr - 1), 0, new Float32Array(2 * nr), nr),
    /W \(k x n, panels\)/);
  const raw = new Float32Array(3 * nr + 16), skip = lib.panelAlign!(raw);
  assert.throws(() => lib.sgemmPanels!(isa, 2, nr, 3, 1, new Float32Array(6), 3, raw.subarray(skip + 1, skip + 1 + 3 * nr), 0, new Float32Array(2 * nr), nr),
    /W \(panels\) must start on a 64-byte boundary/);
});
