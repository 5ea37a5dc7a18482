import { test } from 'node:test';
import assert from 'node:assert/strict';
import { agemProject, gemProject, dot, dots, gramMatrix } from '../../../src/methods/parts/projection.js';
import { solveNonNegativeQp } from '../../../src/methods/parts/nonneg-qp.js';
import { Rng } from '../../../src/util/rng.js';

function randVec(rng: Rng, n: number): Float32Array { const v = new Float32Array(n); rng.fillNormal(v); return v; }

test('A-GEM: projected gradient has a non-negative dot with g_ref, unchanged when already aligned', () => {
  const rng = new Rng(1);
  let projectedCount = 0;
  for (let t = 0; t < 200; t++) {
    const n = 1 + rng.int(60);
    const g = randVec(rng, n), ref = randVec(rng, n);
    const before = Float32Array.from(g);
    const r = agemProject(g, ref);
    const scale = Math.sqrt(dot(before, before) * dot(ref, ref));
    assert.ok(dot(g, ref) >= -1e-5 * scale, `dot ${dot(g, ref)}`);
    if (dot(before, ref) >= 0) { assert.equal(r.projected, false); assert.deepEqual(g, before); }
    else {
      projectedCount++;
      // the closed form: g − (gᵀr/‖r‖²) r
      const c = dot(before, ref) / dot(ref, ref);
      for (let i = 0; i < n; i++) assert.ok(Math.abs(g[i]! - (before[i]! - c * ref[i]!)) < 1e-5);
    }
  }
  assert.ok(projectedCount > 50);
});

// Brute-force GEM: enumerate active sets, solve the equality-constrained projection by Gaussian
// elimination, keep feasible KKT points, return the closest to g.
function solveLinear(a: number[][], b: number[]): number[] | null {
  const n = b.length; const m = a.map((r, i) => [...r, b[i]!]);
  for (let c = 0; c < n; c++) {
    let p = c; for (let r = c + 1; r < n; r++) if (Math.abs(m[r]![c]!) > Math.abs(m[p]![c]!)) p = r;
    if (Math.abs(m[p]![c]!) < 1e-12) return null;
    [m[c], m[p]] = [m[p]!, m[c]!];
    for (let r = 0; r < n; r++) if (r !== c) { const f = m[r]![c]! / m[c]![c]!; for (let k = c; k <= n; k++) m[r]![k]! -= f * m[c]![k]!; }
  }
  return m.map((r, i) => r[n]! / r[i]!);
}
function bruteGem(g: Float32Array, refs: Float32Array[]): Float64Array {
  const k = refs.length; let best: Float64Array | null = null; let bestD = Infinity;
  for (let mask = 0; mask < 1 << k; mask++) {
    const act = [...Array(k).keys()].filter((i) => mask & (1 << i));
    let v: number[] = [];
    if (act.length) {
      const A = act.map((i) => act.map((j) => dot(refs[i]!, refs[j]!)));
      const b = act.map((i) => -dot(refs[i]!, g));
      const s = solveLinear(A, b); if (!s) continue; v = s;
      if (v.some((x) => x < -1e-9)) continue;
    }
    const z = Float64Array.from(g);
    act.forEach((i, a) => { for (let p = 0; p < z.length; p++) z[p] += v[a]! * refs[i]![p]!; });
    if (refs.some((r) => dot(r, z) < -1e-6)) continue;
    let d = 0; for (let p = 0; p < z.length; p++) d += (z[p]! - g[p]!) ** 2;
    if (d < bestD) { bestD = d; best = z; }
  }
  return best!;
}

test('GEM QP: every constraint holds and the answer matches brute force on small cases', () => {
  const rng = new Rng(7);
  for (let t = 0; t < 150; t++) {
    const n = 2 + rng.int(12), k = 1 + rng.int(4);
    const refs = Array.from({ length: k }, () => randVec(rng, n));
    const g = randVec(rng, n);
    const expected = bruteGem(g, refs);
    const got = Float32Array.from(g);
    gemProject(got, refs);
    for (const r of refs) assert.ok(dot(r, got) >= -1e-4 * Math.sqrt(dot(r, r)), `constraint ${dot(r, got)}`);
    for (let p = 0; p < n; p++) assert.ok(Math.abs(got[p]! - expected[p]!) < 2e-3, `case ${t}: ${got[p]} vs ${expected[p]}`);
  }
});

test('GEM with one constraint equals A-GEM', () => {
  const rng = new Rng(3);
  for (let t = 0; t < 50; t++) {
    const g = randVec(rng, 20), r = randVec(rng, 20);
    const a = Float32Array.from(g), b = Float32Array.from(g);
    agemProject(a, r); gemProject(b, [r]);
    for (let i = 0; i < 20; i++) assert.ok(Math.abs(a[i]! - b[i]!) < 1e-4);
  }
});

test('non-negative QP solver reaches the KKT point and rejects bad shapes', () => {
  // min ½(v1² + v2²) − v1 + v2  → v = (1, 0)
  const s = solveNonNegativeQp([1, 0, 0, 1], [-1, 1], 2);
  assert.ok(Math.abs(s.v[0]! - 1) < 1e-9 && s.v[1] === 0);
  assert.ok(s.kktViolation < 1e-9);
  assert.throws(() => solveNonNegativeQp([1, 0, 0], [1, 1], 2), /expected M 2×2/);
});

test('gramMatrix and dots: every entry is the float64 dot of its pair, summed in index order, bit for bit', () => {
  const rng = new Rng(5);
  const n = 1003, k = 5;
  const refs = Array.from({ length: k }, () => rng.fillNormal(new Float32Array(n)));
  const plain = (a: Float32Array, b: Float32Array): number => { let s = 0; for (let i = 0; i < n; i++) s += a[i]! * b[i]!; return s; };
  const m = gramMatrix(refs);
  for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) assert.ok(Object.is(m[i * k + j], plain(refs[i]!, refs[j]!)), `M[${i},${j}]`);
  const g = rng.fillNormal(new Float32Array(n));
  const q = dots(g, refs);
  for (let j = 0; j < k; j++) assert.ok(Object.is(q[j], plain(refs[j]!, g)), `q[${j}]`);
  assert.equal(dots(g, []).length, 0);
  assert.throws(() => dots(g, [new Float32Array(n - 1)]), /dots: length 1003 vs 1002/);
});
