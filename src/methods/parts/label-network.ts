// CCMH-GAM step 1: the label hashing network g (label vector → semantic code) and the codebook of
// stored distinct (label vector, code) pairs.
//
// g is a HashNet whose input is the label vector zero-padded to the current number of classes C;
// when a session brings new classes the first layer grows zero-initialised input rows
// (HashNet.growInput), so every old label vector keeps exactly its output at the moment of growth.
//
// Loss on the session's label vectors L (rows of H = tanh(g(L))), against themselves and against
// the stored codes B_old of earlier sessions (fixed), with Θ = ½·H·Aᵀ and S the label similarity
// (LabelSimilarity): 'shared' (CCMH-GAM's default) S = 1 when lᵢ and lⱼ share a class, else 0 — the
// relevance retrieval is scored with; 'cosine' S = cos(lᵢ, lⱼ), graded targets (the default of the
// functions here, and CCMH-GAM's before 2026-12). Both are 0/1 on single-label data.
//   similarity   mean(log(1 + e^Θ) − S ⊙ Θ)            (pairwise likelihood, soft targets)
//   quantization mean((H − sign(H))²)                    (codes near ±1)
//   balance      ‖mean_rows(H)‖² / c                     (each bit used half the time)
//   regulariser  mean‖tanh(g(l)) − b‖² / c over stored pairs (old semantics keep their codes)
// Choices the paper leaves open: a 2-layer ReLU net with tanh output; full-batch steps over the
// distinct label vectors (at most `batch` per step, sampled); weights below; a label vector already
// in the codebook keeps its stored code forever (new items with that label get that code).
import { Tensor, noGrad } from '../../tensor/tensor.js';
import * as ops from '../../tensor/ops.js';
import { Adam } from '../../nn/optim-adam.js';
import type { Rng } from '../../util/rng.js';
import { HashNet } from './hash-net.js';
import { getBackend } from '../../tensor/backends.js';
import { gatherBlock } from '../../data/dataset.js';

/**
 * Targets of the label net's pairwise likelihood (and of the code refinement) for two label vectors:
 * - 'shared': 1 when they share at least one class, else 0 — the relevance mAP is scored with. On
 *   multi-label data (MIRFlickr: 271 distinct vectors among 591 training items) the codes then keep
 *   every pair that shares a class close, and the modality nets learn codes that generalise to
 *   unseen items (docs/experiments/2026-12-ccmh-gam-multilabel.md: train validation mAP .607 → .686
 *   on the MIRFlickr photo rows, 32 bits).
 * - 'cosine': cos(lᵢ, lⱼ), graded targets (the earlier default): a pair sharing one class of four
 *   gets S = .25–.5, which the likelihood reads as "probably not similar".
 * Identical on single-label data (cosines of one-hot vectors are 0 or 1).
 */
export type LabelSimilarity = 'shared' | 'cosine';
export const LABEL_SIMILARITIES: readonly LabelSimilarity[] = ['shared', 'cosine'];

/**
 * Label similarities of rows `ri` of A against rows `rj` of B (unit-normalised label vectors, width
 * w): one SGEMM of the gathered rows gives the cosines; 'shared' turns every positive one into 1.
 */
function similarityBlock(A: Float32Array, ri: ArrayLike<number>, B: Float32Array, rj: ArrayLike<number>, w: number, kind: LabelSimilarity): Float32Array {
  const a = selectRows(A, ri, w), b = selectRows(B, rj, w);
  const out = new Float32Array(ri.length * rj.length);
  if (ri.length && rj.length) getBackend().sgemm(false, true, ri.length, rj.length, w, 1, a, w, b, w, 0, out, rj.length);
  // entries are sums of products of non-negative numbers: exactly 0 when no class is shared
  if (kind === 'shared') for (let i = 0; i < out.length; i++) out[i] = out[i]! > 0 ? 1 : 0;
  return out;
}

/** Rows `rows` of M (width w): M itself when they are all of its rows in order, else a gathered copy. */
function selectRows(M: Float32Array, rows: ArrayLike<number>, w: number): Float32Array {
  let identity = rows.length * w === M.length;
  for (let r = 0; identity && r < rows.length; r++) identity = rows[r] === r;
  if (identity) return M;
  const out = new Float32Array(rows.length * w);
  for (let r = 0; r < rows.length; r++) out.set(M.subarray(rows[r]! * w, (rows[r]! + 1) * w), r * w);
  return out;
}

/** Label-vector width that holds every key: 1 + the largest class id (at least 1). */
export function labelWidth(keys: string[]): number {
  let width = 1;
  for (const k of keys) if (k.length) for (const id of k.split(',')) width = Math.max(width, Number(id) + 1);
  return width;
}

/** Label vectors of keys, scaled to unit length (a zero vector stays zero: cosine 0). */
function unitVectors(keys: string[], width: number): Float32Array {
  const out = new Float32Array(keys.length * width);
  keys.forEach((k, i) => {
    const v = keyToVector(k, width);
    let n = 0; for (const x of v) n += x;
    if (n > 0) { const inv = 1 / Math.sqrt(n); for (let j = 0; j < width; j++) out[i * width + j] = v[j]! * inv; }
  });
  return out;
}

/** Above this many (new × anchor) label pairs the cosines are computed per step for the batch only. */
const PRECOMPUTED_COSINE_PAIRS = 4_000_000;

/** Active class ids of a label row, joined: a width-independent key for a label vector. */
export function labelKey(labels: Uint8Array, row: number, width: number): string {
  const on: number[] = [];
  for (let k = 0; k < width; k++) if (labels[row * width + k]) on.push(k);
  return on.join(',');
}

function keyToVector(key: string, width: number): Float32Array {
  const v = new Float32Array(width);
  if (key.length) for (const k of key.split(',')) v[Number(k)] = 1;
  return v;
}

/** The stored distinct (label vector, code) pairs of all sessions so far. */
export class LabelCodebook {
  readonly keys: string[] = [];
  readonly codes: Float32Array[] = [];
  private readonly byKey = new Map<string, number>();

  get size(): number { return this.keys.length; }
  has(key: string): boolean { return this.byKey.has(key); }
  code(key: string): Float32Array | undefined { const i = this.byKey.get(key); return i === undefined ? undefined : this.codes[i]; }
  add(key: string, code: Float32Array): void {
    if (this.byKey.has(key)) return; // a stored code never changes
    this.byKey.set(key, this.keys.length); this.keys.push(key); this.codes.push(code);
  }
}

export interface LabelTrainOptions {
  steps: number;
  learningRate: number;
  batch: number;
  quantization: number;
  balance: number;
  /** Weight of the stored-pair regulariser (0 turns it off: the fine-tune baseline). */
  regulariser: number;
  /** Use the stored codes as fixed anchors in the similarity loss. */
  anchorOnStored: boolean;
  /** Targets of the similarity loss (default 'cosine' here; CCMH-GAM passes its labelSimilarity). */
  similarity?: LabelSimilarity;
  rng: Rng;
}

/**
 * Trains the label net on the label vectors `newKeys` (distinct, not yet in the codebook).
 * Returns the averaged loss terms of the last 10% of steps.
 */
export function trainLabelNet(net: HashNet, width: number, newKeys: string[], book: LabelCodebook, o: LabelTrainOptions): Record<string, number> {
  const c = net.bits;
  if (newKeys.length === 0) return {};
  const newVecs = newKeys.map((k) => keyToVector(k, width));
  // Label cosines: computed once (new × new, new × stored) and gathered per step when that is at most
  // PRECOMPUTED_COSINE_PAIRS pairs (recomputing them per step dominated an increment on MIRFlickr);
  // beyond that (thousands of distinct multi-label vectors: 100k synthetic items, 8 sessions) the
  // full matrices would take GBs, so each step computes its batch's block by one SGEMM.
  const nNew = newKeys.length, nOld = o.anchorOnStored ? book.size : 0;
  const unitNew = unitVectors(newKeys, width);
  const unitOld = nOld ? unitVectors(book.keys, width) : new Float32Array(0);
  const all = (n: number) => Int32Array.from({ length: n }, (_, i) => i);
  const kind = o.similarity ?? 'cosine';
  const cosNew = nNew * nNew <= PRECOMPUTED_COSINE_PAIRS ? similarityBlock(unitNew, all(nNew), unitNew, all(nNew), width, kind) : null;
  const cosOld = nOld && nNew * nOld <= PRECOMPUTED_COSINE_PAIRS ? similarityBlock(unitNew, all(nNew), unitOld, all(nOld), width, kind) : null;
  const opt = new Adam(net.parameters(), { lr: o.learningRate });
  // The stored codes packed once (used as they are when a step anchors on all of them).
  const storedCodes = nOld ? new Float32Array(nOld * c) : null;
  if (storedCodes) book.codes.forEach((b, i) => storedCodes.set(b, i * c));
  let bookVectors: Float32Array[] | undefined;
  const acc: Record<string, number> = { similarity: 0, quantization: 0, balance: 0, regulariser: 0 };
  let accN = 0;
  const tail = Math.max(1, Math.floor(o.steps / 10));
  for (let step = 0; step < o.steps; step++) {
    // batch of new label vectors
    let idx: number[];
    if (newKeys.length <= o.batch) idx = newKeys.map((_, i) => i);
    else idx = Array.from(o.rng.permutation(newKeys.length).subarray(0, o.batch));
    const m = idx.length;
    const x = new Float32Array(m * width);
    idx.forEach((i, r) => x.set(newVecs[i]!, r * width));
    // anchors: the new batch itself and (sampled) stored codes
    let oldIdx: number[] = [];
    if (o.anchorOnStored && book.size > 0) oldIdx = book.size <= 2 * o.batch ? book.keys.map((_, i) => i) : Array.from(o.rng.permutation(book.size).subarray(0, 2 * o.batch));
    const allNew = m === nNew; // the batch is every new vector, in order
    let sNew: Float32Array;
    if (cosNew) sNew = allNew ? cosNew : gatherBlock(cosNew, nNew, idx, idx);
    else sNew = similarityBlock(unitNew, idx, unitNew, idx, width, kind);
    opt.zeroGrad();
    const h = net.forward(Tensor.wrap(m, width, x));
    const thetaNew = ops.mulScalar(ops.matmul(h, h, false, true), 0.5);
    let sim = ops.pairwiseLikelihood(thetaNew, Tensor.wrap(m, m, sNew));
    if (oldIdx.length) {
      const k = oldIdx.length;
      const allOld = k === nOld; // every stored code, in order
      const bOld = allOld && storedCodes ? storedCodes : new Float32Array(k * c);
      if (bOld !== storedCodes) oldIdx.forEach((i, j) => bOld.set(book.codes[i]!, j * c));
      let sOld: Float32Array;
      if (cosOld) sOld = allNew && allOld ? cosOld : gatherBlock(cosOld, nOld, idx, oldIdx);
      else sOld = similarityBlock(unitNew, idx, unitOld, oldIdx, width, kind);
      const thetaOld = ops.mulScalar(ops.matmul(h, Tensor.wrap(k, c, bOld), false, true), 0.5);
      const simOld = ops.pairwiseLikelihood(thetaOld, Tensor.wrap(m, k, sOld));
      sim = ops.mulScalar(ops.add(sim, simOld), 0.5);
    }
    const signs = new Float32Array(m * c);
    const hd = h.data;
    for (let i = 0; i < signs.length; i++) signs[i] = hd[i]! >= 0 ? 1 : -1;
    const quant = ops.mean(ops.square(ops.sub(h, Tensor.wrap(m, c, signs))));
    const bal = ops.mulScalar(ops.sum(ops.square(ops.mean(h, 0))), 1 / c);
    let loss = ops.add(ops.add(sim, ops.mulScalar(quant, o.quantization)), ops.mulScalar(bal, o.balance));
    let regValue = 0;
    if (o.regulariser > 0 && book.size > 0) {
      const ridx = book.size <= o.batch ? book.keys.map((_, i) => i) : Array.from(o.rng.permutation(book.size).subarray(0, o.batch));
      const k = ridx.length;
      const lx = new Float32Array(k * width), bx = new Float32Array(k * c);
      bookVectors ??= book.keys.map((key) => keyToVector(key, width)); // parsed once, not every step
      ridx.forEach((i, j) => { lx.set(bookVectors![i]!, j * width); bx.set(book.codes[i]!, j * c); });
      const reg = ops.mean(ops.square(ops.sub(net.forward(Tensor.wrap(k, width, lx)), Tensor.wrap(k, c, bx))));
      loss = ops.add(loss, ops.mulScalar(reg, o.regulariser));
      regValue = reg.item();
    }
    loss.backward();
    opt.step();
    if (step >= o.steps - tail) {
      acc.similarity! += sim.item(); acc.quantization! += quant.item(); acc.balance! += bal.item(); acc.regulariser! += regValue; accN++;
    }
  }
  for (const k of Object.keys(acc)) acc[k] = acc[k]! / Math.max(1, accN);
  return acc;
}

// The refinement's inner loops as small functions: they run a few times per session, and the JIT
// optimises a small function on its first long loop (inside refineNewCodes they ran unoptimised).

/** dot[j] += bᵢₖ · bit k of code j (one bit-major row). */
function accumulateDots(dot: Int32Array, bitsT: Int8Array, row: number, bik: number, n: number): void {
  for (let j = 0; j < n; j++) dot[j] += bik * bitsT[row + j]!;
}

/** Change of the pairwise loss when bit k (row) of code i flips. */
function flipDelta(dot: Int32Array, bitsT: Int8Array, row: number, bik: number, i: number, n: number, c: number, S: Float32Array, softplusOfDot: Float64Array): number {
  let delta = 0;
  for (let j = 0; j < n; j++) {
    if (j === i) continue;
    const dd = -2 * bik * bitsT[row + j]!; // dot change when bit k of bᵢ flips
    delta += softplusOfDot[dot[j]! + dd + c]! - softplusOfDot[dot[j]! + c]! - S[j]! * (dd / 2);
  }
  return delta;
}

function applyFlip(dot: Int32Array, bitsT: Int8Array, row: number, bik: number, i: number, n: number): void {
  for (let j = 0; j < n; j++) if (j !== i) dot[j] = dot[j]! - 2 * bik * bitsT[row + j]!;
}

/** sign(g(l)) for label keys. */
export function labelCodes(net: HashNet, width: number, keys: string[]): Float32Array[] {
  if (keys.length === 0) return [];
  const x = new Float32Array(keys.length * width);
  keys.forEach((k, i) => x.set(keyToVector(k, width), i * width));
  const out = noGrad(() => net.infer(x, keys.length));
  const c = net.bits;
  return keys.map((_, i) => { const b = new Float32Array(c); for (let j = 0; j < c; j++) b[j] = out[i * c + j]! >= 0 ? 1 : -1; return b; });
}

export { keyToVector };

/**
 * Discrete refinement of the codes proposed by the label net for new label vectors (a choice of
 * ours, not in the paper): bit-wise coordinate descent on the same pairwise likelihood the label
 * net is trained with, f(Θ) = log(1 + e^Θ) − S·Θ with Θ = ½ bᵢᵀbⱼ and S the label similarity
 * (`opts.similarity`, LabelSimilarity; default cosine), summed over
 * every other code — the stored codes of old sessions (fixed) and the other new codes. A flip of bit
 * k of bᵢ is kept when it lowers that sum. Why: the label net starts new classes from nearly equal
 * outputs and its soft loss leaves some new codes close to each other or to an old code (Wikipedia
 * 4+3+3 seed 1: a new class at Hamming 11 of 32 from an old one, another pair at 14), and queries of
 * those classes then retrieve the other class's items. Each sweep costs O(new × all × c); codes of
 * the codebook (old pairs) are never changed. Returns the number of flips made.
 */
export function refineNewCodes(newKeys: string[], codes: Float32Array[], book: LabelCodebook, sweeps = 4,
  opts: { counts?: ArrayLike<number>; maxPairs?: number; similarity?: LabelSimilarity } = {}): number {
  const m = newKeys.length;
  if (m === 0) return 0;
  const c = codes[0]!.length;
  const keys = [...newKeys, ...book.keys];
  const n = keys.length;
  // Cost bound: a sweep is O(refined × n × c). With thousands of distinct multi-label vectors per
  // session (synthetic 100k, 8 sessions) refining all of them took a minute per session, so only the
  // `maxPairs / n` most frequent new vectors (by `counts`; all of them on Wikipedia and MIRFlickr)
  // are refined, in their original order; the others keep the label net's code.
  const budget = Math.max(1, Math.floor((opts.maxPairs ?? 1_000_000) / n));
  let refine = Array.from({ length: m }, (_, i) => i);
  if (m > budget) {
    const cnt = opts.counts;
    refine = refine.sort((a, b) => (cnt ? cnt[b]! - cnt[a]! : 0) || a - b).slice(0, budget).sort((a, b) => a - b);
  }
  // Codes bit-major (bit k of every code contiguous) so a flip's scan over all codes reads one row.
  const bitsT = new Int8Array(c * n);
  for (let j = 0; j < n; j++) { const b = j < m ? codes[j]! : book.codes[j - m]!; for (let k = 0; k < c; k++) bitsT[k * n + j] = b[k]! >= 0 ? 1 : -1; }
  // Label similarities of the refined vectors against all: one SGEMM of unit label vectors.
  const width = labelWidth(keys);
  const unit = unitVectors(keys, width);
  const cos = similarityBlock(unit, refine, unit, Int32Array.from({ length: n }, (_, j) => j), width, opts.similarity ?? 'cosine');
  // Θ = ½·dot with dot ∈ {−c, −c+2, …, c}: softplus is tabulated by dot, so a flip's effect on one
  // pair, softplus(Θ ∓ 1) − softplus(Θ) − S·(∓1), is two table reads (no exp in the inner loop).
  const softplusOfDot = new Float64Array(2 * c + 1);
  for (let d = -c; d <= c; d++) { const t = d / 2; softplusOfDot[d + c] = t > 0 ? t + Math.log1p(Math.exp(-t)) : Math.log1p(Math.exp(t)); }
  let flips = 0;
  const dot = new Int32Array(n);
  for (let sweep = 0; sweep < sweeps; sweep++) {
    let changed = 0;
    for (let r = 0; r < refine.length; r++) {
      const i = refine[r]!;
      const S = cos.subarray(r * n, (r + 1) * n);
      dot.fill(0);
      for (let k = 0; k < c; k++) accumulateDots(dot, bitsT, k * n, bitsT[k * n + i]!, n);
      for (let k = 0; k < c; k++) {
        const row = k * n, bik = bitsT[row + i]!;
        if (flipDelta(dot, bitsT, row, bik, i, n, c, S, softplusOfDot) < -1e-9) {
          applyFlip(dot, bitsT, row, bik, i, n);
          bitsT[row + i] = -bik as -1 | 1;
          changed++;
        }
      }
    }
    flips += changed;
    if (changed === 0) break;
  }
  for (const i of refine) { const b = codes[i]!; for (let k = 0; k < c; k++) b[k] = bitsT[k * n + i]!; }
  return flips;
}
