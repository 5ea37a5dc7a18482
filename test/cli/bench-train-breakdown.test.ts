// bench train's accounting on a small shape: the GEMM FLOPs it counts equal the step's analytic
// count (4·n·h·(dᵢ+dₜ) + 12·n·h·c + 6·n²·c), the phases add up to the total CPU time, and every
// precision it accepts runs, with Adam fused into the weight-gradient GEMMs or as a pass of its
// own; a bad --precision or --adam is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { makeTrainStep, trainStepBreakdown, type TrainBenchShape } from '../../src/cli/commands/bench-train.js';
import { getBackend } from '../../src/tensor/backends.js';
import { setMatmulPrecision } from '../../src/tensor/precision.js';

const SMALL: TrainBenchShape = { batch: 16, imageDim: 40, textDim: 30, hidden: 32, bits: 16 };

for (const fused of [true, false]) {
  test(`trainStepBreakdown (${fused ? 'fused' : 'plain'} Adam): counted GFLOP/step is the analytic count; phases sum to the total`, () => {
    const step = makeTrainStep(SMALL, fused);
    step.run();
    // 10 steps: this ~2 ms step's per-phase CPU times average over a moment of load on a busy machine
    const bd = trainStepBreakdown(step, 10);
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
    const parts = phases.reduce((s, p) => s + byName.get(p)!, 0);
    // every phase counted once: leaving out a large one (loss, optimiser: each ~a third here) fails this
    assert.ok(Math.abs(parts - byName.get('total')!) <= 0.1 * byName.get('total')! + 0.5, `${parts} vs ${byName.get('total')}`);
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
