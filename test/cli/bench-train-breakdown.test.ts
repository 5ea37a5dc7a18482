// bench train's accounting on a small shape: the GEMM FLOPs it counts equal the step's analytic
// count (4·n·h·(dᵢ+dₜ) + 12·n·h·c + 6·n²·c), the phases add up to the total (on a deterministic
// clock: no timing in the test), and every precision it accepts runs, with Adam fused into the
// weight-gradient GEMMs or as a pass of its own; a bad --precision or --adam is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { CONTINUAL_SHAPE, DCMH_SHAPE, makeTrainStep, parseTrainShape, trainStepBreakdown, type TrainBenchShape, type TrainStep } from '../../src/cli/commands/bench-train.js';
import type { Backend } from '../../src/tensor/backend.js';
import { getBackend, setBackend } from '../../src/tensor/backends.js';
import { setMatmulPrecision } from '../../src/tensor/precision.js';

const SMALL: TrainBenchShape = { batch: 16, imageDim: 40, textDim: 30, hidden: 32, bits: 16 };

/**
 * The breakdown on a deterministic clock: each phase of the real step "takes" a fixed time and each
 * GEMM call (plain or fused) half a millisecond, so the rows must add up to the total exactly.
 */
function breakdownOnFakeClock(fused: boolean) {
  let now = 0;
  const cost = { zeroGrad: 1, forward: 10, loss: 3, backward: 20, optimiser: 5 };
  const real = makeTrainStep(SMALL, fused);
  real.run();
  const step: TrainStep = {
    zeroGrad: () => { real.zeroGrad(); now += cost.zeroGrad; },
    forward: () => { real.forward(); now += cost.forward; },
    loss: () => { real.loss(); now += cost.loss; },
    backward: () => { real.backward(); now += cost.backward; },
    optimiser: () => { real.optimiser(); now += cost.optimiser; },
    run: () => real.run(),
  };
  const be = getBackend();
  const ticking: Backend = Object.assign(Object.create(be) as Backend, {
    sgemm: (...a: Parameters<Backend['sgemm']>) => { now += 0.5; be.sgemm(...a); },
    ...(be.gemmAdam ? { gemmAdam: (...a: Parameters<NonNullable<Backend['gemmAdam']>>) => { now += 0.5; be.gemmAdam!(...a); } } : {}),
  });
  setBackend(ticking);
  try { return trainStepBreakdown(step, 3, () => now); } finally { setBackend(be); }
}

for (const fused of [true, false]) {
  test(`trainStepBreakdown (${fused ? 'fused' : 'plain'} Adam): counted GFLOP/step is the analytic count; phases sum to the total`, () => {
    const bd = breakdownOnFakeClock(fused);
    const { batch: n, imageDim: di, textDim: dt, hidden: h, bits: c } = SMALL;
    const flops = 4 * n * h * (di + dt) + 12 * n * h * c + 6 * n * n * c;
    assert.ok(Math.abs(bd.gflopPerStep * 1e9 - flops) < 1, `${bd.gflopPerStep * 1e9} vs ${flops}`);
    const byName = new Map(bd.rows.map((r) => [r.phase, r.ms_per_step]));
    const phases = ['gemm', 'relu kernels', 'forward other', 'loss', 'backward other', 'optimiser', 'zero grad'];
    // the fused row appears exactly when the backend has the fused kernel and the step asks for it
    const fusedRow = fused && !!getBackend().gemmAdam;
    assert.equal(byName.has('gemm + fused Adam'), fusedRow);
    if (fusedRow) phases.push('gemm + fused Adam');
    for (const p of [...phases, 'total', '  page faults', '  js↔native']) assert.ok(byName.has(p), p);
    // every phase counted once, the GEMMs taken out of the phase they ran in
    const parts = phases.reduce((s, p) => s + byName.get(p)!, 0);
    assert.ok(Math.abs(parts - byName.get('total')!) < 0.05, `${parts} vs ${byName.get('total')}`);
    assert.equal(byName.get('zero grad'), 1);
    assert.equal(byName.get('optimiser'), 5);
    assert.ok(byName.get('gemm')! > 0 && byName.get('total')! > 39, JSON.stringify([...byName]));
  });
}

test('the bf16 step counts the same FLOPs when the CPU has bf16', (t) => {
  if (!getBackend().sgemmBf16) { t.skip('no bf16 kernel here'); return; }
  setMatmulPrecision('bf16');
  try {
    const step = makeTrainStep(SMALL);
    step.run();
    const bd = trainStepBreakdown(step, 1);
    const { batch: n, imageDim: di, textDim: dt, hidden: h, bits: c } = SMALL;
    assert.ok(Math.abs(bd.gflopPerStep * 1e9 - (4 * n * h * (di + dt) + 12 * n * h * c + 6 * n * n * c)) < 1);
  } finally {
    setMatmulPrecision('fp32');
  }
});

test('bench train: a bad --precision is a clear error (exit 2)', () => {
  const r = spawnSync(process.execPath, [resolve('bin/cmhash.js'), 'bench', 'train', '--precision', 'fp16', '--no-pytorch'], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /precision/);
});

test('bench train: a bad --adam is a clear error (exit 2)', () => {
  const r = spawnSync(process.execPath, [resolve('bin/cmhash.js'), 'bench', 'train', '--adam', 'lamb', '--no-pytorch'], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /--adam must list fused and\/or plain, got lamb/);
});

test('bench train --shape: the named shapes, five integers, and a bad value named', () => {
  assert.deepEqual(parseTrainShape('dcmh'), DCMH_SHAPE);
  assert.deepEqual(parseTrainShape('continual'), CONTINUAL_SHAPE);
  assert.deepEqual(parseTrainShape('16, 40,30,32,16'), SMALL);
  for (const bad of ['1,2,3', '16,40,30,32,0', '16,40,30,32,1.5', 'big']) assert.throws(() => parseTrainShape(bad), new RegExp(`--shape must be .*got "${bad.replace('.', '\\.')}"`));
});
