// Weights kept in the GEMM kernel's panel layout while a fused Adam trains them
// (tensor/panel-weight.ts): training is bit-identical to plain Adam on row-major weights — with
// weight decay (both kinds), a learning-rate change, a skipped net, a weight used twice in a step,
// a hidden panel weight whose input needs a gradient, `.data` read and written between steps (a
// snapshot and a restore, as DCMH's early stopping does), and an optimiser that takes the weights
// over; the panel products really run; after detachFused the weights are plain tensors again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../../src/tensor/tensor.js';
import * as ops from '../../src/tensor/ops.js';
import { getBackend, getNativeBackend, setBackend } from '../../src/tensor/backends.js';
import type { Backend, PanelKernels } from '../../src/tensor/backend.js';
import { mlp } from '../../src/nn/mlp.js';
import { Adam, type AdamOpts } from '../../src/nn/optim-adam.js';
import { Rng } from '../../src/util/rng.js';
import { createNativeBackend } from '../../src/tensor/backend-native.js';

const HIDDEN = 320; // > 256 columns and a multiple of every kernel's panel width: kept in panels

interface Run { params: number[][]; panelProducts: number; panelUpdates: number; inPanelsDuring: boolean; inPanelsAfter: boolean }

function train(be: Backend, fused: boolean, opts: Omit<AdamOpts, 'lr'>, variant: { twice?: boolean; deep?: boolean; snapshot?: boolean; takeover?: boolean } = {}): Run {
  const prev = getBackend();
  let panelProducts = 0, panelUpdates = 0;
  const pk = be.panels;
  const counted: PanelKernels | undefined = pk && {
    ...pk,
    sgemm: (...a: Parameters<PanelKernels['sgemm']>) => { panelProducts++; pk.sgemm(...a); },
    gemmAdam: (...a: Parameters<PanelKernels['gemmAdam']>) => { panelUpdates++; pk.gemmAdam(...a); },
  };
  // preferred on every variant here, so the generic kernel's layout is checked too
  const counting: Backend = Object.assign(Object.create(be) as Backend, counted ? { panels: { ...counted, preferred: true } } : {});
  setBackend(counting);
  try {
    const rng = new Rng(5);
    const img = mlp(variant.deep ? [37, HIDDEN, HIDDEN, 9] : [37, HIDDEN, 9], { rng: rng.fork(), activation: 'relu', init: 'xavier' });
    const txt = mlp([23, HIDDEN, 9], { rng: rng.fork(), activation: 'relu', init: 'xavier' });
    let optI = new Adam(img.parameters(), { lr: 3e-3, fusedBackward: fused, ...opts });
    const optT = new Adam(txt.parameters(), { lr: 3e-3, fusedBackward: fused, ...opts });
    const w1 = img.parameters()[0]!;
    let inPanelsDuring = false, saved: Float32Array[] | null = null;
    const data = new Rng(9);
    for (let step = 0; step < 10; step++) {
      const n = 5 + (step % 4) * 7;
      const x = Tensor.wrap(n, 37, data.fillUniform(new Float32Array(n * 37)));
      const y = Tensor.wrap(n, 23, data.fillUniform(new Float32Array(n * 23)));
      if (step === 6) { optI.lr = 1e-3; optT.lr = 1e-3; }
      if (variant.takeover && step === 5) optI = new Adam(img.parameters(), { lr: optI.lr, fusedBackward: fused, ...opts });
      const skipText = step === 4;
      optI.zeroGrad(); optT.zeroGrad();
      let f = img.forward(x);
      if (variant.twice && step % 2 === 0) f = ops.add(f, img.forward(x));
      const g = skipText ? Tensor.wrap(n, 9, new Float32Array(n * 9).fill(0.1)) : txt.forward(y);
      const loss = ops.add(ops.sum(ops.square(ops.sub(ops.matmul(f, g, false, true), Tensor.wrap(n, n, new Float32Array(n * n).fill(0.5))))),
        ops.sum(ops.square(f)));
      loss.backward();
      optI.step(); optT.step();
      inPanelsDuring ||= w1.inPanels;
      // early stopping's snapshot after step 3 and restore after step 7 (read, then write, through .data)
      if (variant.snapshot && step === 3) saved = [...img.parameters(), ...txt.parameters()].map((p) => (p.data as Float32Array).slice());
      if (variant.snapshot && step === 7) [...img.parameters(), ...txt.parameters()].forEach((p, i) => p.data.set(saved![i]!));
    }
    optI.detachFused(); optT.detachFused();
    const all = [...img.parameters(), ...txt.parameters()];
    return { params: all.map((p) => Array.from(p.data)), panelProducts, panelUpdates, inPanelsDuring, inPanelsAfter: all.some((p) => p.inPanels) };
  } finally {
    setBackend(prev);
  }
}

const cases: [string, Omit<AdamOpts, 'lr'>, Parameters<typeof train>[3]][] = [
  ['plain', {}, {}],
  ['L2 weight decay', { weightDecay: 1e-2 }, {}],
  ['decoupled weight decay, weight used twice', { weightDecay: 1e-2, decoupled: true }, { twice: true }],
  ['a hidden panel weight whose input needs a gradient', {}, { deep: true }],
  ['.data snapshot and restore between steps', {}, { snapshot: true }],
  ['a later optimiser takes the image net over', {}, { takeover: true }],
];

/** The native backend as loaded and its generic variant (another panel width), when present. */
function nativeVariants(): Backend[] {
  const native = getNativeBackend();
  if (!native?.panels) return [];
  const generic = native.variant === 'generic' ? null : createNativeBackend('generic');
  return [native, ...(generic?.panels ? [generic] : [])];
}

for (const [label, opts, variant] of cases) {
  test(`weights in panels train bit for bit as plain Adam on rows: ${label}`, (t) => {
    const bes = nativeVariants();
    if (!bes.length) { t.skip('native backend with the panel kernels absent'); return; }
    for (const b of bes) {
      const isa = (b as { variant?: string }).variant;
      const plain = train(b, false, opts, variant);
      const panels = train(b, true, opts, variant);
      assert.equal(plain.panelUpdates + plain.panelProducts, 0, 'plain Adam keeps rows');
      assert.ok(panels.inPanelsDuring, `${isa}: the first weight was kept in panels`);
      assert.ok(panels.panelProducts > 0 && panels.panelUpdates > 0, `${isa}: panel products ${panels.panelProducts}, updates ${panels.panelUpdates}`);
      assert.equal(panels.inPanelsAfter, false, `${isa}: detachFused puts the weights back in rows`);
      panels.params.forEach((p, i) => assert.deepEqual(p, plain.params[i], `${isa}: parameter ${i} differs (${label})`));
    }
  });
}

test('reading .data of a weight in panels gives the current weight; writing it is seen by the next product', (t) => {
  const native = getNativeBackend();
  if (!native?.panels) { t.skip('native backend with the panel kernels absent'); return; }
  const prev = getBackend();
  setBackend(Object.assign(Object.create(native) as Backend, { panels: { ...native.panels, preferred: true } }));
  try {
    const net = mlp([20, HIDDEN, 4], { rng: new Rng(3), activation: 'relu', init: 'xavier' });
    const opt = new Adam(net.parameters(), { lr: 1e-2, fusedBackward: true });
    const w = net.parameters()[0]!;
    const x = Tensor.wrap(6, 20, new Rng(4).fillUniform(new Float32Array(120)));
    const step = () => { opt.zeroGrad(); ops.sum(ops.square(net.forward(x))).backward(); opt.step(); };
    step();
    assert.ok(w.inPanels);
    const before = (w.data as Float32Array).slice();
    step(); // the update ran in panels
    const after = (w.data as Float32Array).slice();
    assert.ok(after.some((v, i) => v !== before[i]), 'the row-major view shows the update made in panels');
    w.data.fill(0); // a write through .data
    const out = net.forward(x).data;
    const zero = mlp([20, HIDDEN, 4], { rng: new Rng(3), activation: 'relu', init: 'xavier' });
    zero.parameters()[0]!.data.fill(0);
    net.parameters().slice(1).forEach((p, i) => zero.parameters()[i + 1]!.data.set(p.data));
    assert.deepEqual(Array.from(out), Array.from(zero.forward(x).data), 'the product after the write uses the written weight');
    opt.detachFused();
    assert.equal(w.inPanels, false);
  } finally { setBackend(prev); }
});
