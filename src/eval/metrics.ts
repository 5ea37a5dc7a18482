// Exact retrieval metrics over Hamming ranking (docs/design.md, "Metrics"):
// - relevant ⇔ query and item share >= 1 label; ranking by distance, ties by database index;
// - AP_q = (1/R_q) Σ_{k: rel_k} (#rel in top k)/k; a query with no relevant item has AP 0;
// - mAP@K: the ranking cut at K, divided by the number of relevant items in the top K (0 if none);
// - P@N / R@N averaged over all queries (a query with no relevant item has recall 0);
// - PR by Hamming radius micro-averaged over all query–database pairs (DCMH convention):
//   P(r) = Σ_q |rel ∩ {d <= r}| / Σ_q |{d <= r}| (0 when nothing is retrieved), R(r) = Σ_q |rel ∩ {d <= r}| / Σ_q R_q.
//
// Work is per query block through the backend's fused kernel (rankingBlock: native
// src/native/eval_ap.cc, queries split across threads; portable twin in src/tensor/backend-js.ts,
// bit-identical): per query, pass 1 computes distance + relevance keys and their histogram (the
// counting sort's bucket starts), pass 2 walks items in database order and reads each item's rank
// from a per-distance cursor — exactly the position a stable counting sort would give it. The
// ranking itself is never materialised; memory is O(N) per thread.
import type { PackedCodes } from '../codes/packed-codes.js';
import { InputError } from '../util/errors.js';
import { getBackend, getJsBackend } from '../tensor/backends.js';
import { checkSameClasses, labelCosineRow, packLabels, type PackedLabels } from './relevance.js';
import { checkSameWidth, distanceBlock, hammingOrder } from './ranking.js';

const DEFAULT_BLOCK = 256;

export interface RetrievalInput {
  queries: PackedCodes;
  database: PackedCodes;
  /** queries.count × classes, 0/1. */
  queryLabels: Uint8Array;
  /** database.count × classes, 0/1. */
  databaseLabels: Uint8Array;
  classes: number;
}

export interface RetrievalOptions {
  /** Cut-offs K for mAP@K. */
  topK?: readonly number[];
  /** Cut-offs N for the P@N / R@N curves. */
  cutoffs?: readonly number[];
  /** Queries per kernel call (default 256; memory is O(N) per thread whatever the block). */
  blockSize?: number;
}

export interface RetrievalMetrics {
  queries: number;
  database: number;
  bits: number;
  mapAll: number;
  perQueryAP: Float64Array;
  /** mAP@K for each requested K. */
  mapAtK: { k: number; map: number }[];
  /** P@N and R@N for each requested N. */
  curve: { n: number[]; precision: Float64Array; recall: Float64Array };
  /** Micro-averaged precision/recall for radius r = 0..bits (index = radius). */
  byRadius: { precision: Float64Array; recall: Float64Array };
  /** The by-radius curve at r = 2. */
  radius2: { precision: number; recall: number };
}

/** Checks the input shapes and packs the labels. */
export function prepareInput(input: RetrievalInput): { ql: PackedLabels; dl: PackedLabels } {
  checkSameWidth(input.queries, input.database);
  const ql = packLabels(input.queryLabels, input.queries.count, input.classes, 'query labels');
  const dl = packLabels(input.databaseLabels, input.database.count, input.classes, 'database labels');
  checkSameClasses(ql, dl);
  return { ql, dl };
}

function checkCutoffs(list: readonly number[] | undefined, what: string): number[] {
  const out = [...(list ?? [])];
  for (const v of out) if (!Number.isInteger(v) || v <= 0) throw new InputError(`${what}: cut-offs must be positive integers, got ${v}`);
  return out;
}

/** Every ranking metric in one pass over the data. */
export function evaluateRetrieval(input: RetrievalInput, opts: RetrievalOptions = {}): RetrievalMetrics {
  const { ql, dl } = prepareInput(input);
  const topK = checkCutoffs(opts.topK, 'mAP@K');
  const cutoffs = checkCutoffs(opts.cutoffs, 'P@N');
  const sortedCut = [...cutoffs].sort((a, b) => a - b);
  const nq = input.queries.count, n = input.database.count, bits = input.queries.bits;
  const block = Math.max(1, Math.min(opts.blockSize ?? DEFAULT_BLOCK, nq || 1));

  const be = getBackend(), kernel = be.rankingBlock ? be : getJsBackend();
  const H = 2 * (bits + 1), T = topK.length, S = sortedCut.length;
  const topKArr = Int32Array.from(topK), cutArr = Int32Array.from(sortedCut);
  const hist = new Int32Array(block * H), apSum = new Float64Array(block);
  const apKSum = new Float64Array(block * T), relInK = new Int32Array(block * T), relAtCut = new Int32Array(block * S);
  const retrieved = new Float64Array(bits + 1), relRetrieved = new Float64Array(bits + 1);
  const perQueryAP = new Float64Array(nq);
  const sumApK = new Float64Array(T), sumP = new Float64Array(S), sumR = new Float64Array(S);
  const qs = input.queries.stride, lw = ql.words;
  let totalRel = 0;

  for (let q0 = 0; q0 < nq; q0 += block) {
    const q1 = Math.min(nq, q0 + block), nb = q1 - q0;
    // fused kernel: distances, relevance, (distance, relevant) histogram and the AP sums of the
    // stable counting-sort ranking, per query (src/native/eval_ap.cc, or its portable twin)
    kernel.rankingBlock!({
      queries: input.queries.data.subarray(q0 * qs, q1 * qs), nq: nb, db: input.database.data, n,
      words64: input.queries.words64, bits, qLabels: ql.masks.subarray(q0 * lw, q1 * lw), dLabels: dl.masks, labelWords: lw,
      topK: topKArr, cutoffs: cutArr, hist, apSum, apKSum, relInK, relAtCut,
    });
    for (let b = 0; b < nb; b++) {
      const q = q0 + b, h2 = hist.subarray(b * H, (b + 1) * H);
      let cum = 0, cumRel = 0;
      for (let d = 0; d <= bits; d++) {
        const relHere = h2[2 * d + 1]!;
        cum += h2[2 * d]! + relHere; cumRel += relHere;
        retrieved[d]! += cum; relRetrieved[d]! += cumRel;
      }
      const rq = cumRel;
      totalRel += rq;
      if (rq === 0) continue; // AP, AP@K, P@N, R@N all 0
      perQueryAP[q] = apSum[b]! / rq;
      for (let t = 0; t < T; t++) if (relInK[b * T + t]! > 0) sumApK[t]! += apKSum[b * T + t]! / relInK[b * T + t]!;
      for (let t = 0; t < S; t++) {
        sumP[t]! += relAtCut[b * S + t]! / sortedCut[t]!;
        sumR[t]! += relAtCut[b * S + t]! / rq;
      }
    }
  }

  let mapAll = 0;
  for (let q = 0; q < nq; q++) mapAll += perQueryAP[q]!;
  const precision = new Float64Array(bits + 1), recall = new Float64Array(bits + 1);
  for (let d = 0; d <= bits; d++) {
    precision[d] = retrieved[d]! > 0 ? relRetrieved[d]! / retrieved[d]! : 0;
    recall[d] = totalRel > 0 ? relRetrieved[d]! / totalRel : 0;
  }
  const curveP = new Float64Array(cutoffs.length), curveR = new Float64Array(cutoffs.length);
  cutoffs.forEach((c, i) => {
    const t = sortedCut.indexOf(c);
    curveP[i] = nq ? sumP[t]! / nq : 0; curveR[i] = nq ? sumR[t]! / nq : 0;
  });
  const r2 = Math.min(2, bits);
  return {
    queries: nq, database: n, bits,
    mapAll: nq ? mapAll / nq : 0,
    perQueryAP,
    mapAtK: topK.map((k, t) => ({ k, map: nq ? sumApK[t]! / nq : 0 })),
    curve: { n: cutoffs, precision: curveP, recall: curveR },
    byRadius: { precision, recall },
    radius2: { precision: precision[r2]!, recall: recall[r2]! },
  };
}

/** mAP@all (topK undefined) or mAP@K. */
export function meanAveragePrecision(input: RetrievalInput, topK?: number): number {
  if (topK === undefined) return evaluateRetrieval(input).mapAll;
  return evaluateRetrieval(input, { topK: [topK] }).mapAtK[0]!.map;
}

/** Per-query AP (mAP@all's terms). */
export function averagePrecisionPerQuery(input: RetrievalInput): Float64Array {
  return evaluateRetrieval(input).perQueryAP;
}

/** P@N and R@N at the given cut-offs. */
export function precisionRecallAtN(input: RetrievalInput, cutoffs: readonly number[]): { n: number[]; precision: Float64Array; recall: Float64Array } {
  return evaluateRetrieval(input, { cutoffs }).curve;
}

/** Micro-averaged precision/recall within Hamming radius r (d <= r). */
export function precisionRecallWithinRadius(input: RetrievalInput, r = 2): { precision: number; recall: number } {
  if (!Number.isInteger(r) || r < 0) throw new InputError(`radius must be a non-negative integer, got ${r}`);
  const m = evaluateRetrieval(input);
  const rr = Math.min(r, m.bits);
  return { precision: m.byRadius.precision[rr]!, recall: m.byRadius.recall[rr]! };
}

/**
 * NDCG@K with graded relevance = cosine between label vectors (for multi-label data where
 * "shares a label" is too coarse). Gain 2^rel − 1, discount log2(rank + 1); ties by index;
 * a query whose ideal DCG is 0 scores 0.
 */
export function ndcgAtK(input: RetrievalInput, k: number): number {
  if (!Number.isInteger(k) || k <= 0) throw new InputError(`NDCG@K: K must be a positive integer, got ${k}`);
  const { ql, dl } = prepareInput(input);
  const nq = input.queries.count, n = input.database.count, bits = input.queries.bits;
  const dist = new Uint16Array(n), order = new Int32Array(n), gains = new Float64Array(n);
  const top = new Float64Array(Math.min(k, n));
  let total = 0;
  for (let q = 0; q < nq; q++) {
    distanceBlock(input.queries, q, q + 1, input.database, dist);
    labelCosineRow(ql, q, dl, gains);
    hammingOrder(dist, n, bits, order);
    let dcg = 0;
    for (let r = 0; r < top.length; r++) dcg += (2 ** gains[order[r]!]! - 1) / Math.log2(r + 2);
    // ideal: the K largest gains (kept sorted descending; K is small)
    top.fill(-1);
    for (let i = 0; i < n; i++) {
      const g = gains[i]!;
      if (g <= top[top.length - 1]!) continue;
      let j = top.length - 1;
      while (j > 0 && top[j - 1]! < g) { top[j] = top[j - 1]!; j--; }
      top[j] = g;
    }
    let idcg = 0;
    for (let r = 0; r < top.length; r++) if (top[r]! > 0) idcg += (2 ** top[r]! - 1) / Math.log2(r + 2);
    if (idcg > 0) total += dcg / idcg;
  }
  return nq ? total / nq : 0;
}
