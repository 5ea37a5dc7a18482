// `cmhash bench train`: DCMH-size training steps (image MLP 4096→8192→64 and text MLP
// 1386→8192→64, batch 128, Adam) in samples per second, side by side with the equivalent PyTorch
// script (bench/pytorch/train_step.py) run through /usr/bin/python3 when `import torch` works.
// Beside samples/s: the step's GFLOP/s (FLOPs counted from the GEMMs the step actually runs) and
// its ratio to the FMA peak measured in the same run, per precision (--precision fp32,bf16), and a
// per-phase breakdown of a step (GEMMs, ReLU kernels, other forward/backward work, loss, optimiser,
// zeroing gradients, page faults, JS↔native calls) timed in process CPU time.
import type { Command } from 'commander';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError } from '../../util/errors.js';
import { Rng } from '../../util/rng.js';
import { getBackend, getNativeBackend, setBackend } from '../../tensor/backends.js';
import type { Backend } from '../../tensor/backend.js';
import { getMatmulPrecision, setMatmulPrecision, type MatmulPrecision } from '../../tensor/precision.js';
import { Tensor } from '../../tensor/tensor.js';
import * as ops from '../../tensor/ops.js';
import { mlp } from '../../nn/mlp.js';
import { Adam } from '../../nn/optim-adam.js';
import { Output } from '../output.js';

export interface TrainBenchShape { batch: number; imageDim: number; textDim: number; hidden: number; bits: number }
export const DCMH_SHAPE: TrainBenchShape = { batch: 128, imageDim: 4096, textDim: 1386, hidden: 8192, bits: 64 };
/** The continual methods' nets on Wikipedia's features (CCMH-GAM, DLCMH: hidden 512, 32 bits): small products, where per-op overhead shows. */
export const CONTINUAL_SHAPE: TrainBenchShape = { batch: 128, imageDim: 128, textDim: 10, hidden: 512, bits: 32 };

/** --shape: a name (dcmh, continual) or batch,imageDim,textDim,hidden,bits. */
export function parseTrainShape(v: string): TrainBenchShape {
  if (v === 'dcmh') return DCMH_SHAPE;
  if (v === 'continual') return CONTINUAL_SHAPE;
  const parts = v.split(',').map((x) => Number(x.trim()));
  if (parts.length !== 5 || !parts.every((x) => Number.isInteger(x) && x >= 1)) {
    throw new InputError(`--shape must be dcmh, continual or five positive integers batch,imageDim,textDim,hidden,bits; got "${v}"`);
  }
  const [batch, imageDim, textDim, hidden, bits] = parts as [number, number, number, number, number];
  return { batch, imageDim, textDim, hidden, bits };
}

/**
 * Samples per second of full training steps (forward both nets, DCMH loss over the batch, backward,
 * Adam) on fixed random inputs. The loss matches bench/pytorch/train_step.py term for term.
 */
export function benchCmhashTrainStep(shape: TrainBenchShape, steps: number, warmup: number, onStep?: (i: number) => void): number {
  return benchCmhashTrainStepTimed(shape, steps, warmup, onStep).samplesPerSecond;
}

/** One DCMH-size training step on fixed random inputs, split into its phases (for the breakdown). */
export interface TrainStep {
  zeroGrad(): void;
  forward(): void;
  loss(): void;
  backward(): void;
  optimiser(): void;
  run(): void;
}

/** `fusedAdam`: weights updated inside their gradient GEMM (Adam's fusedBackward), the default of DCMH's training. */
export function makeTrainStep(shape: TrainBenchShape, fusedAdam = true): TrainStep {
  const rng = new Rng(1);
  const { batch: n, bits: c } = shape;
  const img = mlp([shape.imageDim, shape.hidden, c], { rng: rng.fork(), activation: 'relu', init: 'xavier' });
  const txt = mlp([shape.textDim, shape.hidden, c], { rng: rng.fork(), activation: 'relu', init: 'xavier' });
  const opt = new Adam([...img.parameters(), ...txt.parameters()], { lr: 1e-4, fusedBackward: fusedAdam });
  const x = Tensor.wrap(n, shape.imageDim, rng.fillUniform(new Float32Array(n * shape.imageDim)));
  const y = Tensor.wrap(n, shape.textDim, Float32Array.from({ length: n * shape.textDim }, () => (rng.uniform() < 0.01 ? 1 : 0)));
  const labels = Array.from({ length: n }, () => Array.from({ length: 24 }, () => rng.uniform() < 0.15));
  const S = Tensor.fromArray(n, n, Array.from({ length: n * n }, (_, k) => (labels[Math.floor(k / n)]!.some((v, j) => v && labels[k % n]![j]) ? 1 : 0)));
  const B = Tensor.fromArray(n, c, Array.from({ length: n * c }, () => (rng.normal() >= 0 ? 1 : -1)));
  let f: Tensor | null = null, g: Tensor | null = null, total: Tensor | null = null;
  const phases = {
    zeroGrad: () => opt.zeroGrad(),
    forward: () => { f = img.forward(x); g = txt.forward(y); },
    loss: () => {
      const theta = ops.mulScalar(ops.matmul(f!, g!, false, true), 0.5);
      const nll = ops.sum(ops.sub(ops.softplus(theta), ops.mul(S, theta)));
      const quant = ops.add(ops.sum(ops.square(ops.sub(B, f!))), ops.sum(ops.square(ops.sub(B, g!))));
      const bal = ops.add(ops.sum(ops.square(ops.sum(f!, 0))), ops.sum(ops.square(ops.sum(g!, 0))));
      total = ops.mulScalar(ops.add(ops.add(nll, quant), bal), 1 / (n * n));
    },
    backward: () => { total!.backward(); f = g = total = null; },
    optimiser: () => opt.step(),
  };
  return { ...phases, run: () => { phases.zeroGrad(); phases.forward(); phases.loss(); phases.backward(); phases.optimiser(); } };
}

/** Samples per wall-clock second and per CPU-second of this process (robust on a shared machine). */
export function benchCmhashTrainStepTimed(shape: TrainBenchShape, steps: number, warmup: number, onStep?: (i: number) => void,
  step: TrainStep = makeTrainStep(shape)): { samplesPerSecond: number; samplesPerCpuSecond: number } {
  const n = shape.batch;
  for (let i = 0; i < warmup; i++) step.run();
  const t0 = performance.now(), c0 = process.cpuUsage();
  for (let i = 0; i < steps; i++) { step.run(); onStep?.(i + 1); }
  const wall = (performance.now() - t0) / 1000, cpu = process.cpuUsage(c0);
  return { samplesPerSecond: (steps * n) / wall, samplesPerCpuSecond: (steps * n) / ((cpu.user + cpu.system) / 1e6) };
}

/** Process CPU milliseconds so far (the breakdown's clock; a test gives it a deterministic one). */
export function processCpuMs(): number { const c = process.cpuUsage(); return (c.user + c.system) / 1000; }

/** Per-kernel CPU time, call counts and GEMM FLOPs, collected by a wrapper around the active backend. */
class KernelMeter {
  gemmMs = 0; gemmFlops = 0; reluMs = 0; adamMs = 0; calls = 0;
  /** Weight-gradient GEMMs with Adam fused in: their time (GEMM and update together) and FLOPs. */
  fusedMs = 0; fusedFlops = 0;
  constructor(readonly inner: Backend, private readonly clock: () => number) {}
  wrap(): Backend {
    const inner = this.inner, meter = this;
    const timed = <A extends unknown[]>(fn: (...a: A) => void, add: (ms: number, a: A) => void) => (...a: A): void => {
      const c0 = meter.clock();
      fn(...a);
      add(meter.clock() - c0, a);
      meter.calls++;
    };
    const gemmAdd = (ms: number, a: unknown[]) => { meter.gemmMs += ms; meter.gemmFlops += 2 * (a[2] as number) * (a[3] as number) * (a[4] as number); };
    const fusedAdd = (ms: number, a: unknown[]) => { meter.fusedMs += ms; meter.fusedFlops += 2 * (a[2] as number) * (a[3] as number) * (a[4] as number); };
    const w: Backend = Object.create(inner) as Backend;
    const pk = inner.panels;
    return Object.assign(w, {
      // weights kept in panel layout (tensor/panel-weight.ts): the forward product and the fused update
      ...(pk ? {
        panels: {
          ...pk,
          sgemm: timed(pk.sgemm.bind(pk), (ms, a) => { meter.gemmMs += ms; meter.gemmFlops += 2 * a[0] * a[1] * a[2]; }),
          gemmAdam: timed(pk.gemmAdam.bind(pk), (ms, a) => { meter.fusedMs += ms; meter.fusedFlops += 2 * a[1] * a[2] * a[3]; }),
        },
      } : {}),
      sgemm: timed(inner.sgemm.bind(inner), gemmAdd),
      ...(inner.sgemmBf16 ? { sgemmBf16: timed(inner.sgemmBf16.bind(inner), gemmAdd) } : {}),
      relu: timed(inner.relu.bind(inner), (ms) => { meter.reluMs += ms; }),
      reluBackward: timed(inner.reluBackward.bind(inner), (ms) => { meter.reluMs += ms; }),
      reluMask: timed(inner.reluMask.bind(inner), (ms) => { meter.reluMs += ms; }),
      adamStep: timed(inner.adamStep.bind(inner), (ms) => { meter.adamMs += ms; }),
      ...(inner.gemmAdam ? { gemmAdam: timed(inner.gemmAdam.bind(inner), fusedAdd) } : {}),
      ...(inner.gemmAdamBf16 ? { gemmAdamBf16: timed(inner.gemmAdamBf16.bind(inner), fusedAdd) } : {}),
    });
  }
}

export interface PhaseRow { phase: string; ms_per_step: number; share: number; note: string }

/** Minor page faults of this process so far. */
function minorFaults(): number { return process.resourceUsage().minorPageFault; }

/** CPU µs per fresh page: touches a new 64 MiB buffer (above the malloc threshold, so freshly mapped). */
export function pageFaultCostUs(): number {
  const f0 = minorFaults(), c0 = processCpuMs();
  const buf = new Float32Array(16 * 1024 * 1024);
  for (let i = 0; i < buf.length; i += 1024) buf[i] = 1;
  const faults = minorFaults() - f0, ms = processCpuMs() - c0;
  return faults > 0 ? (ms * 1000) / faults : 0;
}

/** CPU µs of one trivial call into the native addon (argument checks + N-API transition). */
function nativeCallCostUs(be: Backend): number {
  const x = new Float32Array(16), y = new Float32Array(16);
  for (let i = 0; i < 1000; i++) be.relu(x, y, 16);
  const c0 = processCpuMs();
  for (let i = 0; i < 20000; i++) be.relu(x, y, 16);
  return ((processCpuMs() - c0) * 1000) / 20000;
}

/**
 * Per-phase CPU time of `steps` steps of `step` (warm it up first: the first steps fault in the
 * parameters, optimiser state and malloc heap), each phase timed around its section and split by
 * the kernel wrapper into GEMM / ReLU / Adam and the rest. Page faults and garbage collection happen
 * inside the phases; faults are reported beside them (their ms are included above).
 */
export function trainStepBreakdown(step: TrainStep, steps: number, clock: () => number = processCpuMs):
  { rows: PhaseRow[]; gflopPerStep: number; cpuMsPerStep: number } {
  const inner = getBackend();
  const meter = new KernelMeter(inner, clock);
  setBackend(meter.wrap());
  try {
    const sec: Record<string, { ms: number; gemm: number; relu: number }> = {};
    const timeSection = (name: string, fn: () => void) => {
      const g0 = meter.gemmMs + meter.fusedMs, r0 = meter.reluMs, c0 = clock();
      fn();
      const s = (sec[name] ??= { ms: 0, gemm: 0, relu: 0 });
      s.ms += clock() - c0; s.gemm += meter.gemmMs + meter.fusedMs - g0; s.relu += meter.reluMs - r0;
    };
    const f0 = minorFaults(), c0 = clock();
    for (let i = 0; i < steps; i++) {
      timeSection('zero grad', step.zeroGrad);
      timeSection('forward', step.forward);
      timeSection('loss', step.loss);
      timeSection('backward', step.backward);
      timeSection('optimiser', step.optimiser);
    }
    const total = (clock() - c0) / steps, faults = (minorFaults() - f0) / steps;
    const per = (x: number) => x / steps;
    const gemm = per(meter.gemmMs), gflopPlain = meter.gemmFlops / steps / 1e9;
    const fusedMs = per(meter.fusedMs), gflopFused = meter.fusedFlops / steps / 1e9, gflop = gflopPlain + gflopFused;
    const fw = sec['forward']!, ls = sec['loss']!, bw = sec['backward']!, op = sec['optimiser']!, zg = sec['zero grad']!;
    const faultUs = pageFaultCostUs(), callUs = nativeCallCostUs(inner);
    const calls = meter.calls / steps;
    const row = (phase: string, ms: number, note: string): PhaseRow => ({ phase, ms_per_step: round2(ms), share: round3(ms / total), note });
    const rows: PhaseRow[] = [
      row('gemm', gemm, `${gflopPlain.toFixed(2)} GFLOP/step at ${(gflopPlain / (gemm / 1000)).toFixed(0)} GFLOP/s`),
      ...(gflopFused > 0 ? [row('gemm + fused Adam', fusedMs, `weight gradients (${gflopFused.toFixed(2)} GFLOP/step) with their Adam update; ${(gflopFused / (fusedMs / 1000)).toFixed(0)} GFLOP/s counting the GEMM alone`)] : []),
      row('relu kernels', per(fw.relu + bw.relu), 'native relu (in place on the product) + its backward (masking the gradient in place)'),
      row('forward other', per(fw.ms - fw.gemm - fw.relu), 'bias broadcast copies, output allocation'),
      row('loss', per(ls.ms - ls.gemm), 'elementwise ops of the DCMH loss (its 128×64×128 GEMM is under gemm)'),
      row('backward other', per(bw.ms - bw.gemm - bw.relu), 'loss backward, bias gradients, gradient allocation'),
      row('optimiser', per(op.ms), `native Adam pass ${per(meter.adamMs).toFixed(1)} ms${gflopFused > 0 ? ' (biases only: the weights are updated in the backward GEMMs)' : ''}`),
      row('zero grad', per(zg.ms), 'fill of the gradient buffers'),
      row('total', total, 'process CPU time per step'),
      row('  page faults', (faults * faultUs) / 1000, `${Math.round(faults)} minor faults/step × ${faultUs.toFixed(1)} µs (measured); inside the phases above`),
      row('  js↔native', (calls * callUs) / 1000, `${Math.round(calls)} calls/step × ${callUs.toFixed(2)} µs; no data copied (kernels work on the arrays in place)`),
    ];
    return { rows, gflopPerStep: gflop, cpuMsPerStep: total };
  } finally {
    setBackend(inner);
  }
}

function round2(x: number): number { return Math.round(x * 100) / 100; }
function round3(x: number): number { return Math.round(x * 1000) / 1000; }

/** bench/pytorch/train_step.py, found from the package root. */
export function pytorchScriptPath(): string {
  const here = dirname(fileURLToPath(import.meta.url)); // dist/src/cli/commands
  return join(here, '..', '..', '..', '..', 'bench', 'pytorch', 'train_step.py');
}

/** Why PyTorch cannot run here, or null when `import torch` works under `python`. */
export function torchUnavailable(python: string): string | null {
  if (!existsSync(python)) return `${python} not found`;
  const r = spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) return `${python} -c "import torch" failed: ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}`;
  return null;
}

export function register(bench: Command): void {
  bench.command('train')
    .description('training throughput: DCMH-size MLP steps (4096→8192→64 + 1386→8192→64, batch 128, Adam; --shape for others): samples/s, GFLOP/s vs the same-run FMA peak, per-phase breakdown, cmhash vs PyTorch CPU')
    .option('--threads <n>', 'threads for both engines', '1')
    .option('--shape <shape>', 'nets: dcmh (4096→8192→64 + 1386→8192→64), continual (128→512→32 + 10→512→32, the continual methods on Wikipedia), or batch,imageDim,textDim,hidden,bits', 'dcmh')
    .option('--steps <n>', 'timed steps', '20')
    .option('--warmup <n>', 'untimed steps first (the first few fault in parameters, optimiser state and the malloc heap)', '5')
    .option('--precision <list>', 'GEMM precision(s) to run: fp32, bf16 (AVX512_BF16), or fp32,bf16 for both', 'fp32')
    .option('--adam <list>', 'Adam update: fused (inside the weight-gradient GEMMs, as DCMH trains), plain (a pass of its own after backward), or fused,plain for both in the same run', 'fused,plain')
    .option('--breakdown-steps <n>', 'steps of the per-phase breakdown (0: none)', '3')
    .option('--python <path>', 'interpreter with torch (Debian python3-torch installs into /usr/bin/python3)', '/usr/bin/python3')
    .option('--no-pytorch', 'skip the PyTorch column')
    .option('--json', 'JSON lines: {"name": "cmhash"|"pytorch", "precision", "threads", "samples_per_s", "gflops", "peak_gflops", "ratio", ...}, {"name": "phase", "precision", "phase", "ms_per_step", "share"}, then {"name": "ratio", "value"}')
    .addHelpText('after', '\nGFLOP/s counts the FLOPs of the GEMMs the step runs (2·m·n·k each); "ratio" divides by the fp32 FMA peak of the same run\n(bf16 steps too: the bf16 dot-product peak is printed beside it).\n\nExamples:\n  cmhash bench train --threads 1 --steps 20 --json\n  cmhash bench train --precision fp32,bf16 --no-pytorch\n  cmhash bench train --shape continual --adam plain --no-pytorch')
    .action((o: { threads: string; shape: string; steps: string; warmup: string; precision: string; adam: string; breakdownSteps: string; python: string; pytorch: boolean; json?: boolean }) => {
      const out = new Output(!!o.json);
      const threads = positiveInt(o.threads, '--threads'), steps = positiveInt(o.steps, '--steps');
      const warmup = Number(o.warmup);
      if (!Number.isInteger(warmup) || warmup < 0) throw new InputError(`--warmup must be a non-negative integer, got ${o.warmup}`);
      const bdSteps = Number(o.breakdownSteps);
      if (!Number.isInteger(bdSteps) || bdSteps < 0) throw new InputError(`--breakdown-steps must be a non-negative integer, got ${o.breakdownSteps}`);
      const precisions = o.precision.split(',').map((p) => p.trim().toLowerCase()).filter(Boolean);
      for (const p of precisions) if (p !== 'fp32' && p !== 'bf16') throw new InputError(`--precision must list fp32 and/or bf16, got ${o.precision}`);
      if (precisions.length === 0) throw new InputError('--precision is empty');
      const adamModes = o.adam.split(',').map((p) => p.trim().toLowerCase()).filter(Boolean);
      for (const a of adamModes) if (a !== 'fused' && a !== 'plain') throw new InputError(`--adam must list fused and/or plain, got ${o.adam}`);
      if (adamModes.length === 0) throw new InputError('--adam is empty');
      const shape = parseTrainShape(o.shape);
      const be = getBackend();
      be.setThreads(threads);
      out.text(`backend ${be.name} (${be.variant}), ${be.getThreads()} thread(s); shape ${JSON.stringify(shape)}`);
      const native = be.name === 'native' ? getNativeBackend() : null;
      const peak = native ? native.fmaPeak(0.4, be.getThreads()) : null;
      const bfPeak = native && precisions.includes('bf16') ? native.bf16Peak(0.4, be.getThreads()) : null;
      if (peak) out.text(`same-run peak on ${be.getThreads()} thread(s): fp32 FMA ${peak.toFixed(1)} GFLOP/s${bfPeak ? `, bf16 dot product ${bfPeak.toFixed(1)} GFLOP/s` : ''}`);
      const rows: Record<string, unknown>[] = [];
      const phaseRows: Record<string, unknown>[] = [];
      const saved = getMatmulPrecision();
      let ours = 0, oursCpu = 0, first = true;
      const fp32Sps = new Map<string, number>();
      try {
        for (const prec of precisions as MatmulPrecision[]) for (const adam of adamModes) {
          setMatmulPrecision(prec);
          const label = `${prec}${adam === 'plain' ? ' plain Adam' : ''}`;
          // warm-up, then the breakdown (its counted steps also give the FLOPs per step), then the timed steps
          const step = makeTrainStep(shape, adam === 'fused');
          for (let i = 0; i < warmup; i++) step.run();
          const bd = trainStepBreakdown(step, Math.max(1, bdSteps));
          const bar = out.progress(steps, `cmhash ${label} `);
          const timed = benchCmhashTrainStepTimed(shape, steps, 0, (i) => bar.update(i), step);
          bar.stop();
          const flopPerSample = (bd.gflopPerStep * 1e9) / shape.batch;
          const gflops = (timed.samplesPerSecond * flopPerSample) / 1e9, cpuGflops = (timed.samplesPerCpuSecond * flopPerSample) / 1e9;
          const rec = {
            name: 'cmhash', shape, precision: prec, adam, threads: be.getThreads(), samples_per_s: timed.samplesPerSecond, samples_per_cpu_s: timed.samplesPerCpuSecond,
            gflop_per_step: round3(bd.gflopPerStep), gflops: round2(gflops), cpu_gflops: round2(cpuGflops),
            peak_gflops: peak ? round2(peak) : null, ratio: peak ? round3(gflops / peak) : null, cpu_ratio: peak ? round3(cpuGflops / peak) : null,
            bf16_peak_gflops: bfPeak ? round2(bfPeak) : null,
            speedup_vs_fp32: prec === 'bf16' && fp32Sps.has(adam) ? round3(timed.samplesPerCpuSecond / fp32Sps.get(adam)!) : null,
            backend: `${be.name}/${be.variant}`,
          };
          if (prec === 'fp32') fp32Sps.set(adam, timed.samplesPerCpuSecond);
          if (first) { ours = timed.samplesPerSecond; oursCpu = timed.samplesPerCpuSecond; first = false; }
          out.record(rec);
          rows.push({
            name: `cmhash ${label}`, threads: rec.threads, samples_per_s: rec.samples_per_s, samples_per_cpu_s: rec.samples_per_cpu_s,
            'GFLOP/s': rec.gflops, 'cpu GFLOP/s': rec.cpu_gflops, ratio: rec.ratio ?? '', 'cpu ratio': rec.cpu_ratio ?? '', backend: rec.backend,
          });
          if (bdSteps > 0) {
            for (const r of bd.rows) {
              out.record({ name: 'phase', precision: prec, adam, ...r });
              phaseRows.push({ step: label, phase: r.phase, 'cpu ms/step': r.ms_per_step.toFixed(1), share: r.share.toFixed(3), note: r.note });
            }
          }
        }
      } finally {
        setMatmulPrecision(saved);
      }
      let theirs: number | null = null, theirsCpu: number | null = null;
      if (o.pytorch) {
        const why = torchUnavailable(o.python);
        if (why) out.text(`pytorch column skipped: ${why}`);
        else {
          const r = spawnSync(o.python, [pytorchScriptPath(), '--threads', String(threads), '--steps', String(steps), '--warmup', String(warmup),
            '--batch', String(shape.batch), '--image-dim', String(shape.imageDim), '--text-dim', String(shape.textDim), '--hidden', String(shape.hidden), '--bits', String(shape.bits)],
            { encoding: 'utf8', timeout: 3_600_000, env: { ...process.env, OMP_NUM_THREADS: String(threads), MKL_NUM_THREADS: String(threads) } });
          if (r.status !== 0) out.text(`pytorch run failed: ${(r.stderr || '').trim().split('\n').slice(-3).join(' | ')}`);
          else {
            const rec = JSON.parse(r.stdout.trim().split('\n').pop()!) as { samples_per_s: number; samples_per_cpu_s: number; threads: number; torch: string };
            theirs = rec.samples_per_s; theirsCpu = rec.samples_per_cpu_s;
            const row = { name: 'pytorch', threads: rec.threads, samples_per_s: theirs, samples_per_cpu_s: theirsCpu, backend: `torch ${rec.torch}` };
            rows.push(row); out.record(row);
          }
        }
      }
      if (theirs) {
        // value: wall-clock ratio (the issue's figure); cpu_value: per CPU-second, which a busy shared
        // machine distorts far less (each engine may get a different share of the cores).
        const ratio = { name: 'ratio', value: ours / theirs, cpu_value: theirsCpu ? oursCpu / theirsCpu : null };
        out.record(ratio);
        rows.push({ name: `ratio (cmhash ${precisions[0]}${adamModes[0] === 'plain' ? ' plain Adam' : ''} / pytorch)`, threads: '', samples_per_s: ours / theirs, samples_per_cpu_s: ratio.cpu_value ?? '', backend: '' });
      }
      out.table(rows);
      if (phaseRows.length) {
        out.text(`\nper-phase breakdown (${bdSteps} step(s) after the ${warmup} warm-up steps, process CPU time):`);
        out.table(phaseRows);
      }
    });
}

function positiveInt(v: string, name: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InputError(`${name} must be a positive integer, got ${v}`);
  return n;
}
