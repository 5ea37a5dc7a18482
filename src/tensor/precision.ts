// Process-wide precision of the float32 matrix products in ops-matmul.ts (forward and backward of
// matmul/affine, hence of every Linear layer). 'fp32' (the default) is the ordinary sgemm; 'bf16'
// rounds both operands of each product to bfloat16 as they are packed and sums in float32 (the
// native backend's AVX512_BF16 kernel). Weights, gradients, optimiser state and every other op stay
// float32. Methods need no change: `cmhash train --precision bf16` sets this before training.
import { InputError } from '../util/errors.js';
import { getBackend } from './backends.js';

export type MatmulPrecision = 'fp32' | 'bf16';

let precision: MatmulPrecision = 'fp32';

export function getMatmulPrecision(): MatmulPrecision { return precision; }

/** Why bf16 products are unavailable with the active backend, or null when they are available. */
export function bf16Unavailable(): string | null {
  const be = getBackend();
  if (be.sgemmBf16) return null;
  if (be.name !== 'native') return `the ${be.name} backend has no bf16 kernel (it needs the native addon on a CPU with AVX512_BF16)`;
  if (be.variant !== 'avx512') return `the native ${be.variant} variant has no bf16 kernel (it needs avx512 with AVX512_BF16)`;
  return 'this CPU has no AVX512_BF16 (vdpbf16ps), or the native addon predates the bf16 kernel';
}

/** Sets the precision; 'bf16' throws an InputError naming the reason when the backend lacks it. */
export function setMatmulPrecision(p: MatmulPrecision): void {
  if (p !== 'fp32' && p !== 'bf16') throw new InputError(`precision must be fp32 or bf16, got ${String(p)}`);
  if (p === 'bf16') {
    const why = bf16Unavailable();
    if (why) throw new InputError(`--precision bf16: ${why}`);
  }
  precision = p;
}

/** Parses a --precision option value (undefined → fp32) and applies it. */
export function applyPrecisionOption(value: string | undefined): MatmulPrecision {
  const p = (value ?? 'fp32').toLowerCase();
  if (p !== 'fp32' && p !== 'bf16') throw new InputError(`--precision must be fp32 or bf16, got ${value}`);
  setMatmulPrecision(p);
  return p;
}
