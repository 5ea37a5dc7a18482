// Adam's fused update (fusedBackward: the weight's update inside the backward GEMM): after many
// steps the parameters are bit-identical to plain Adam's, on the native and the portable backend
// and with bf16 GEMMs where the CPU has them — with weight decay (both kinds), a learning-rate
// change between steps, batches of different sizes, a net skipped for a step, and a weight used
// twice in one step (not fused); and a later fused optimiser takes the weights over.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../../src/tensor/tensor.js';
import * as ops from '../../src/tensor/ops.js';
import { getBackend, getJsBackend, getNativeBackend, setBackend } from '../../src/tensor/backends.js';
import type { Backend } from '../../src/tensor/backend.js';
import { mlp } from '../../src/nn/mlp.js';
import { Adam, type AdamOpts } from '../../src/nn/optim-adam.js';
import { Rng } from '../../src/util/rng.js';
import { setMatmulPrecision } from '../../src/tensor/precision.js';

/** Trains two small nets on a fixed stream of batches; returns every parameter and the fused-call count. */
function train(be: Backend, fused: boolean, opts: Omit<AdamOpts, 'lr'>, twice = false) {
  const prev = getBackend();
  let fusedCalls = 0;
  const counting: Backend = Object.assign(Object.create(be) as Backend,
    be.gemmAdam ? { gemmAdam: (...a: Parameters<NonNullable<Backend['gemmAdam']>>) => { fusedCalls++; be.gemmAdam!(...a); } } : {},
    be.gemmAdamBf16 ? { gemmAdamBf16: (...a: Parameters<NonNullable<Backend['gemmAdamBf16']>>) => { fusedCalls++; be.gemmAdamBf16!(...a); } } : {});
  setBackend(counting);
  try {
    const rng = new Rng(5);
    const img = mlp([37, 70, 9], { rng: rng.fork(), activation: 'relu', init: 'xavier' });
    const txt = mlp([23, 70, 9], { rng: rng.fork(), activation: 'relu', init: 'xavier' });
    const optI = new Adam(img.parameters(), { lr: 3e-3, fusedBackward: fused, ...opts });
    const optT = new Adam(txt.parameters(), { lr: 3e-3, fusedBackward: fused, ...opts });
    const data = new Rng(9);
    for (let step = 0; step < 12; step++) {
      const n = 5 + (step % 4) * 7;
      const x = Tensor.wrap(n, 37, data.fillUniform(new Float32Array(n * 37)));
      const y = Tensor.wrap(n, 23, data.fillUniform(new Float32Array(n * 23)));
      if (step === 6) { optI.lr = 1e-3; optT.lr = 1e-3; } // set before backward, as a schedule does
      const skipText = step === 4; // the text net sits this step out (its update sees a zero gradient)
      optI.zeroGrad(); optT.zeroGrad();
      let f = img.forward(x);
      if (twice && step % 2 === 0) f = ops.add(f, img.forward(x)); // each weight feeds two ops: not fused
      const g = skipText ? Tensor.wrap(n, 9, new Float32Array(n * 9).fill(0.1)) : txt.forward(y);
      const loss = ops.add(ops.sum(ops.square(ops.sub(ops.matmul(f, g, false, true), Tensor.wrap(n, n, new Float32Array(n * n).fill(0.5))))),
        ops.sum(ops.square(f)));
      loss.backward();
      optI.step(); optT.step();
    }
    const all = [...img.parameters(), ...txt.parameters()];
    return { params: all.map((p) => Array.from(p.data)), fusedCalls, grads: all.map((p) => p.grad) };
  } finally {
    setBackend(prev);
  }
}

const backends = (): [string, Backend][] => {
  const out: [string, Backend][] = [['js', getJsBackend()]];
  const native = getNativeBackend();
  if (native?.gemmAdam) out.push(['native', native]);
  else console.log('# native backend with gemmAdam absent: only the portable backend is checked');
  return out;
};

for (const [label, opts] of [['plain', {}], ['L2 weight decay', { weightDecay: 1e-2 }], ['decoupled weight decay', { weightDecay: 1e-2, decoupled: true }]] as const) {
  test(`fused Adam = plain Adam bit for bit (${label})`, () => {
    for (const [name, be] of backends()) {
      const plain = train(be, false, opts), fused = train(be, true, opts);
      assert.equal(plain.fusedCalls, 0);
      // 2 nets × 2 weights × 12 steps, less the text net's skipped step
      assert.equal(fused.fusedCalls, 46, `${name}: fused updates taken`);
      assert.deepEqual(fused.params, plain.params, `${name}: parameters differ`);
    }
  });
}

test('with bf16 GEMMs too: fused Adam = plain Adam bit for bit', (t) => {
  const native = getNativeBackend();
  if (!native?.gemmAdamBf16) { t.skip('no AVX512_BF16 here (or an addon without sgemmAdamBf16)'); return; }
  setMatmulPrecision('bf16');
  try {
    const plain = train(native, false, {}), fused = train(native, true, {});
    assert.equal(fused.fusedCalls, 46);
    assert.deepEqual(fused.params, plain.params);
    // bf16 really changed the numbers (so the check above compares bf16 runs)
    setMatmulPrecision('fp32');
    assert.notDeepEqual(train(native, false, {}).params, plain.params);
  } finally {
    setMatmulPrecision('fp32');
  }
});

test('a weight used twice in a step is not fused, and results still match', () => {
  for (const [name, be] of backends()) {
    const plain = train(be, false, {}, true), fused = train(be, true, {}, true);
    assert.equal(fused.fusedCalls, 46 - 6 * 2, `${name}: the image net's 6 double-use steps fall back`);
    assert.deepEqual(fused.params, plain.params, `${name}: parameters differ`);
  }
});

/** The backend with the fused kernel: native when it has one, else the portable reference. */
const fusedBackend = (): Backend => (getNativeBackend()?.gemmAdam ? getNativeBackend()! : getJsBackend());

function onFusedBackend<T>(fn: () => T): T {
  const prev = getBackend();
  setBackend(fusedBackend());
  try { return fn(); } finally { setBackend(prev); }
}

/** A small net on a fixed input: `step(opt)` is zeroGrad, forward, backward, step; `params()` its values. */
function smallNet() {
  const net = mlp([6, 5, 3], { rng: new Rng(1), activation: 'relu', init: 'xavier' });
  const x = Tensor.wrap(4, 6, new Rng(2).fillUniform(new Float32Array(24)));
  const backward = () => ops.sum(ops.square(net.forward(x))).backward();
  const step = (opt: Adam) => { opt.zeroGrad(); backward(); opt.step(); };
  return { net, backward, step, params: () => net.parameters().map((p) => Array.from(p.data)) };
}

test('a fused weight never gets a gradient buffer; its bias does', () => {
  const r = train(fusedBackend(), true, {});
  // parameters: [W1, b1, W2, b2] per net
  assert.equal(r.grads[0], null);
  assert.ok(r.grads[1] instanceof Float32Array);
});

test('a later fused optimiser takes the weights over; the earlier one then updates them plainly', () => {
  onFusedBackend(() => {
    const run = (fused: boolean) => {
      const s = smallNet();
      const first = new Adam(s.net.parameters(), { lr: 1e-2, fusedBackward: fused });
      const second = new Adam(s.net.parameters(), { lr: 1e-2, fusedBackward: fused });
      for (let i = 0; i < 3; i++) s.step(second);
      // the first optimiser, stepped now, treats the weights as plain Adam (they get real gradients:
      // the second optimiser's hooks are not armed without its zeroGrad())
      s.step(first);
      return s.params();
    };
    assert.deepEqual(run(true), run(false));
  });
});

test('a fused optimiser built on weights that already hold gradients zeroes them first (as plain Adam)', () => {
  onFusedBackend(() => {
    const run = (fusedSecond: boolean) => {
      const s = smallNet();
      const first = new Adam(s.net.parameters(), { lr: 1e-2 });
      for (let i = 0; i < 2; i++) s.step(first);
      const second = new Adam(s.net.parameters(), { lr: 1e-2, fusedBackward: fusedSecond });
      for (let i = 0; i < 3; i++) s.step(second);
      return s.params();
    };
    assert.deepEqual(run(true), run(false));
  });
});

test('two backward passes before one step are refused with fusedBackward (the second gradient would be lost)', () => {
  onFusedBackend(() => {
    const s = smallNet();
    const opt = new Adam(s.net.parameters(), { lr: 1e-2, fusedBackward: true });
    opt.zeroGrad();
    s.backward();
    s.backward();
    assert.throws(() => opt.step(), /got a gradient after its update was applied in the backward pass/);
    // a skipped step does not poison the next one: zeroGrad starts afresh
    s.step(opt);
  });
});

test('detachFused removes the hooks; later steps are plain Adam', () => {
  const s = smallNet();
  const opt = new Adam(s.net.parameters(), { lr: 1e-2, fusedBackward: true });
  assert.ok(s.net.parameters().every((p) => p.gradSink !== null));
  opt.detachFused();
  assert.ok(s.net.parameters().every((p) => p.gradSink === null));
  s.step(opt);
  assert.ok(s.net.parameters()[0]!.grad instanceof Float32Array, 'the weight gets a gradient again');
});
