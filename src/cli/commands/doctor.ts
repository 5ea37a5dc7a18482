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
      // the fp32 GEMM's blocking from the OS's cache sizes and its measured tile; bf16 availability
      const tuning = native ? native.gemmTuning() : null;
      const info = {
        backend: b.name, variant: b.variant, threads: b.getThreads(),
        native_error: native ? null : nativeError(),
        native_variants: native ? native.supportedVariants() : [],
        cpu_features: features ? Object.entries(features).filter(([, v]) => v).map(([k]) => k) : [],
        gemm_kernel: b.name === 'native' && kernels ? kernels.gemm : 'typescript 4x4',
        hamming_kernel: b.name === 'native' && kernels ? kernels.hamming : 'typescript',
        caches: tuning ? `L1d ${tuning.l1d / 1024} KiB, L2 ${tuning.l2 / 1024} KiB, L3 ${tuning.l3 > 0 ? `${Math.round(tuning.l3 / 1024)} KiB` : 'unknown'} (from ${tuning.cacheSource})` : null,
        gemm_choice: tuning ? (native!.variant === 'avx512' ? tuning.avx512 : native!.variant === 'avx2' && tuning.avx2 ? tuning.avx2 : `${native!.variant}: fixed blocks`) : null,
        bf16_gemm: tuning ? (tuning.bf16 ? `${tuning.bf16Kernel}; opt in with --precision bf16` : 'no (needs AVX512_BF16)') : null,
        // which GEMMs can apply Adam as they make a weight's gradient (Adam's fusedBackward; DCMH uses it)
        fused_adam: !b.gemmAdam ? 'no (plain Adam pass after backward)'
          : b.name === 'native' ? `yes, ${b.gemmAdamBf16 ? 'fp32 and bf16 GEMMs' : 'fp32 GEMM'} (threads split the gradient rows)`
            : 'portable reference (the whole gradient, then the Adam pass)',
        // weights a fused Adam trains kept in the GEMM kernel's panel layout (tensor/panel-weight.ts)
        panel_weights: !b.panels ? 'no (weights stay row-major)'
          : b.panels.preferred ? `yes: float32 weights wider than 256 columns (a multiple of ${b.panels.nr}) that a fused Adam trains are kept in ${b.panels.kc}-row blocks of ${b.panels.nr}-column panels; the forward reads them unpacked`
            : process.env.CMHASH_PANEL_WEIGHTS === '0' ? 'available, off (CMHASH_PANEL_WEIGHTS=0)'
              : `available, off on ${b.variant} (measured to pay on avx2 only; CMHASH_PANEL_WEIGHTS=1 turns it on)`,
        malloc_retain: tuning ? (tuning.mallocRetain ? 'freed buffers up to 32 MiB stay on the heap (CMHASH_MALLOC_RETAIN=0 to turn off)' : 'glibc defaults') : null,
        env: { CMHASH_BACKEND: process.env.CMHASH_BACKEND ?? null, CMHASH_ISA: process.env.CMHASH_ISA ?? null, CMHASH_THREADS: process.env.CMHASH_THREADS ?? null, CMHASH_PANEL_WEIGHTS: process.env.CMHASH_PANEL_WEIGHTS ?? null },
        cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version,
      };
      out.record(info);
      for (const [k, v] of Object.entries(info)) {
        const text = Array.isArray(v) ? v.join(' ') : v !== null && typeof v === 'object' ? Object.entries(v).filter(([, x]) => x !== null).map(([a, x]) => `${a}=${x}`).join(' ') : v;
        out.text(`${k.padEnd(16)} ${text === '' ? '-' : text}`);
      }
    });
}
