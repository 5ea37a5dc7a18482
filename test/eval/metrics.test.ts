import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateRetrieval, meanAveragePrecision, ndcgAtK, precisionRecallWithinRadius, precisionRecallAtN, averagePrecisionPerQuery } from '../../src/eval/metrics.js';
import { hammingOrder, hammingRanks } from '../../src/eval/ranking.js';
import { PackedCodes } from '../../src/codes/packed-codes.js';
import { InputError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/rng.js';
import { designFixture } from './fixture.js';
import { refAP, refDistances, refRanking, refRelevant } from './reference.js';

const close = (a: number, b: number, tol = 5e-6) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

test('design fixture (docs/design.md): mAP@all, per-query AP, mAP@3, precision/recall within radius 2', () => {
  const input = designFixture();
  close(meanAveragePrecision(input), 0.70417);
  const ap = averagePrecisionPerQuery(input);
  [0.58333, 0.95, 0.47778, 0.80556].forEach((v, i) => close(ap[i]!, v));
  close(meanAveragePrecision(input, 3), 0.6875);
  const r2 = precisionRecallWithinRadius(input, 2);
  close(r2.precision, 0.52941); close(r2.recall, 0.75);
  // hand count: 9 relevant of 17 pairs within radius 2; 12 relevant pairs in all
  assert.equal(r2.precision, 9 / 17); assert.equal(r2.recall, 9 / 12);
  const curve = precisionRecallAtN(input, [1, 6]);
  assert.equal(curve.precision[1], 12 / 24); // at N = database size every relevant item is retrieved
  assert.equal(curve.recall[1], 1);
});

test('counting-sort ranking is stable by database index', () => {
  const dist = Uint16Array.from([3, 1, 3, 0, 1, 8]);
  assert.deepEqual([...hammingOrder(dist, 6, 8)], [3, 1, 4, 0, 2, 5]);
  assert.deepEqual([...hammingRanks(dist, 6, 8)], [3, 1, 4, 0, 2, 5].map((_, i, a) => a.indexOf(i)));
});

function randomCase(rng: Rng, nq: number, n: number, bits: number, classes: number, clusterBits = 0) {
  const sign = () => (rng.uniform() < 0.5 ? 1 : -1);
  const q = Array.from({ length: nq }, () => Array.from({ length: bits }, sign));
  // few distinct codes → many ties, which is what the stable order must get right
  const protos = Array.from({ length: Math.max(2, clusterBits) }, () => Array.from({ length: bits }, sign));
  const db = Array.from({ length: n }, () => (clusterBits ? protos[rng.int(protos.length)]!.slice() : Array.from({ length: bits }, sign)));
  const lab = (rows: number) => Array.from({ length: rows }, () => Array.from({ length: classes }, () => (rng.uniform() < 0.25 ? 1 : 0)));
  const ql = lab(nq), dl = lab(n);
  return { q, db, ql, dl, input: {
    queries: PackedCodes.fromSigns(q), database: PackedCodes.fromSigns(db),
    queryLabels: Uint8Array.from(ql.flat()), databaseLabels: Uint8Array.from(dl.flat()), classes,
  } };
}

test('randomized: every metric equals a brute-force reference (ties, multi-word labels, odd sizes)', () => {
  const rng = new Rng(7);
  for (const [nq, n, bits, classes, cluster] of [[5, 37, 8, 3, 3], [9, 101, 64, 24, 0], [4, 80, 136, 40, 5], [3, 1, 16, 2, 0]] as const) {
    const { q, db, ql, dl, input } = randomCase(rng, nq, n, bits, classes, cluster);
    const ks = [1, 5, 50], cut = [1, 3, 10, 200];
    const m = evaluateRetrieval(input, { topK: ks, cutoffs: cut, blockSize: 4 });
    const D = refDistances(q, db);
    let map = 0; const mapK = ks.map(() => 0), P = cut.map(() => 0), R = cut.map(() => 0);
    const within = new Array(bits + 1).fill(0), relWithin = new Array(bits + 1).fill(0);
    let totalRel = 0;
    for (let i = 0; i < nq; i++) {
      const order = refRanking(D[i]!);
      const rel = order.map((j) => refRelevant(ql[i]!, dl[j]!));
      const nrel = rel.filter(Boolean).length; totalRel += nrel;
      const ap = refAP(rel); map += ap;
      close(m.perQueryAP[i]!, ap, 1e-12);
      ks.forEach((k, t) => { mapK[t]! += refAP(rel, k); });
      cut.forEach((c, t) => { const h = rel.slice(0, c).filter(Boolean).length; P[t]! += h / c; R[t]! += nrel ? h / nrel : 0; });
      for (let r = 0; r <= bits; r++) for (let j = 0; j < n; j++) if (D[i]![j]! <= r) { within[r]++; if (refRelevant(ql[i]!, dl[j]!)) relWithin[r]++; }
    }
    close(m.mapAll, map / nq, 1e-12);
    ks.forEach((k, t) => close(m.mapAtK[t]!.map, mapK[t]! / nq, 1e-12));
    cut.forEach((c, t) => { close(m.curve.precision[t]!, P[t]! / nq, 1e-12); close(m.curve.recall[t]!, R[t]! / nq, 1e-12); });
    for (let r = 0; r <= bits; r++) {
      close(m.byRadius.precision[r]!, within[r] ? relWithin[r] / within[r] : 0, 1e-12);
      close(m.byRadius.recall[r]!, totalRel ? relWithin[r] / totalRel : 0, 1e-12);
    }
  }
});

test('NDCG@K with graded (label cosine) relevance: hand-checked vector', () => {
  // query labels [1,1]; item 0 [1,0] at distance 0 (cos 1/√2), item 1 [1,1] at distance 8 (cos 1)
  const input = {
    queries: PackedCodes.fromSigns([[1, 1, 1, 1, 1, 1, 1, 1]]),
    database: PackedCodes.fromSigns([[1, 1, 1, 1, 1, 1, 1, 1], [-1, -1, -1, -1, -1, -1, -1, -1]]),
    queryLabels: Uint8Array.from([1, 1]), databaseLabels: Uint8Array.from([1, 0, 1, 1]), classes: 2,
  };
  const g0 = 2 ** Math.SQRT1_2 - 1, g1 = 1;
  close(ndcgAtK(input, 2), (g0 + g1 / Math.log2(3)) / (g1 + g0 / Math.log2(3)), 1e-12);
  close(ndcgAtK(input, 1), g0 / g1, 1e-12);
});

test('bad input: mismatched label widths, code widths, non-0/1 labels, bad K', () => {
  const input = designFixture();
  assert.throws(() => meanAveragePrecision({ ...input, queryLabels: new Uint8Array(4 * 5) }), (e: Error) => e instanceof InputError && /query labels.*label widths differ/.test(e.message));
  assert.throws(() => meanAveragePrecision({ ...input, database: PackedCodes.alloc(16, 6) }), /8 bits but database codes have 16/);
  const bad = input.databaseLabels.slice(); bad[0] = 2;
  assert.throws(() => meanAveragePrecision({ ...input, databaseLabels: bad }), /expected 0 or 1/);
  assert.throws(() => meanAveragePrecision(input, 0), InputError);
  assert.throws(() => precisionRecallWithinRadius(input, -1), InputError);
});
