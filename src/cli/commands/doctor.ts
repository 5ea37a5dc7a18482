import type { Command } from 'commander';
import { cpus } from 'node:os';
import { getBackend, getNativeBackend, nativeError } from '../../tensor/backends.js';
import { Output } from '../output.js';

export function register(program: Command): void {
  program.command('doctor')
    .description('show the backend in use, CPU features, kernel variant, threads and versions')
    .option('--json', 'machine-readable output')
    .addHelpText('after', '\nExample:\n  cmhash doctor --json')
    .action((opts: { json?: boolean }) => {
      const out = new Output(!!opts.json);
      const b = getBackend();
      const native = getNativeBackend();
      const features = native ? native.cpuFeatures() : null;
      const kernels = native ? native.kernelInfo() : null;
      const info = {
        backend: b.name, variant: b.variant, threads: b.getThreads(),
        native_error: native ? null : nativeError(),
        native_variants: native ? native.supportedVariants() : [],
        cpu_features: features ? Object.entries(features).filter(([, v]) => v).map(([k]) => k) : [],
        gemm_kernel: b.name === 'native' && kernels ? kernels.gemm : 'typescript 4x4',
        hamming_kernel: b.name === 'native' && kernels ? kernels.hamming : 'typescript',
        env: { CMHASH_BACKEND: process.env.CMHASH_BACKEND ?? null, CMHASH_ISA: process.env.CMHASH_ISA ?? null, CMHASH_THREADS: process.env.CMHASH_THREADS ?? null },
        cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version,
      };
      out.record(info);
      for (const [k, v] of Object.entries(info)) {
        const text = Array.isArray(v) ? v.join(' ') : v !== null && typeof v === 'object' ? Object.entries(v).filter(([, x]) => x !== null).map(([a, x]) => `${a}=${x}`).join(' ') : v;
        out.text(`${k.padEnd(16)} ${text === '' ? '-' : text}`);
      }
    });
}
