// `cmhash bench gemm`: the machine's FP32 FMA peak (a pure FMA loop in the native code) and sgemm
// at the training shapes, on 1 thread and on all threads, measured in the same run so the ratio to
// peak is meaningful. Timings are the best of several repetitions: on a shared machine a run that
// lost the core to another process says nothing about the kernel.
import type { Command } from 'commander';
import { cpus, loadavg } from 'node:os';
import { InputError } from '../../util/errors.js';
import { Rng } from '../../util/rng.js';
import { createNativeBackend, nativeLoadError, type IsaVariant, type NativeBackend } from '../../tensor/backend-native.js';
import { Output } from '../output.js';

export interface GemmShape { name: string; m: number; k: number; n: number; transA: boolean; transB: boolean }

/** The training shapes, read as M×K×N (C[M×N] = op(A)[M×K]·op(B)[K×N]). */
export const GEMM_SHAPES: GemmShape[] = [
  { name: '128x4096x1024', m: 128, k: 4096, n: 1024, transA: false, transB: false },
  { name: '128x1024x64', m: 128, k: 1024, n: 64, transA: false, transB: false },
  { name: '128x8192x64', m: 128, k: 8192, n: 64, transA: false, transB: false },
  { name: '4096x128x1024-At', m: 4096, k: 128, n: 1024, transA: true, transB: false },
  { name: '1024x1024x1024', m: 1024, k: 1024, n: 1024, transA: false, transB: false },
];

export interface GemmBenchRow {
  name: string; threads: number; gflops: number; peak_gflops: number; ratio: number;
  /** Same runs timed by process CPU time per thread (robust to other processes on shared cores). */
  cpu_gflops: number; cpu_ratio: number;
}

export interface SgemmTiming { wall: number; cpu: number }

/**
 * Best GFLOP/s of `reps` runs (and at least `minSeconds` in total) of one shape on `be`'s current
 * threads, by wall clock and by process CPU time (per thread). On a quiet machine the two agree;
 * on a loaded one the wall-clock figure includes time the process spent descheduled.
 */
export function timeSgemm(be: NativeBackend, s: GemmShape, threads: number, reps: number, minSeconds: number, rng: Rng, bf16 = false,
  panels = false): SgemmTiming {
  const a = rng.fillNormal(new Float32Array(s.m * s.k)), b = rng.fillNormal(new Float32Array(s.k * s.n));
  let gemm = bf16 && be.sgemmBf16 ? be.sgemmBf16 : be.sgemm.bind(be);
  const pk = be.panels;
  if (panels && pk) {
    // B stored in the kernel's panel layout, as a weight a fused Adam trains is (tensor/panel-weight.ts)
    const stored = pk.alloc(s.k * s.n);
    pk.pack(s.k, s.n, b, stored);
    gemm = (_ta, _tb, m, n, k, alpha, a_, lda, _b, _ldb, beta, c_, ldc) => pk.sgemm(m, n, k, alpha, a_, lda, stored, beta, c_, ldc);
  }
  const c = new Float32Array(s.m * s.n);
  const lda = s.transA ? s.m : s.k, ldb = s.transB ? s.k : s.n;
  const flops = 2 * s.m * s.n * s.k;
  gemm(s.transA, s.transB, s.m, s.n, s.k, 1, a, lda, b, ldb, 0, c, s.n); // warm-up (packing buffers, pages)
  let bestWall = Infinity, bestCpu = Infinity, total = 0;
  for (let r = 0; (r < reps || total < minSeconds) && r < 1000; r++) {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    gemm(s.transA, s.transB, s.m, s.n, s.k, 1, a, lda, b, ldb, 0, c, s.n);
    const sec = Number(process.hrtime.bigint() - t0) / 1e9;
    const cu = process.cpuUsage(c0);
    const cpuSec = (cu.user + cu.system) / 1e6 / threads;
    bestWall = Math.min(bestWall, sec);
    if (cpuSec > 0) bestCpu = Math.min(bestCpu, Math.max(cpuSec, sec / 4)); // µs-resolution guard
    total += sec;
  }
  return { wall: flops / bestWall / 1e9, cpu: Number.isFinite(bestCpu) ? flops / bestCpu / 1e9 : flops / bestWall / 1e9 };
}

export function register(bench: Command): void {
  bench.command('gemm')
    .description('FP32 FMA peak and sgemm GFLOP/s at the training shapes, 1 thread and all threads')
    .option('--json', 'one JSON object per line: {"name","threads","gflops","peak_gflops","ratio","cpu_gflops","cpu_ratio"}')
    .option('--threads <n>', 'the "all threads" count (default: the backend\'s thread setting, i.e. the cores)')
    .option('--reps <n>', 'repetitions per shape; the best is reported', '10')
    .option('--isa <variant>', 'native kernel variant: avx512 | avx2 | generic (default: best for this CPU)')
    .option('--precision <list>', 'fp32, bf16 (AVX512_BF16: inputs rounded to bfloat16, fp32 accumulation) or fp32,bf16; bf16 rows are named "<shape> bf16" and their ratio is to the fp32 FMA peak', 'fp32')
    .addHelpText('after', '\nShapes are M×K×N; "-At" means C = Aᵀ·B with A stored K×M; "panels" rows read B stored in the kernel\'s panel layout (how training reads the weights a fused Adam keeps there; avx2).\n\nExamples:\n  cmhash bench gemm\n  cmhash bench gemm --json --threads 2 --reps 20')
    .action((opts: { json?: boolean; threads?: string; reps: string; isa?: string; precision: string }) => {
      const out = new Output(!!opts.json);
      const reps = positiveInt(opts.reps, '--reps');
      if (opts.isa && !['avx512', 'avx2', 'generic'].includes(opts.isa)) throw new InputError(`--isa must be avx512, avx2 or generic, got ${opts.isa}`);
      const be = createNativeBackend(opts.isa as IsaVariant | undefined);
      if (!be) throw new InputError(`bench gemm needs the native addon (${nativeLoadError()}); build it with \`node scripts/build-native.mjs\``);
      const precisions = opts.precision.split(',').map((p) => p.trim().toLowerCase()).filter(Boolean);
      for (const p of precisions) if (p !== 'fp32' && p !== 'bf16') throw new InputError(`--precision must list fp32 and/or bf16, got ${opts.precision}`);
      if (precisions.includes('bf16') && !be.hasBf16()) throw new InputError(`--precision bf16: the native ${be.variant} variant on this CPU has no bf16 kernel (needs avx512 with AVX512_BF16)`);
      const saved = be.getThreads();
      const all = opts.threads !== undefined ? positiveInt(opts.threads, '--threads') : saved;
      const info = be.kernelInfo();
      out.text(`native ${be.variant}: ${info.gemm} micro-kernel, blocks MC=${info.mc} KC=${info.kc} NC=${info.nc}; best of ${reps}+ runs`);
      const tuning = be.gemmTuning();
      if (tuning && be.variant === 'avx512') out.text(`choice: ${tuning.avx512}`);
      const rows: GemmBenchRow[] = [];
      const emit = (r: GemmBenchRow) => { rows.push(r); out.record(r); };
      const threadCounts = all > 1 ? [1, all] : [1];
      const peaks = new Map<number, number>();
      for (const t of threadCounts) {
        const p = be.fmaPeak(0.4, t);
        peaks.set(t, p);
        emit({ name: 'peak', threads: t, gflops: round(p), peak_gflops: round(p), ratio: 1, cpu_gflops: round(p), cpu_ratio: 1 });
        if (precisions.includes('bf16')) {
          const bp = be.bf16Peak(0.4, t)!;
          emit({ name: 'peak bf16', threads: t, gflops: round(bp), peak_gflops: round(p), ratio: ratio(bp, p), cpu_gflops: round(bp), cpu_ratio: ratio(bp, p) });
        }
      }
      // every shape in each precision, then the forward shapes with B kept in panels (as training runs
      // them where the backend prefers it)
      const runs = precisions.flatMap((prec) => GEMM_SHAPES.map((s) => ({ s, name: prec === 'bf16' ? `${s.name} bf16` : s.name, bf16: prec === 'bf16', panels: false })));
      const pk = be.panels;
      if (precisions.includes('fp32') && pk?.preferred) {
        for (const s of GEMM_SHAPES) if (!s.transA && !s.transB && s.n > 256 && s.n % pk.nr === 0) runs.push({ s, name: `${s.name} panels`, bf16: false, panels: true });
      }
      const rng = new Rng(42);
      try {
        for (const t of threadCounts) {
          be.setThreads(t);
          for (const r of runs) {
            const g = timeSgemm(be, r.s, t, reps, 0.5, rng, r.bf16, r.panels);
            const p = peaks.get(t)!;
            emit({ name: r.name, threads: t, gflops: round(g.wall), peak_gflops: round(p), ratio: ratio(g.wall, p), cpu_gflops: round(g.cpu), cpu_ratio: ratio(g.cpu, p) });
          }
        }
      } finally {
        be.setThreads(saved);
      }
      out.table(rows.map((r) => ({
        shape: r.name, threads: r.threads, 'GFLOP/s': r.gflops.toFixed(1), peak: r.peak_gflops.toFixed(1), ratio: r.ratio.toFixed(3),
        'cpu-time GFLOP/s': r.cpu_gflops.toFixed(1), 'cpu ratio': r.cpu_ratio.toFixed(3),
      })));
      const load = loadavg()[0]!;
      if (load > cpus().length * 0.5) out.text(`note: load average ${load.toFixed(1)} on ${cpus().length} cores — other processes share the cores; wall-clock figures are pessimistic, the cpu-time columns count only time this process ran`);
    });
}

function ratio(g: number, p: number): number { return Math.round((g / p) * 1000) / 1000; }

function round(x: number): number { return Math.round(x * 100) / 100; }

function positiveInt(v: string, name: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InputError(`${name} must be a positive integer, got ${v}`);
  return n;
}
