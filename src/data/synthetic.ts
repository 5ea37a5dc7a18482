// Synthetic cross-modal data, deterministic from a seed, of any size.
//
// Model: each item has a latent z ~ N(0, I_L). Class c fires when w_c·z > b_c (w_c unit vectors
// that are not orthogonal, so labels co-occur like real concepts; b_c set from per-class
// frequencies calibrated on a fixed sample, so thresholds do not depend on n). An item with no
// firing class takes its closest one, so every item has ≥ 1 label. The two modalities are
// different nonlinear maps of h = [z, y] plus noise:
//   image = max(0, sp(A2·tanh(A1·h)) + σ·ε)   sp(s) = (s + √(s²+1))/2, a cheap smooth ReLU; dense, non-negative
//   text  = 1[B2·relu(B1·h) + σ·ε > τ_j]                    sparse binary (τ_j gives the density)
// so a supervised hasher can recover the label structure from either side (tests check this).
// Items are generated in blocks whose maps are matrix products on the active backend, so 1M
// items take seconds (bulk noise uses Rng.normalFast); the numbers are bit-identical for a seed on one backend.
import { InputError } from '../util/errors.js';
import { Rng } from '../util/rng.js';
import { getBackend } from '../tensor/backends.js';
import { Dataset } from './dataset.js';
import { standardSplits } from './presets/common.js';

export interface SyntheticOptions {
  n: number;
  numLabels?: number;
  imageDim?: number;
  textDim?: number;
  latentDim?: number;
  seed?: number;
  /** Feature noise σ (default 0.3). */
  noise?: number;
  /** Fraction of text features that are 1 (default 0.05). */
  textDensity?: number;
  querySize?: number;
  trainSize?: number;
}

interface Model {
  L: number; C: number; W: Float32Array; b: Float32Array;
}

const CALIBRATION = 4096;

function labelModel(C: number, L: number, rng: Rng): Model {
  const W = new Float32Array(C * L);
  rng.fillNormal(W);
  for (let c = 0; c < C; c++) { let s = 0; for (let k = 0; k < L; k++) s += W[c * L + k]! ** 2; const r = 1 / Math.sqrt(s); for (let k = 0; k < L; k++) W[c * L + k]! *= r; }
  // Class frequencies between 3% and 30% (long-tailed like real concept sets).
  const freq = Array.from({ length: C }, () => 0.03 + 0.27 * rng.uniform() ** 2);
  const cal = rng.fork(); const z = new Float32Array(L); const scores: number[][] = Array.from({ length: C }, () => []);
  for (let i = 0; i < CALIBRATION; i++) { cal.fillNormal(z); for (let c = 0; c < C; c++) { let s = 0; for (let k = 0; k < L; k++) s += W[c * L + k]! * z[k]!; scores[c]!.push(s); } }
  const b = new Float32Array(C);
  for (let c = 0; c < C; c++) { const s = scores[c]!.sort((x, y) => x - y); b[c] = s[Math.floor((1 - freq[c]!) * (CALIBRATION - 1))]!; }
  return { L, C, W, b };
}

function labelsFor(z: Float32Array, m: Model, out: Uint8Array): void {
  let best = -Infinity; let bestC = 0; let any = false;
  for (let c = 0; c < m.C; c++) {
    let s = -m.b[c]!; for (let k = 0; k < m.L; k++) s += m.W[c * m.L + k]! * z[k]!;
    if (s > 0) { out[c] = 1; any = true; } else out[c] = 0;
    if (s > best) { best = s; bestC = c; }
  }
  if (!any) out[bestC] = 1;
}

/** Labels only (n × C), for scale tests: ~1M items per second or so. */
export function syntheticLabels(n: number, o: { numLabels?: number; latentDim?: number; seed?: number } = {}): Uint8Array {
  const C = o.numLabels ?? 24; const L = o.latentDim ?? 8;
  const rng = new Rng(o.seed ?? 0); const m = labelModel(C, L, rng.fork());
  const labels = new Uint8Array(n * C); const z = new Float32Array(L); const items = rng.fork();
  for (let i = 0; i < n; i++) { items.fillNormal(z); labelsFor(z, m, labels.subarray(i * C, (i + 1) * C)); }
  return labels;
}

/**
 * Labels plus ±1 codes in which items sharing labels have close codes (prototype per class, sum,
 * sign, then each bit flipped with probability `flip`). For index/eval benchmarks at any scale.
 */
export function syntheticCodes(n: number, bits: number, o: { numLabels?: number; seed?: number; flip?: number } = {}): { labels: Uint8Array; codes: Int8Array; numLabels: number } {
  const C = o.numLabels ?? 24; const flip = o.flip ?? 0.1;
  const labels = syntheticLabels(n, { numLabels: C, seed: o.seed });
  const rng = new Rng((o.seed ?? 0) ^ 0x2545f491);
  const proto = new Int8Array(C * bits); for (let i = 0; i < proto.length; i++) proto[i] = rng.nextU32() & 1 ? 1 : -1;
  const codes = new Int8Array(n * bits); const acc = new Int32Array(bits);
  const flipT = Math.floor(flip * 4294967296);
  for (let i = 0; i < n; i++) {
    acc.fill(0);
    for (let c = 0; c < C; c++) if (labels[i * C + c]) for (let b = 0; b < bits; b++) acc[b]! += proto[c * bits + b]!;
    for (let b = 0; b < bits; b++) {
      // One draw per bit: its low bit breaks ties, the rest decides the flip.
      const r = rng.nextU32();
      let v = acc[b]! > 0 ? 1 : acc[b]! < 0 ? -1 : (r & 1 ? 1 : -1);
      if (r >>> 1 < flipT >>> 1) v = -v;
      codes[i * bits + b] = v;
    }
  }
  return { labels, codes, numLabels: C };
}

function randomMatrix(rows: number, cols: number, rng: Rng, scale: number): Float32Array {
  const m = new Float32Array(rows * cols); rng.fillNormal(m, 0, scale); return m;
}

/** Items generated per block: the maps run as matrix products on the active backend. */
const BLOCK = 4096;

/** A full synthetic dataset with both modalities and the standard seeded splits. */
export function generateSynthetic(o: SyntheticOptions): Dataset {
  const n = o.n; const C = o.numLabels ?? 24; const L = o.latentDim ?? 8;
  const dI = o.imageDim ?? 128; const dT = o.textDim ?? 256; const sigma = o.noise ?? 0.3; const density = o.textDensity ?? 0.05;
  if (!Number.isInteger(n) || n < 2) throw new InputError(`synthetic: n must be an integer ≥ 2, got ${n}`);
  if (!(density > 0 && density < 1)) throw new InputError(`synthetic: textDensity must be in (0, 1), got ${density}`);
  const rng = new Rng(o.seed ?? 0);
  const m = labelModel(C, L, rng.fork());
  const H = L + C; const hid = 64;
  const wr = rng.fork();
  const A1 = randomMatrix(hid, H, wr, 1 / Math.sqrt(H)); const A2 = randomMatrix(dI, hid, wr, 1.5 / Math.sqrt(hid));
  const B1 = randomMatrix(hid, H, wr, 1 / Math.sqrt(H)); const B2 = randomMatrix(dT, hid, wr, 1.5 / Math.sqrt(hid));
  const gemm = getBackend();
  // Scratch for one block: semantic inputs h = [z, 2y−1], hidden activations, outputs.
  const h = new Float32Array(BLOCK * H); const a = new Float32Array(BLOCK * hid);
  const textScore = new Float32Array(BLOCK * dT); const z = new Float32Array(L);

  /** Latents and labels of `rows` items into h (and labels into `y`). */
  const semantic = (rows: number, zr: Rng, y: Uint8Array) => {
    for (let i = 0; i < rows; i++) {
      zr.fillNormal(z);
      const yi = y.subarray(i * C, (i + 1) * C); labelsFor(z, m, yi);
      const hi = i * H;
      for (let k = 0; k < L; k++) h[hi + k] = z[k]!;
      for (let c = 0; c < C; c++) h[hi + L + c] = 2 * yi[c]! - 1;
    }
  };
  /** Text scores B2·relu(B1·h) + σε for the block in h. */
  const textScores = (rows: number, nr: Rng) => {
    gemm.sgemm(false, true, rows, hid, H, 1, h, H, B1, H, 0, a, hid);
    for (let i = 0; i < rows * hid; i++) if (a[i]! < 0) a[i] = 0;
    gemm.sgemm(false, true, rows, dT, hid, 1, a, hid, B2, hid, 0, textScore, dT);
    for (let i = 0; i < rows * dT; i++) textScore[i]! += sigma * nr.normalFast();
  };
  // Per-column text thresholds from a fixed calibration sample (independent of n).
  const CAL = 1024;
  const tau = new Float32Array(dT);
  {
    const cal = rng.fork(); const y = new Uint8Array(CAL * C);
    semantic(CAL, cal, y); textScores(CAL, cal);
    const col = new Float32Array(CAL);
    for (let j = 0; j < dT; j++) {
      for (let i = 0; i < CAL; i++) col[i] = textScore[i * dT + j]!;
      col.sort(); tau[j] = col[Math.floor((1 - density) * (CAL - 1))]!;
    }
  }
  const labels = new Uint8Array(n * C); const image = new Float32Array(n * dI); const text = new Float32Array(n * dT);
  const items = rng.fork(); const noiseRng = rng.fork();
  for (let start = 0; start < n; start += BLOCK) {
    const rows = Math.min(BLOCK, n - start);
    semantic(rows, items, labels.subarray(start * C, (start + rows) * C));
    // image = max(0, sp(A2·tanh(A1·h)) + σε), written straight into the output rows
    gemm.sgemm(false, true, rows, hid, H, 1, h, H, A1, H, 0, a, hid);
    for (let i = 0; i < rows * hid; i++) a[i] = Math.tanh(a[i]!);
    const img = image.subarray(start * dI, (start + rows) * dI);
    gemm.sgemm(false, true, rows, dI, hid, 1, a, hid, A2, hid, 0, img, dI);
    for (let i = 0; i < img.length; i++) {
      const s = img[i]!;
      const v = 0.5 * (s + Math.sqrt(s * s + 1)) + sigma * noiseRng.normalFast();
      img[i] = v > 0 ? v : 0;
    }
    textScores(rows, noiseRng);
    const txt = text.subarray(start * dT, (start + rows) * dT);
    for (let i = 0; i < rows; i++) for (let j = 0; j < dT; j++) txt[i * dT + j] = textScore[i * dT + j]! > tau[j]! ? 1 : 0;
  }
  const splits = standardSplits(n, { querySize: o.querySize ?? Math.min(1000, Math.max(1, Math.floor(n / 10))), trainSize: o.trainSize ?? n, seed: (o.seed ?? 0) + 7 });
  return new Dataset({ name: `synthetic(n=${n}, seed=${o.seed ?? 0})`, image, imageDim: dI, text, textDim: dT, labels,
    labelNames: Array.from({ length: C }, (_, c) => `class${c}`), ids: Array.from({ length: n }, (_, i) => `s${i}`), splits, source: 'synthetic' });
}
