// Chance level of a query/database split (docs/design.md, "Metrics"): the expected mAP of a
// uniformly random ranking of the database, under the same conventions as metrics.ts — relevant ⇔
// query and item share ≥ 1 label (relevance.ts), AP_q = (1/R_q) Σ over relevant ranks k of
// (relevant in top k)/k, and a query with no relevant item scores 0 and counts in the mean.
//
// E[AP] for R relevant items among N, ranking uniform over the N! orders. By symmetry every relevant
// item contributes the same; it sits at rank k with probability 1/N, and then each of the other
// R − 1 relevant items is among the k − 1 items above it with probability (k − 1)/(N − 1):
//   E[precision at its rank] = (1/N) Σ_k [1 + (R−1)(k−1)/(N−1)] / k
//   E[AP] = (1/N) · [H_N + (R−1)/(N−1) · (N − H_N)]        (H_N the N-th harmonic number)
// (N = 1, R = 1: AP = 1). mAP@K (metrics.ts divides by the m relevant items within the top K, 0 if
// m = 0): given m, their places in the top K are uniform, so E[AP@K | m] is the formula above with
// (K, m) for (N, R); it is linear in m, so only P(m ≥ 1) and E[m] = K·R/N of the hypergeometric m
// are needed: E[AP@K] = (1/K)·[H_K·P(m≥1) + (K − H_K)/(K − 1)·(E[m] − P(m≥1))].
//
// Relevant counts: queries and database items are grouped by distinct label vector, so the work is
// (distinct query vectors × distinct database vectors × label words), not queries × items.
import { InputError } from '../util/errors.js';
import { packLabels, type PackedLabels } from './relevance.js';

export interface ChanceOptions {
  /** Cut-offs K for the chance level of mAP@K (as metrics.ts's topK). */
  topK?: readonly number[];
}

export interface ChanceLevel {
  queries: number;
  database: number;
  /** Expected mAP@all of a uniformly random ranking. */
  mapAll: number;
  /** Expected mAP@K for each requested K. */
  mapAtK: { k: number; map: number }[];
  /** Queries with no relevant database item (AP 0 under any ranking). */
  queriesWithoutRelevant: number;
  /** Mean over queries of R_q / N: the expected precision at any rank. */
  meanRelevantShare: number;
  /** Expected AP@all per query (0 where R_q = 0): the chance level of any subset of the queries is their mean. */
  perQuery: Float64Array;
}

/** H_n = Σ_{k=1..n} 1/k (summed from the small terms up). */
export function harmonic(n: number): number {
  let h = 0;
  for (let k = n; k >= 1; k--) h += 1 / k;
  return h;
}

function checkCounts(n: number, r: number): void {
  if (!Number.isInteger(n) || n < 0 || !Number.isInteger(r) || r < 0 || r > n) throw new InputError(`chance: need integers 0 ≤ R ≤ N, got N = ${n}, R = ${r}`);
}

/** E[AP] of a uniformly random ranking of N items, R of them relevant (0 when R = 0). `hN` = H_N if known. */
export function expectedAP(n: number, r: number, hN?: number): number {
  checkCounts(n, r);
  if (r === 0) return 0;
  if (n === 1) return 1;
  const h = hN ?? harmonic(n);
  return (h + ((r - 1) / (n - 1)) * (n - h)) / n;
}

/** P(no relevant item in the top K) for R relevant among N (hypergeometric, K ≤ N). */
function probNoneInTop(n: number, r: number, k: number): number {
  if (k > n - r) return 0;
  let p = 1;
  for (let i = 0; i < k && p > 0; i++) p *= (n - r - i) / (n - i);
  return p;
}

/**
 * E[AP@K] of a uniformly random ranking (metrics.ts convention: divided by the relevant items in
 * the top K, 0 when there are none); K ≥ N is mAP@all. `hK` = H_min(K,N) if known.
 */
export function expectedAPAtK(n: number, r: number, k: number, hK?: number): number {
  checkCounts(n, r);
  if (!Number.isInteger(k) || k <= 0) throw new InputError(`chance: K must be a positive integer, got ${k}`);
  if (r === 0) return 0;
  const kk = Math.min(k, n);
  if (kk === n) return expectedAP(n, r, hK);
  const h = hK ?? harmonic(kk);
  const pAny = 1 - probNoneInTop(n, r, kk);
  if (kk === 1) return pAny; // AP@1 is 1 exactly when the first item is relevant
  const em = (kk * r) / n;
  return (h * pAny + ((kk - h) / (kk - 1)) * (em - pAny)) / kk;
}

/** Distinct label vectors of a packed label matrix with their multiplicities. */
function distinctRows(p: PackedLabels): { masks: Uint32Array; count: number[]; rowGroup: Int32Array } {
  const w = p.words, at = new Map<string, number>(), count: number[] = [], rowGroup = new Int32Array(p.rows);
  const firsts: number[] = [];
  for (let i = 0; i < p.rows; i++) {
    const key = w === 1 ? String(p.masks[i]) : Array.from(p.masks.subarray(i * w, (i + 1) * w)).join(',');
    let g = at.get(key);
    if (g === undefined) { g = count.length; at.set(key, g); count.push(0); firsts.push(i); }
    count[g]!++; rowGroup[i] = g;
  }
  const masks = new Uint32Array(firsts.length * w);
  firsts.forEach((r, g) => masks.set(p.masks.subarray(r * w, (r + 1) * w), g * w));
  return { masks, count, rowGroup };
}

/** R_q for every query: database items sharing ≥ 1 label with it. */
export function relevantCounts(queryLabels: Uint8Array, databaseLabels: Uint8Array, classes: number): Int32Array {
  const { ql, dl } = packBoth(queryLabels, databaseLabels, classes);
  return countsFromPacked(ql, dl);
}

function rowsOf(labels: Uint8Array, classes: number, what: string): number {
  if (!Number.isInteger(classes) || classes <= 0) throw new InputError(`chance: classes must be a positive integer, got ${classes}`);
  if (labels.length % classes !== 0) throw new InputError(`chance: ${what} have ${labels.length} values, not a multiple of ${classes} classes`);
  return labels.length / classes;
}

function packBoth(queryLabels: Uint8Array, databaseLabels: Uint8Array, classes: number): { ql: PackedLabels; dl: PackedLabels } {
  const ql = packLabels(queryLabels, rowsOf(queryLabels, classes, 'query labels'), classes, 'query labels');
  const dl = packLabels(databaseLabels, rowsOf(databaseLabels, classes, 'database labels'), classes, 'database labels');
  return { ql, dl };
}

function countsFromPacked(ql: PackedLabels, dl: PackedLabels): Int32Array {
  const w = ql.words, q = distinctRows(ql), d = distinctRows(dl);
  const nd = d.count.length, perGroup = new Int32Array(q.count.length);
  for (let g = 0; g < q.count.length; g++) {
    let rel = 0;
    for (let j = 0; j < nd; j++) {
      let hit = 0;
      for (let k = 0; k < w && !hit; k++) hit = q.masks[g * w + k]! & d.masks[j * w + k]!;
      if (hit) rel += d.count[j]!;
    }
    perGroup[g] = rel;
  }
  return Int32Array.from(q.rowGroup, (g) => perGroup[g]!);
}

/**
 * Chance level of a split: expected mAP@all (and mAP@K) of a uniformly random ranking of the
 * database for these queries. Labels are row-major 0/1 matrices of `classes` columns. The same for
 * I→T and T→I (both directions rank the same items by the same labels).
 */
export function chanceLevel(queryLabels: Uint8Array, databaseLabels: Uint8Array, classes: number, opts: ChanceOptions = {}): ChanceLevel {
  const { ql, dl } = packBoth(queryLabels, databaseLabels, classes);
  const topK = [...(opts.topK ?? [])];
  for (const k of topK) if (!Number.isInteger(k) || k <= 0) throw new InputError(`chance: mAP@K cut-offs must be positive integers, got ${k}`);
  const nq = ql.rows, n = dl.rows;
  const rel = countsFromPacked(ql, dl);
  const hN = harmonic(n);
  const hK = topK.map((k) => harmonic(Math.min(k, n)));
  // E[AP] depends on R only: one evaluation per distinct R
  const memo = new Map<number, number[]>();
  let sumAll = 0, share = 0, none = 0;
  const sumK = new Float64Array(topK.length), perQuery = new Float64Array(nq);
  for (let i = 0; i < nq; i++) {
    const r = rel[i]!;
    if (r === 0) { none++; continue; }
    let v = memo.get(r);
    if (!v) { v = [expectedAP(n, r, hN), ...topK.map((k, t) => expectedAPAtK(n, r, k, hK[t]))]; memo.set(r, v); }
    perQuery[i] = v[0]!;
    sumAll += v[0]!;
    topK.forEach((_, t) => { sumK[t]! += v![t + 1]!; });
    share += r / n;
  }
  return {
    queries: nq, database: n,
    mapAll: nq ? sumAll / nq : 0,
    mapAtK: topK.map((k, t) => ({ k, map: nq ? sumK[t]! / nq : 0 })),
    queriesWithoutRelevant: none,
    meanRelevantShare: nq ? share / nq : 0,
    perQuery,
  };
}

/** Expected mAP@all of a uniformly random ranking (chanceLevel(...).mapAll). */
export function chanceMap(queryLabels: Uint8Array, databaseLabels: Uint8Array, classes: number): number {
  return chanceLevel(queryLabels, databaseLabels, classes).mapAll;
}
