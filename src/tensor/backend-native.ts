// The native backend: the C++ addon (src/native, built by node-gyp into
// build/Release/cmhash_native.node) behind the Backend interface. Kernels work in place on the
// caller's typed arrays. The addon picks its instruction-set variant at load (best the CPU runs,
// or CMHASH_ISA=avx512|avx2|generic); a NativeBackend can also be pinned to any supported variant,
// which is how the tests exercise every code path on one machine.
//
// This file must not import backends.ts (backends.ts imports it).
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { existsSync } from 'node:fs';
import type { AdamStepParams, Backend, MihTables, PanelKernels, RankingBlock } from './backend.js';

export type IsaVariant = 'avx512' | 'avx2' | 'generic';

export interface CpuFeatures {
  avx512f: boolean; avx512vl: boolean; avx512bw: boolean; avx512dq: boolean; avx512vpopcntdq: boolean;
  avx2: boolean; fma: boolean; popcnt: boolean;
}

/** How the fp32 AVX-512 GEMM was set up on this core, and whether the bf16 kernel exists. */
export interface GemmTuning {
  l1d: number; l2: number; l3: number; cacheSource: string;
  /** Cache sizes, blocks, measured tile rates and the choice, in one sentence. */
  avx512: string;
  /** The AVX2 kernel's blocks and paths and why (absent in addons built before it existed). */
  avx2?: string;
  bf16: boolean; bf16Kernel?: string;
  /** Freed buffers up to 32 MiB stay on the malloc heap (no page faults on reuse). */
  mallocRetain: boolean;
}

export interface KernelInfo { gemm: string; mr: number; nr: number; mc: number; kc: number; nc: number; hamming: string }

/** The raw addon surface (see src/native/addon.cc). */
export interface NativeAddon {
  cpuFeatures(): CpuFeatures;
  defaultIsa(): { isa: IsaVariant; notice: string };
  supportedIsas(): IsaVariant[];
  kernelInfo(isa: IsaVariant): KernelInfo;
  getThreads(): number;
  setThreads(n: number): void;
  adamStep(isa: IsaVariant, x: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, n: number,
    b1: number, b2: number, stepSize: number, invSqrtC2: number, eps: number, wd: number, lrWd: number, decoupled: boolean): void;
  reluForward(isa: IsaVariant, x: Float32Array, y: Float32Array, n: number): void;
  reluBackward(isa: IsaVariant, x: Float32Array, g: Float32Array, ga: Float32Array, n: number): void;
  reluMask(isa: IsaVariant, y: Float32Array, g: Float32Array, n: number): void;
  addColumnSums(isa: IsaVariant, dst: Float32Array, g: Float32Array, rows: number, cols: number): void;
  dotF32(a: Float32Array, b: Float32Array, n: number): number;
  dotsF32(a: Float32Array, bs: readonly Float32Array[], n: number, out: Float64Array): void;
  axpyF32(isa: IsaVariant, y: Float32Array, s: number, x: Float32Array, n: number): void;
  sgemm(isa: IsaVariant, transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number,
    a: Float32Array, lda: number, b: Float32Array, ldb: number, beta: number, c: Float32Array, ldc: number): void;
  fmaPeak(isa: IsaVariant, seconds: number, threads: number): number;
  /** bf16 GEMM and tuning report (addons built before them lack these; see gemm_bf16.cc, addon_train.cc). */
  sgemmBf16?(transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number,
    a: Float32Array, lda: number, b: Float32Array, ldb: number, beta: number, c: Float32Array, ldc: number): void;
  bf16Supported?(): boolean;
  /** Weight-gradient GEMM with the Adam update fused in (gemm_adam.cc; addons built before it lack it). */
  sgemmAdam?(isa: IsaVariant, transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number,
    a: Float32Array, lda: number, b: Float32Array, ldb: number, x: Float32Array, mState: Float32Array, vState: Float32Array,
    b1: number, b2: number, stepSize: number, invSqrtC2: number, eps: number, wd: number, lrWd: number, decoupled: boolean): void;
  /** The same arguments, avx512 only, with the gradient from the bf16 GEMM. */
  sgemmAdamBf16?: NativeAddon['sgemmAdam'];
  /** Weights in panel layout (gemm_panel.cc; addons built before it lack these). */
  panelAlign?(a: Float32Array): number;
  packPanels?(isa: IsaVariant, rows: number, cols: number, src: Float32Array, dst: Float32Array): void;
  unpackPanels?(isa: IsaVariant, rows: number, cols: number, src: Float32Array, dst: Float32Array): void;
  sgemmPanels?(isa: IsaVariant, m: number, n: number, k: number, alpha: number, a: Float32Array, lda: number, w: Float32Array,
    beta: number, c: Float32Array, ldc: number): void;
  sgemmAdamPanels?(isa: IsaVariant, transA: boolean, rows: number, n: number, k: number, alpha: number, a: Float32Array, lda: number,
    b: Float32Array, ldb: number, x: Float32Array, mState: Float32Array, vState: Float32Array,
    b1: number, b2: number, stepSize: number, invSqrtC2: number, eps: number, wd: number, lrWd: number, decoupled: boolean): void;
  bf16Peak?(seconds: number, threads: number): number;
  gemmTuning?(): GemmTuning;
  /** Grows this thread's malloc heap by touched, freed pages (addon_train.cc); bytes warmed. */
  warmHeap?(bytes: number): number;
  hammingDistances(isa: IsaVariant, query: Uint32Array, db: Uint32Array, n: number, words64: number, out: Uint16Array): void;
  hammingKnn(isa: IsaVariant, queries: Uint32Array, nq: number, db: Uint32Array, n: number, words64: number, k: number,
    outIds: Int32Array, outDist: Int32Array, threads: number): void;
  hammingRange(isa: IsaVariant, query: Uint32Array, db: Uint32Array, n: number, words64: number, r: number): { ids: Int32Array; dist: Int32Array };
  /** Validates a multi-index's tables once and returns a handle the probes use (it keeps the arrays alive). */
  mihPrepare(desc: Int32Array, arrays: (Uint32Array | Int32Array)[], n: number, words64: number): object;
  mihKnn(isa: IsaVariant, handle: object, queries: Uint32Array, nq: number, k: number, maxD: number, budget: number,
    outIds: Int32Array, outDist: Int32Array, outCount: Int32Array, threads: number): void;
  mihRange(isa: IsaVariant, handle: object, query: Uint32Array, r: number, budget: number): { ids: Int32Array; dist: Int32Array } | null;
  apBlock(isa: IsaVariant, queries: Uint32Array, nq: number, db: Uint32Array, n: number, words64: number, bits: number,
    qLabels: Uint32Array, dLabels: Uint32Array, labelWords: number, topK: Int32Array, cutoffs: Int32Array,
    hist: Int32Array, apSum: Float64Array, apKSum: Float64Array, relInK: Int32Array, relAtCut: Int32Array, threads: number): void;
}

/** Native handles of multi-index tables, made on first use (the tables are immutable once built). */
const mihHandles = new WeakMap<MihTables, object>();

let addon: NativeAddon | null | undefined;
const REQUIRED_KERNELS = ['sgemm', 'adamStep', 'reluForward', 'reluBackward', 'reluMask', 'addColumnSums', 'dotF32', 'dotsF32', 'axpyF32', 'hammingKnn', 'apBlock'];
let loadError: string | null = null;
let noticeShown = false;

/** Path of the compiled addon (build/Release/cmhash_native.node under the package root). */
export function nativeAddonPath(): string {
  const here = dirname(fileURLToPath(import.meta.url)); // dist/src/tensor
  return join(here, '..', '..', '..', 'build', 'Release', 'cmhash_native.node');
}

/** Loads the addon once; null (and nativeLoadError() says why) when it is missing or broken. */
export function loadNativeAddon(): NativeAddon | null {
  if (addon !== undefined) return addon;
  const p = nativeAddonPath();
  if (!existsSync(p)) { loadError = `addon not built (${p} missing)`; return (addon = null); }
  try {
    addon = createRequire(import.meta.url)(p) as NativeAddon;
    // An addon built from older sources lacks newer kernels: use the portable backend and say why.
    const missing = REQUIRED_KERNELS.filter((k) => typeof (addon as unknown as Record<string, unknown>)[k] !== 'function');
    if (missing.length) { loadError = `addon at ${p} is out of date (no ${missing.join(', ')}); rebuild it with \`node scripts/build-native.mjs\``; addon = null; }
  } catch (e) {
    loadError = (e as Error).message.split('\n')[0] ?? String(e);
    addon = null;
  }
  return addon;
}

export function nativeLoadError(): string | null { return loadError; }

export class NativeBackend implements Backend {
  readonly name = 'native' as const;

  constructor(private readonly lib: NativeAddon, readonly variant: IsaVariant) {
    if (variant === 'avx512' && lib.sgemmBf16 && lib.bf16Supported?.()) {
      const f = lib.sgemmBf16;
      this.sgemmBf16 = (transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) => f(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    }
    type Fused = NonNullable<NativeAddon['sgemmAdam']>;
    const bind = (f: Fused): NonNullable<Backend['gemmAdam']> => (transA, transB, m, n, k, alpha, a, lda, b, ldb, x, mState, vState, p) =>
      f(variant, transA, transB, m, n, k, alpha, a, lda, b, ldb, x, mState, vState, p.b1, p.b2, p.stepSize, p.invSqrtC2, p.eps, p.wd, p.lrWd, p.decoupled);
    if (lib.sgemmAdam) this.gemmAdam = bind(lib.sgemmAdam);
    if (this.sgemmBf16 && lib.sgemmAdamBf16) this.gemmAdamBf16 = bind(lib.sgemmAdamBf16);
    const { panelAlign, packPanels, unpackPanels, sgemmPanels, sgemmAdamPanels } = lib;
    if (panelAlign && packPanels && unpackPanels && sgemmPanels && sgemmAdamPanels) {
      const info = lib.kernelInfo(variant);
      this.panels = {
        nr: info.nr, kc: info.kc,
        // measured on the AVX2 kernel only (docs/experiments/2026-12-avx2-gemm.md, round 4);
        // CMHASH_PANEL_WEIGHTS=1 / 0 turns it on / off on any variant (for A/B measurements)
        preferred: process.env.CMHASH_PANEL_WEIGHTS === '1' || (process.env.CMHASH_PANEL_WEIGHTS !== '0' && variant === 'avx2'),
        alloc: (n) => {
          // 16 spare floats cover any start; an ArrayBuffer's data never moves
          const raw = new Float32Array(n + 16), skip = panelAlign(raw);
          return raw.subarray(skip, skip + n);
        },
        pack: (rows, cols, w, p) => packPanels(variant, rows, cols, w, p),
        unpack: (rows, cols, p, w) => unpackPanels(variant, rows, cols, p, w),
        sgemm: (m, n, k, alpha, a, lda, w, beta, c, ldc) => sgemmPanels(variant, m, n, k, alpha, a, lda, w, beta, c, ldc),
        gemmAdam: (transA, rows, n, k, alpha, a, lda, b, ldb, x, mState, vState, p) => sgemmAdamPanels(variant, transA, rows, n, k, alpha,
          a, lda, b, ldb, x, mState, vState, p.b1, p.b2, p.stepSize, p.invSqrtC2, p.eps, p.wd, p.lrWd, p.decoupled),
      };
    }
  }

  /** Weights in the kernel's panel layout (an own property when the addon has it; see Backend.panels). */
  panels?: PanelKernels;

  /** Weight-gradient GEMM with Adam fused in (an own property when the addon has it; see Backend.gemmAdam). */
  gemmAdam?: Backend['gemmAdam'];
  /** The same with the bf16 GEMM (own property only beside sgemmBf16). */
  gemmAdamBf16?: Backend['gemmAdamBf16'];

  sgemm(transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number,
    a: Float32Array, lda: number, b: Float32Array, ldb: number, beta: number, c: Float32Array, ldc: number): void {
    this.lib.sgemm(this.variant, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  }

  setThreads(n: number): void { this.lib.setThreads(Math.max(1, Math.floor(n))); }

  /** bf16 GEMM (set as an own property by the constructor only when the CPU has AVX512_BF16 and this variant is avx512). */
  sgemmBf16?: (transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number,
    a: Float32Array, lda: number, b: Float32Array, ldb: number, beta: number, c: Float32Array, ldc: number) => void;

  /** True when this backend has the bf16 GEMM. */
  hasBf16(): boolean { return this.sgemmBf16 !== undefined; }
  /** vdpbf16ps loop: GFLOP/s (2 FLOPs per product), or null without AVX512_BF16. */
  bf16Peak(seconds: number, threads = 1): number | null { return this.hasBf16() ? this.lib.bf16Peak!(seconds, threads) : null; }
  /** Cache sizes and the GEMM choice made for them, or null on an addon that predates it. */
  gemmTuning(): GemmTuning | null { return this.lib.gemmTuning ? this.lib.gemmTuning() : null; }
  /**
   * Adds `bytes` of already-touched pages to the calling thread's malloc heap (kept there while freed
   * memory is retained), so later allocations up to that size fault in no fresh pages; returns the
   * bytes warmed (0 when retention is off or the addon predates this).
   */
  warmHeap(bytes: number): number { return this.lib.warmHeap ? this.lib.warmHeap(bytes) : 0; }

  adamStep(x: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, n: number, p: AdamStepParams): void {
    this.lib.adamStep(this.variant, x, g, m, v, n, p.b1, p.b2, p.stepSize, p.invSqrtC2, p.eps, p.wd, p.lrWd, p.decoupled);
  }
  getThreads(): number { return this.lib.getThreads(); }

  relu(x: Float32Array, y: Float32Array, n: number): void { this.lib.reluForward(this.variant, x, y, n); }
  reluBackward(x: Float32Array, g: Float32Array, ga: Float32Array, n: number): void { this.lib.reluBackward(this.variant, x, g, ga, n); }
  reluMask(y: Float32Array, g: Float32Array, n: number): void { this.lib.reluMask(this.variant, y, g, n); }
  addColumnSums(dst: Float32Array, g: Float32Array, rows: number, cols: number): void { this.lib.addColumnSums(this.variant, dst, g, rows, cols); }
  dot(a: Float32Array, b: Float32Array, n: number): number { return this.lib.dotF32(a, b, n); }
  dots(a: Float32Array, bs: readonly Float32Array[], n: number, out: Float64Array): void { this.lib.dotsF32(a, bs, n, out); }
  axpy(y: Float32Array, s: number, x: Float32Array, n: number): void { this.lib.axpyF32(this.variant, y, s, x, n); }

  hammingDistances(query: Uint32Array, db: Uint32Array, n: number, words64: number, out: Uint16Array): void {
    this.lib.hammingDistances(this.variant, query, db, n, words64, out);
  }

  hammingKnn(queries: Uint32Array, nq: number, db: Uint32Array, n: number, words64: number, k: number,
    outIds: Int32Array, outDist: Int32Array): void {
    this.lib.hammingKnn(this.variant, queries, nq, db, n, words64, k, outIds, outDist, this.lib.getThreads());
  }

  hammingRange(query: Uint32Array, db: Uint32Array, n: number, words64: number, r: number): { ids: Int32Array; dist: Int32Array } {
    return this.lib.hammingRange(this.variant, query, db, n, words64, r);
  }

  mihKnn(tables: MihTables, queries: Uint32Array, nq: number, k: number, maxDistance: number, budget: number,
    outIds: Int32Array, outDist: Int32Array, outCount: Int32Array): void {
    this.lib.mihKnn(this.variant, this.mihHandle(tables), queries, nq, k, Math.min(maxDistance, 64 * tables.words64), budget,
      outIds, outDist, outCount, this.lib.getThreads());
  }

  mihRange(tables: MihTables, query: Uint32Array, r: number, budget: number): { ids: Int32Array; dist: Int32Array } | null {
    return this.lib.mihRange(this.variant, this.mihHandle(tables), query, Math.min(r, 64 * tables.words64), budget);
  }

  rankingBlock(b: RankingBlock): void {
    this.lib.apBlock(this.variant, b.queries, b.nq, b.db, b.n, b.words64, b.bits, b.qLabels, b.dLabels, b.labelWords,
      b.topK, b.cutoffs, b.hist, b.apSum, b.apKSum, b.relInK, b.relAtCut, this.lib.getThreads());
  }

  private mihHandle(tables: MihTables): object {
    let h = mihHandles.get(tables);
    if (!h) {
      const desc = new Int32Array(4 * tables.tables.length), arrays: (Uint32Array | Int32Array)[] = [];
      tables.tables.forEach((t, i) => {
        desc.set([t.offset, t.length, t.shift, Math.max(0, t.slots.length - 1)], 4 * i);
        arrays.push(t.starts, t.items, t.codes, t.slots, t.keys);
      });
      h = this.lib.mihPrepare(desc, arrays, tables.n, tables.words64);
      mihHandles.set(tables, h);
    }
    return h;
  }

  /** CPU features cpuid reports (the variant choice is made from these). */
  cpuFeatures(): CpuFeatures { return this.lib.cpuFeatures(); }
  /** Variants this CPU can run, best first. */
  supportedVariants(): IsaVariant[] { return this.lib.supportedIsas(); }
  /** Micro-kernel shape, cache blocking and Hamming kernel of this backend's variant. */
  kernelInfo(): KernelInfo { return this.lib.kernelInfo(this.variant); }
  /** Pure FMA loop (this variant's vector width) on `threads` threads for ~`seconds`: GFLOP/s. */
  fmaPeak(seconds: number, threads = 1): number { return this.lib.fmaPeak(this.variant, seconds, threads); }
}

/**
 * A native backend pinned to `variant` (default: the addon's choice, which honours CMHASH_ISA),
 * or null when the addon does not load. Throws when `variant` is not supported by this CPU.
 */
export function createNativeBackend(variant?: IsaVariant): NativeBackend | null {
  const lib = loadNativeAddon();
  if (!lib) return null;
  if (variant) {
    if (!lib.supportedIsas().includes(variant)) throw new Error(`ISA variant ${variant} is not supported by this CPU (supported: ${lib.supportedIsas().join(', ')})`);
    return new NativeBackend(lib, variant);
  }
  const d = lib.defaultIsa();
  if (d.notice && !noticeShown) { noticeShown = true; process.stderr.write(`cmhash: ${d.notice}\n`); }
  return new NativeBackend(lib, d.isa);
}
