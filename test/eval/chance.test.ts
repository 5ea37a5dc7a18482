import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chanceLevel, chanceMap, expectedAP, expectedAPAtK, harmonic, relevantCounts } from '../../src/eval/chance.js';
import { evaluateRetrieval } from '../../src/eval/metrics.js';
import { PackedCodes } from '../../src/codes/packed-codes.js';
import { InputError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/rng.js';

const close = (a: number, b: number, tol = 1e-12, msg = '') => assert.ok(Math.abs(a - b) <= tol, `${msg}${a} vs ${b} (tol ${tol})`);

/** Every permutation of 0..n-1 (Heap's algorithm). */
function permutations(n: number): number[][] {
  const a = Array.from({ length: n }, (_, i) => i), out: number[][] = [a.slice()], c = new Array<number>(n).fill(0);
  let i = 0;
  while (i < n) {
    if (c[i]! < i) { const j = i % 2 === 0 ? 0 : c[i]!; [a[j], a[i]] = [a[i]!, a[j]!]; out.push(a.slice()); c[i]!++; i = 0; }
    else { c[i] = 0; i++; }
  }
  return out;
}

/** metrics.ts on one query against `flags` (1 = relevant) ranked in this order: all database codes equal, so ties keep database order. */
function metricsOf(flags: number[], topK: number[]) {
  const n = flags.length;
  return evaluateRetrieval({
    queries: PackedCodes.fromSigns(new Float32Array(8).fill(1), 1, 8), database: PackedCodes.fromSigns(new Float32Array(8 * n).fill(1), n, 8),
    queryLabels: Uint8Array.from([1, 0]), databaseLabels: Uint8Array.from(flags.flatMap((f) => [f, 1 - f])), classes: 2,
  }, { topK });
}

test('hand-checked: N = 4, R = 2 gives E[AP] = 49/72 and E[AP@2] = 2/3', () => {
  // relevant ranks {1,2}: 1, {1,3}: 5/6, {1,4}: 3/4, {2,3}: 7/12, {2,4}: 1/2, {3,4}: 5/12 → mean 49/72
  close(expectedAP(4, 2), 49 / 72);
  // AP@2: {1,2},{1,3},{1,4}: 1; {2,3},{2,4}: 1/2; {3,4}: 0 (no relevant item in the top 2) → 4/6
  close(expectedAPAtK(4, 2, 2), 2 / 3);
  close(harmonic(4), 25 / 12);
  assert.equal(expectedAP(1, 1), 1);
  assert.equal(expectedAP(5, 0), 0);
  close(expectedAP(7, 7), 1);
  close(expectedAP(5, 1), harmonic(5) / 5); // one relevant item: E[1/rank]
});

test('E[AP] and E[AP@K] equal the average of metrics.ts over every permutation (N ≤ 6)', () => {
  const topK = [1, 2, 3, 5, 9];
  for (let n = 1; n <= 6; n++) {
    const perms = permutations(n);
    assert.equal(perms.length, [1, 1, 2, 6, 24, 120, 720][n]);
    for (let r = 0; r <= n; r++) {
      const base = Array.from({ length: n }, (_, i) => (i < r ? 1 : 0));
      let all = 0; const atK = new Array<number>(topK.length).fill(0);
      for (const p of perms) {
        const m = metricsOf(p.map((i) => base[i]!), topK);
        all += m.mapAll;
        m.mapAtK.forEach((x, t) => { atK[t] += x.map; });
      }
      close(expectedAP(n, r), all / perms.length, 1e-12, `N=${n} R=${r} mAP@all: `);
      topK.forEach((k, t) => close(expectedAPAtK(n, r, k), atK[t]! / perms.length, 1e-12, `N=${n} R=${r} mAP@${k}: `));
    }
  }
});

test('chanceLevel on a random multi-label split matches a Monte-Carlo estimate through metrics.ts (seeded)', () => {
  const rng = new Rng(7), C = 6, nq = 40, n = 150;
  const labels = (rows: number, p: number) => Uint8Array.from({ length: rows * C }, () => (rng.uniform() < p ? 1 : 0));
  const ql = labels(nq, 0.12), dl = labels(n, 0.15); // sparse: some queries have no relevant item (AP 0, counted)
  const chance = chanceLevel(ql, dl, C, { topK: [10, 50] });
  assert.ok(chance.queriesWithoutRelevant > 0, 'the case must exercise R = 0 queries');
  assert.equal(chance.queries, nq); assert.equal(chance.database, n);
  close(chanceMap(ql, dl, C), chance.mapAll);
  close(chance.perQuery.reduce((a, b) => a + b, 0) / nq, chance.mapAll);
  // brute-force R per query
  const rel = relevantCounts(ql, dl, C);
  for (let q = 0; q < nq; q++) {
    let r = 0;
    for (let i = 0; i < n; i++) { let s = 0; for (let c = 0; c < C; c++) s |= ql[q * C + c]! & dl[i * C + c]!; r += s; }
    assert.equal(rel[q], r);
    close(chance.perQuery[q]!, expectedAP(n, r));
  }
  // Monte Carlo: shuffled database order, equal codes → the ranking is the shuffled order
  const trials = 400, codesQ = PackedCodes.alloc(8, nq), codesD = PackedCodes.alloc(8, n);
  let sum = 0, sq = 0; const sumK = [0, 0];
  for (let t = 0; t < trials; t++) {
    const perm = rng.permutation(n), shuffled = new Uint8Array(n * C);
    for (let i = 0; i < n; i++) shuffled.set(dl.subarray(perm[i]! * C, (perm[i]! + 1) * C), i * C);
    const m = evaluateRetrieval({ queries: codesQ, database: codesD, queryLabels: ql, databaseLabels: shuffled, classes: C }, { topK: [10, 50] });
    sum += m.mapAll; sq += m.mapAll ** 2; sumK[0]! += m.mapAtK[0]!.map; sumK[1]! += m.mapAtK[1]!.map;
  }
  const mean = sum / trials, se = Math.sqrt((sq / trials - mean ** 2) / trials);
  assert.ok(Math.abs(mean - chance.mapAll) < Math.max(4 * se, 2e-3), `Monte Carlo ${mean} ± ${se} vs ${chance.mapAll}`);
  close(sumK[0]! / trials, chance.mapAtK[0]!.map, 0.01, 'mAP@10: ');
  close(sumK[1]! / trials, chance.mapAtK[1]!.map, 0.01, 'mAP@50: ');
  // a random ranking is not the mean relevant share, but close to it for large N
  assert.ok(chance.mapAll > chance.meanRelevantShare && chance.mapAll < chance.meanRelevantShare + 0.1);
});

test('edge cases and errors', () => {
  assert.deepEqual(chanceLevel(new Uint8Array(0), Uint8Array.from([1, 0]), 2).mapAll, 0);
  assert.equal(chanceLevel(Uint8Array.from([1, 0]), new Uint8Array(0), 2).mapAll, 0, 'empty database: every query has R = 0');
  assert.throws(() => chanceMap(Uint8Array.from([1, 0, 1]), Uint8Array.from([1, 0]), 2), InputError);
  assert.throws(() => chanceMap(Uint8Array.from([2, 0]), Uint8Array.from([1, 0]), 2), /expected 0 or 1/);
  assert.throws(() => chanceLevel(Uint8Array.from([1]), Uint8Array.from([1]), 1, { topK: [0] }), /positive integers/);
  assert.throws(() => expectedAP(3, 4), /0 ≤ R ≤ N/);
  // more than 32 classes: several label words per row
  const C = 40, q = new Uint8Array(C), d = new Uint8Array(3 * C);
  q[35] = 1; d[35] = 1; d[C + 2] = 1; d[2 * C + 35] = 1;
  assert.deepEqual([...relevantCounts(q, d, C)], [2]);
  close(chanceMap(q, d, C), expectedAP(3, 2));
});

test('results tables show the chance level: cmhash train rows and JSON fields, the HTML report (eval and continual)', async () => {
  const { resultTable, splitChance, jsonRecord } = await import('../../src/cli/commands/train.js');
  const { renderReport } = await import('../../src/eval/report.js');
  const { checkWellFormed } = await import('../report/html-check.js');
  const { Dataset } = await import('../../src/data/dataset.js');
  // 4 retrieval items (2 of class 0), 2 queries of class 0 and class 1 (class 1: R = 1)
  const labels = Uint8Array.from([1, 0, 1, 0, 0, 1, 0, 1, 1, 0, 0, 1]);
  const ds = new Dataset({ name: 'toy', image: new Float32Array(6), imageDim: 1, text: new Float32Array(6), textDim: 1, labels, labelNames: ['a', 'b'],
    splits: { retrieval: Int32Array.from([0, 1, 2, 3]), query: Int32Array.from([4, 5]), train: Int32Array.from([0, 1, 2, 3]) } });
  const c = splitChance(ds);
  close(c.map_all.i2t, (expectedAP(4, 2) + expectedAP(4, 2)) / 2); // classes a and b: 2 items each
  close(c.map_50.t2i, c.map_all.t2i, 1e-12, 'K ≥ N is mAP@all: ');
  const run = { method: 'dcmh', data: 'toy', bits: 16, seed: 1, map_all: { i2t: 0.9, t2i: 0.8 }, map_50: { i2t: 0.9, t2i: 0.8 }, train_seconds: 1,
    chance_map: c.map_all, chance_map_50: c.map_50 };
  const rows = resultTable([run, { ...run, seed: 2 }]);
  assert.deepEqual(rows.map((r) => r.method), ['dcmh', 'dcmh', 'dcmh', 'chance']);
  assert.equal(rows[3]!['mAP@all I→T'], c.map_all.i2t.toFixed(4));
  assert.deepEqual(jsonRecord(run).chance_map, c.map_all); assert.deepEqual(jsonRecord(run).chance_map_50, c.map_50);
  assert.deepEqual(resultTable([{ ...run, chance_map: undefined, chance_map_50: undefined }]).map((r) => r.method), ['dcmh'], 'no chance row without the figure (eval records)');

  const html = renderReport({
    eval: [run],
    continual: [{ method: 'ccmh-gam', data: 'toy', bits: 16, seed: 1, db_codes: 'learned — codes', chance_final_avg_map: 0.25,
      sessions: [{ map: { i2t: 0.5, t2i: 0.6 }, chance_map: { i2t: 0.3, t2i: 0.3 }, train_seconds: 1, memory_items: 3, stored_code_stability: 1, reencode_stability: 1 }],
      R: { i2t: [[0.5]], t2i: [[0.6]] }, final_avg_map: { i2t: 0.5, t2i: 0.6 }, bwt: 0, forgetting: 0 }],
    generatedAt: new Date(0),
  });
  checkWellFormed(html);
  assert.match(html, /<td><em>chance<\/em><\/td><td>toy<\/td>/);
  assert.match(html, /data-series="chance \(random ranking\)"/);
  assert.match(html, /database codes: learned — codes; queries: net outputs/);
  assert.match(html, /<th>chance<\/th>/);
  assert.match(html, /final average mAP I→T 0\.5\d*, T→I 0\.6\d* \(chance 0\.25/);
  assert.throws(() => renderReport({ eval: [{ ...run, chance_map: { i2t: 1 } as never }] }), /eval\[0\]\.chance_map must be an object/);
});
