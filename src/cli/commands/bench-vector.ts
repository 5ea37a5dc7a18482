// `cmhash bench vector`: the elementwise / vector kernels (ReLU forward and backward, the float64
// dot product and axpy of gradient projection) on the native backend against the portable
// TypeScript reference, and against a plain copy of the same bytes (TypedArray.set, i.e. memcpy)
// measured in the same run: these kernels are memory-bound, so the copy's bandwidth is the ceiling
// they are compared with. Best of several repetitions, as in `bench gemm`.
import type { Command } from 'commander';
import { InputError } from '../../util/errors.js';
import { Rng } from '../../util/rng.js';
import { getJsBackend } from '../../tensor/backends.js';
import { createNativeBackend, nativeLoadError, type IsaVariant } from '../../tensor/backend-native.js';
import type { Backend } from '../../tensor/backend.js';
import { Output } from '../output.js';
import { intOption } from '../options.js';

export interface VectorBenchRow {
  name: string; n: number;
  /** GB/s of bytes read + written, native kernel / TypeScript reference / memcpy of the same bytes. */
  native_gbps: number; js_gbps: number; copy_gbps: number;
  /** native / TypeScript reference, and native / memcpy (the memory-bandwidth ceiling). */
  speedup: number; ratio: number;
}

interface Kernel { name: string; bytesPerElement: number; run: (be: Backend, n: number) => void }

/**
 * Seconds per call: the fastest of `reps` samples (at least `minSeconds` in total), each sample
 * timing `inner` calls so that one sample covers ≥ 2^18 elements (a single call on a short vector
 * would measure the timer, not the kernel).
 */
function best(fn: () => void, n: number, reps: number, minSeconds: number): number {
  const inner = Math.max(1, Math.ceil((1 << 18) / Math.max(1, n)));
  fn();
  let bestSec = Infinity, total = 0;
  for (let r = 0; (r < reps || total < minSeconds) && r < 100_000; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < inner; i++) fn();
    const sec = Number(process.hrtime.bigint() - t0) / 1e9;
    if (sec > 0) bestSec = Math.min(bestSec, sec / inner);
    total += sec;
  }
  return bestSec;
}

export function register(bench: Command): void {
  bench.command('vector')
    .description('ReLU forward/backward, float64 dot and axpy: native vs the TypeScript reference vs memcpy bandwidth')
    .option('--json', 'one JSON object per line: {"name","n","native_gbps","js_gbps","copy_gbps","speedup","ratio"}')
    .option('--sizes <list>', 'vector lengths (default: a 128×512 activation and 1M)', '65536,1048576')
    .option('--reps <n>', 'repetitions per kernel; the best is reported', '20')
    .option('--isa <variant>', 'native kernel variant: avx512 | avx2 | generic (default: best for this CPU)')
    .addHelpText('after', '\nExamples:\n  cmhash bench vector\n  cmhash bench vector --json --sizes 4099,65536')
    .action((opts: { json?: boolean; sizes: string; reps: string; isa?: string }) => {
      const out = new Output(!!opts.json);
      const reps = intOption(opts.reps, 'reps', 1, 1_000_000);
      const sizes = opts.sizes.split(',').map((s) => intOption(s.trim(), 'sizes', 1, 1 << 28));
      if (opts.isa && !['avx512', 'avx2', 'generic'].includes(opts.isa)) throw new InputError(`--isa must be avx512, avx2 or generic, got ${opts.isa}`);
      const native = createNativeBackend(opts.isa as IsaVariant | undefined);
      if (!native) throw new InputError(`bench vector needs the native addon (${nativeLoadError()}); build it with \`node scripts/build-native.mjs\``);
      const js = getJsBackend();
      out.text(`native ${native.variant} vs the TypeScript reference; GB/s counts bytes read + written; best of ${reps}+ runs`);
      const rng = new Rng(7);
      const rows: VectorBenchRow[] = [];
      for (const n of sizes) {
        const x = rng.fillNormal(new Float32Array(n)), g = rng.fillNormal(new Float32Array(n));
        const y = new Float32Array(n), ga = new Float32Array(n);
        const refs3 = [g, y, ga], dots3 = new Float64Array(3);
        let sink = 0;
        const kernels: Kernel[] = [
          { name: 'relu', bytesPerElement: 8, run: (be) => be.relu(x, y, n) },
          { name: 'relu_backward', bytesPerElement: 16, run: (be) => be.reluBackward(x, g, ga, n) },
          { name: 'dot_f64', bytesPerElement: 8, run: (be) => { sink += be.dot(x, g, n); } },
          // GEM's per-step q = G·g with 3 old sessions: three chains in one pass (bytes: x once, 3 vectors)
          { name: 'dots_f64_x3', bytesPerElement: 16, run: (be) => { be.dots(x, refs3, n, dots3); sink += dots3[0]!; } },
          { name: 'axpy', bytesPerElement: 12, run: (be) => be.axpy(ga, 1e-3, x, n) },
        ];
        const copyTo = new Float32Array(n);
        const copySec = best(() => copyTo.set(x), n, reps, 0.05);
        const copyGbps = (8 * n) / copySec / 1e9; // 4 bytes read + 4 written per element
        for (const k of kernels) {
          const bytes = k.bytesPerElement * n;
          const nat = bytes / best(() => k.run(native, n), n, reps, 0.05) / 1e9;
          const ref = bytes / best(() => k.run(js, n), n, reps, 0.05) / 1e9;
          const row: VectorBenchRow = { name: k.name, n, native_gbps: sig(nat), js_gbps: sig(ref), copy_gbps: sig(copyGbps), speedup: sig(nat / ref), ratio: sig(nat / copyGbps) };
          rows.push(row);
          out.record(row);
        }
        if (!Number.isFinite(sink)) out.text('(dot produced a non-finite sum)');
      }
      out.table(rows.map((r) => ({ kernel: r.name, n: r.n, 'native GB/s': r.native_gbps.toFixed(2), 'TS GB/s': r.js_gbps.toFixed(2), speedup: r.speedup.toFixed(2), 'memcpy GB/s': r.copy_gbps.toFixed(2), 'ratio to memcpy': r.ratio.toFixed(2) })));
    });
}

/** Four significant digits (a small-vector figure is not rounded away). */
function sig(x: number): number { return Number(x.toPrecision(4)); }
