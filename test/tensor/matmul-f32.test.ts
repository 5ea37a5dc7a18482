// float32 matmul (through the active backend's sgemm) and its backward, against the float64
// plain-loop path, on odd shapes and every transpose combination, on each available backend.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/util/rng.js';
import { Tensor, toDtype } from '../../src/tensor/tensor.js';
import { getBackend, getJsBackend, setBackend } from '../../src/tensor/backends.js';
import type { Backend } from '../../src/tensor/backend.js';
import * as O from '../../src/tensor/ops.js';

function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!) / Math.max(1, Math.abs(b[i]!)));
  return m;
}

/** Registers `name` on the portable backend and on the native one (skipped, saying so, when it is not active). */
function onBothBackends(name: string, body: (backend: Backend) => void): void {
  const run = (backend: Backend) => {
    const prev = getBackend();
    setBackend(backend);
    try { body(backend); } finally { setBackend(prev); }
  };
  test(`${name}: portable backend`, () => run(getJsBackend()));
  test(`${name}: native backend`, (t) => {
    const b = getBackend();
    if (b.name !== 'native') { t.skip(`native backend not active (${b.name}); skipped`); return; }
    run(b);
  });
}

function runAll(backend: Backend): void {
  const rng = new Rng(42);
  for (const [m, k, n] of [[1, 1, 1], [7, 33, 5], [33, 7, 129], [2, 129, 3]] as const) {
    for (const tA of [false, true]) {
      for (const tB of [false, true]) {
        const a32 = Tensor.randn(tA ? k : m, tA ? m : k, rng, 1, { requiresGrad: true });
        const b32 = Tensor.randn(tB ? n : k, tB ? k : n, rng, 1, { requiresGrad: true });
        const a64 = toDtype(a32, 'f64', { requiresGrad: true }), b64 = toDtype(b32, 'f64', { requiresGrad: true });
        const w = Tensor.randn(m, n, rng);
        const c32 = O.matmul(a32, b32, tA, tB), c64 = O.matmul(a64, b64, tA, tB);
        const tag = `${backend.name} ${m}x${k}x${n} tA=${tA} tB=${tB}`;
        assert.ok(maxRelDiff(c32.data, c64.data) < 1e-4, `forward ${tag}`);
        O.sum(O.mul(c32, w)).backward();
        O.sum(O.mul(c64, toDtype(w, 'f64'))).backward();
        assert.ok(maxRelDiff(a32.grad!, a64.grad!) < 1e-4, `dA ${tag}`);
        assert.ok(maxRelDiff(b32.grad!, b64.grad!) < 1e-4, `dB ${tag}`);
      }
    }
  }
}

onBothBackends('f32 matmul forward/backward match the f64 reference', runAll);

// affine's bias gradient is the column sums of the output gradient, added row after row in float32
// (the backend's addColumnSums): it must give exactly these sums, for narrow and wide rows.
function biasGradientAgainstLoop(backend: Backend): void {
  const rng = new Rng(7);
  for (const [n, k, m] of [[5, 3, 255], [5, 3, 256], [128, 4, 1000], [3, 2, 7]] as const) {
    const x = Tensor.randn(n, k, rng), w = Tensor.randn(k, m, rng);
    const b = Tensor.randn(1, m, rng, 1, { requiresGrad: true });
    const g = Tensor.randn(n, m, rng, 100); // large and small terms, so the order of the sums shows
    O.sum(O.mul(O.affine(x, w, b), g)).backward();
    const want = new Float32Array(m);
    for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) want[j] = want[j]! + g.data[i * m + j]!;
    assert.deepEqual(Array.from(b.grad!), Array.from(want), `${backend.name} bias gradient ${n}x${m}`);
  }
}

onBothBackends('affine bias gradient: float32 column sums in row order, bit for bit', biasGradientAgainstLoop);

// affineRelu is relu(affine(·)) as one op: the same output and the same gradients for x, W and b,
// bit for bit, also when the output feeds two ops (its gradient is masked in place once, after both).
function affineReluAgainstComposition(backend: Backend): void {
  const rng = new Rng(11);
  for (const [n, k, m, bias] of [[5, 3, 7, true], [128, 33, 512, true], [9, 4, 300, false], [1, 1, 1, true]] as const) {
    const x0 = Tensor.randn(n, k, rng), w0 = Tensor.randn(k, m, rng), b0 = Tensor.randn(1, m, rng);
    const g = Tensor.randn(n, m, rng, 10);
    const run = (fused: boolean) => {
      const x = x0.clone(), w = w0.clone(), b = b0.clone();
      for (const t of [x, w, b]) t.requiresGrad = true;
      const h = fused ? O.affineRelu(x, w, bias ? b : null) : O.relu(O.affine(x, w, bias ? b : null));
      O.add(O.sum(O.mul(h, g)), O.sum(O.square(h))).backward();
      return { h: h.data, x: x.grad!, w: w.grad!, b: b.grad };
    };
    const a = run(true), r = run(false);
    const tag = `${backend.name} ${n}x${k}x${m}${bias ? '' : ' no bias'}`;
    assert.deepEqual(Array.from(a.h), Array.from(r.h), `output ${tag}`);
    assert.deepEqual(Array.from(a.x), Array.from(r.x), `dx ${tag}`);
    assert.deepEqual(Array.from(a.w), Array.from(r.w), `dW ${tag}`);
    if (bias) assert.deepEqual(Array.from(a.b!), Array.from(r.b!), `db ${tag}`);
    if (n * m > 1) assert.ok(a.h.some((v) => v === 0) && a.h.some((v) => v > 0), `${tag}: both sides of the ReLU are exercised`);
  }
}

onBothBackends('affineRelu: relu(affine) as one op, bit for bit', affineReluAgainstComposition);
