import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateSynthetic, syntheticCodes, syntheticLabels } from '../../src/data/synthetic.js';
import type { Dataset } from '../../src/data/dataset.js';

/** Ridge regression features → labels (normal equations, Cholesky). Returns a predictor. */
function ridge(ds: Dataset, rows: Int32Array, which: 'image' | 'text', lambda = 1): (i: number) => Float64Array {
  const d = which === 'image' ? ds.imageDim : ds.textDim; const D = d + 1; const C = ds.numLabels;
  const X = (i: number) => { const r = which === 'image' ? ds.imageRow(i) : ds.textRow(i); const x = new Float64Array(D); x.set(r); x[d] = 1; return x; };
  const A = new Float64Array(D * D); const B = new Float64Array(D * C);
  for (const i of rows) { const x = X(i); const y = ds.labelRow(i); for (let a = 0; a < D; a++) { if (x[a] === 0) continue; for (let b = 0; b < D; b++) A[a * D + b]! += x[a]! * x[b]!; for (let c = 0; c < C; c++) B[a * C + c]! += x[a]! * y[c]!; } }
  for (let a = 0; a < D; a++) A[a * D + a]! += lambda;
  for (let k = 0; k < D; k++) { // Cholesky in place (lower)
    for (let j = 0; j < k; j++) { let s = A[k * D + j]!; for (let m = 0; m < j; m++) s -= A[k * D + m]! * A[j * D + m]!; A[k * D + j] = s / A[j * D + j]!; }
    let s = A[k * D + k]!; for (let m = 0; m < k; m++) s -= A[k * D + m]! ** 2; A[k * D + k] = Math.sqrt(s);
  }
  const W = new Float64Array(D * C);
  for (let c = 0; c < C; c++) {
    const z = new Float64Array(D);
    for (let a = 0; a < D; a++) { let s = B[a * C + c]!; for (let m = 0; m < a; m++) s -= A[a * D + m]! * z[m]!; z[a] = s / A[a * D + a]!; }
    for (let a = D - 1; a >= 0; a--) { let s = z[a]!; for (let m = a + 1; m < D; m++) s -= A[m * D + a]! * W[m * C + c]!; W[a * C + c] = s / A[a * D + a]!; }
  }
  return (i) => { const x = X(i); const out = new Float64Array(C); for (let a = 0; a < D; a++) if (x[a]) for (let c = 0; c < C; c++) out[c]! += x[a]! * W[a * C + c]!; return out; };
}

/** mAP@all of ranking `db` for each query by the score function (relevant = shares a label). */
function mAP(ds: Dataset, queries: Int32Array, db: Int32Array, score: (q: number, r: number) => number): number {
  let total = 0;
  for (const q of queries) {
    const ranked = [...db].map((r) => [r, score(q, r)] as const).sort((a, b) => b[1] - a[1] || a[0] - b[0]);
    let hits = 0; let ap = 0;
    ranked.forEach(([r], k) => { let rel = false; for (let c = 0; c < ds.numLabels; c++) if (ds.labels[q * ds.numLabels + c] && ds.labels[r * ds.numLabels + c]) rel = true; if (rel) { hits++; ap += hits / (k + 1); } });
    total += hits ? ap / hits : 0;
  }
  return total / queries.length;
}

test('synthetic data: deterministic, multi-label, shapes and types as documented', () => {
  const a = generateSynthetic({ n: 500, seed: 4 }); const b = generateSynthetic({ n: 500, seed: 4 }); const c = generateSynthetic({ n: 500, seed: 5 });
  assert.deepEqual(a.image, b.image); assert.deepEqual(a.text, b.text); assert.deepEqual(a.labels, b.labels);
  assert.notDeepEqual(a.labels, c.labels);
  assert.ok(a.image.every((v) => v >= 0), 'image features are non-negative');
  assert.ok(a.text.every((v) => v === 0 || v === 1), 'text is binary');
  const density = a.text.reduce((s, v) => s + v, 0) / a.text.length; assert.ok(density > 0.02 && density < 0.1, `text density ${density}`);
  let perItem = 0; for (let i = 0; i < a.n; i++) { let k = 0; for (const v of a.labelRow(i)) k += v; assert.ok(k >= 1); perItem += k; }
  assert.ok(perItem / a.n > 1.5, `labels per item ${perItem / a.n} (multi-label)`);
  // prefix property: labels of the first 500 items do not depend on n
  assert.deepEqual(syntheticLabels(1000, { seed: 4 }).subarray(0, 500 * 24), syntheticLabels(500, { seed: 4 }));
});

test('synthetic signal is learnable: a linear cross-modal map beats chance clearly', () => {
  const ds = generateSynthetic({ n: 1500, seed: 1, querySize: 100 });
  const train = ds.split('retrieval'); const q = ds.split('query'); const db = train.subarray(0, 600);
  const fI = ridge(ds, train, 'image'); const fT = ridge(ds, train, 'text');
  const pI = new Map<number, Float64Array>(); const pT = new Map<number, Float64Array>();
  for (const i of q) pI.set(i, fI(i)); for (const i of db) pT.set(i, fT(i));
  const cos = (a: Float64Array, b: Float64Array) => { let s = 0, na = 0, nb = 0; for (let k = 0; k < a.length; k++) { s += a[k]! * b[k]!; na += a[k]! ** 2; nb += b[k]! ** 2; } return s / Math.sqrt(na * nb + 1e-12); };
  const learned = mAP(ds, q, db, (a, b) => cos(pI.get(a)!, pT.get(b)!));
  const chance = mAP(ds, q, db, () => 0); // ties → database order: the chance level
  assert.ok(learned > chance + 0.15, `I→T mAP ${learned.toFixed(3)} vs chance ${chance.toFixed(3)}`);
});

test('codes-only mode scales: 200k × 64 bits quickly, codes follow labels', () => {
  const t0 = Date.now();
  const { labels, codes } = syntheticCodes(200_000, 64, { seed: 2 });
  const ms = Date.now() - t0;
  assert.equal(codes.length, 200_000 * 64); assert.equal(labels.length, 200_000 * 24);
  assert.ok(ms < 5000, `${ms} ms`);
  // items 0 and 1: Hamming distance smaller on average when sharing labels
  let same = 0, sameN = 0, diff = 0, diffN = 0;
  for (let i = 0; i < 2000; i += 2) {
    let share = false; for (let c = 0; c < 24; c++) if (labels[i * 24 + c] && labels[(i + 1) * 24 + c]) share = true;
    let h = 0; for (let b = 0; b < 64; b++) if (codes[i * 64 + b] !== codes[(i + 1) * 64 + b]) h++;
    if (share) { same += h; sameN++; } else { diff += h; diffN++; }
  }
  assert.ok(same / sameN < diff / diffN - 4, `mean Hamming sharing ${same / sameN} vs not ${diff / diffN}`);
});
