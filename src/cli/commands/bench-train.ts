// `cmhash bench train`: DCMH-size training steps (image MLP 4096→8192→64 and text MLP
// 1386→8192→64, batch 128, Adam) in samples per second, side by side with the equivalent PyTorch
// script (bench/pytorch/train_step.py) run through /usr/bin/python3 when `import torch` works.
import type { Command } from 'commander';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError } from '../../util/errors.js';
import { Rng } from '../../util/rng.js';
import { getBackend } from '../../tensor/backends.js';
import { Tensor } from '../../tensor/tensor.js';
import * as ops from '../../tensor/ops.js';
import { mlp } from '../../nn/mlp.js';
import { Adam } from '../../nn/optim-adam.js';
import { Output } from '../output.js';

export interface TrainBenchShape { batch: number; imageDim: number; textDim: number; hidden: number; bits: number }
export const DCMH_SHAPE: TrainBenchShape = { batch: 128, imageDim: 4096, textDim: 1386, hidden: 8192, bits: 64 };

/**
 * Samples per second of full training steps (forward both nets, DCMH loss over the batch, backward,
 * Adam) on fixed random inputs. The loss matches bench/pytorch/train_step.py term for term.
 */
export function benchCmhashTrainStep(shape: TrainBenchShape, steps: number, warmup: number, onStep?: (i: number) => void): number {
  return benchCmhashTrainStepTimed(shape, steps, warmup, onStep).samplesPerSecond;
}

/** Samples per wall-clock second and per CPU-second of this process (robust on a shared machine). */
export function benchCmhashTrainStepTimed(shape: TrainBenchShape, steps: number, warmup: number, onStep?: (i: number) => void):
  { samplesPerSecond: number; samplesPerCpuSecond: number } {
  const rng = new Rng(1);
  const { batch: n, bits: c } = shape;
  const img = mlp([shape.imageDim, shape.hidden, c], { rng: rng.fork(), activation: 'relu', init: 'xavier' });
  const txt = mlp([shape.textDim, shape.hidden, c], { rng: rng.fork(), activation: 'relu', init: 'xavier' });
  const opt = new Adam([...img.parameters(), ...txt.parameters()], { lr: 1e-4 });
  const x = Tensor.wrap(n, shape.imageDim, rng.fillUniform(new Float32Array(n * shape.imageDim)));
  const y = Tensor.wrap(n, shape.textDim, Float32Array.from({ length: n * shape.textDim }, () => (rng.uniform() < 0.01 ? 1 : 0)));
  const labels = Array.from({ length: n }, () => Array.from({ length: 24 }, () => rng.uniform() < 0.15));
  const S = Tensor.fromArray(n, n, Array.from({ length: n * n }, (_, k) => (labels[Math.floor(k / n)]!.some((v, j) => v && labels[k % n]![j]) ? 1 : 0)));
  const B = Tensor.fromArray(n, c, Array.from({ length: n * c }, () => (rng.normal() >= 0 ? 1 : -1)));
  const step = () => {
    opt.zeroGrad();
    const f = img.forward(x), g = txt.forward(y);
    const theta = ops.mulScalar(ops.matmul(f, g, false, true), 0.5);
    const nll = ops.sum(ops.sub(ops.softplus(theta), ops.mul(S, theta)));
    const quant = ops.add(ops.sum(ops.square(ops.sub(B, f))), ops.sum(ops.square(ops.sub(B, g))));
    const bal = ops.add(ops.sum(ops.square(ops.sum(f, 0))), ops.sum(ops.square(ops.sum(g, 0))));
    ops.mulScalar(ops.add(ops.add(nll, quant), bal), 1 / (n * n)).backward();
    opt.step();
  };
  for (let i = 0; i < warmup; i++) step();
  const t0 = performance.now(), c0 = process.cpuUsage();
  for (let i = 0; i < steps; i++) { step(); onStep?.(i + 1); }
  const wall = (performance.now() - t0) / 1000, cpu = process.cpuUsage(c0);
  return { samplesPerSecond: (steps * n) / wall, samplesPerCpuSecond: (steps * n) / ((cpu.user + cpu.system) / 1e6) };
}

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
    .description('training throughput: DCMH-size MLP steps (4096→8192→64 + 1386→8192→64, batch 128, Adam), cmhash vs PyTorch CPU')
    .option('--threads <n>', 'threads for both engines', '1')
    .option('--steps <n>', 'timed steps', '20')
    .option('--warmup <n>', 'untimed steps first', '3')
    .option('--python <path>', 'interpreter with torch (Debian python3-torch installs into /usr/bin/python3)', '/usr/bin/python3')
    .option('--no-pytorch', 'skip the PyTorch column')
    .option('--json', 'JSON lines: {"name": "cmhash"|"pytorch", "threads", "samples_per_s"}, then {"name": "ratio", "value"}')
    .addHelpText('after', '\nExample:\n  cmhash bench train --threads 1 --steps 20 --json')
    .action((o: { threads: string; steps: string; warmup: string; python: string; pytorch: boolean; json?: boolean }) => {
      const out = new Output(!!o.json);
      const threads = positiveInt(o.threads, '--threads'), steps = positiveInt(o.steps, '--steps');
      const warmup = Number(o.warmup);
      if (!Number.isInteger(warmup) || warmup < 0) throw new InputError(`--warmup must be a non-negative integer, got ${o.warmup}`);
      const be = getBackend();
      be.setThreads(threads);
      out.text(`backend ${be.name} (${be.variant}), ${be.getThreads()} thread(s); shape ${JSON.stringify(DCMH_SHAPE)}`);
      const bar = out.progress(steps, 'cmhash ');
      const timed = benchCmhashTrainStepTimed(DCMH_SHAPE, steps, warmup, (i) => bar.update(i));
      const ours = timed.samplesPerSecond;
      bar.stop();
      const rows: Record<string, unknown>[] = [{ name: 'cmhash', threads: be.getThreads(), samples_per_s: ours, samples_per_cpu_s: timed.samplesPerCpuSecond, backend: `${be.name}/${be.variant}` }];
      out.record(rows[0]);
      let theirs: number | null = null, theirsCpu: number | null = null;
      if (o.pytorch) {
        const why = torchUnavailable(o.python);
        if (why) out.text(`pytorch column skipped: ${why}`);
        else {
          const r = spawnSync(o.python, [pytorchScriptPath(), '--threads', String(threads), '--steps', String(steps), '--warmup', String(warmup)],
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
        // value: wall-clock ratio (the figure); cpu_value: per CPU-second, which a busy shared
        // machine distorts far less (each engine may get a different share of the cores).
        const ratio = { name: 'ratio', value: ours / theirs, cpu_value: theirsCpu ? timed.samplesPerCpuSecond / theirsCpu : null };
        out.record(ratio);
        rows.push({ name: 'ratio (cmhash / pytorch)', threads: '', samples_per_s: ours / theirs, samples_per_cpu_s: ratio.cpu_value ?? '', backend: '' });
      }
      out.table(rows);
    });
}

function positiveInt(v: string, name: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InputError(`${name} must be a positive integer, got ${v}`);
  return n;
}
