// Brute-force reference metrics in plain TypeScript (full sort, no tricks) for randomized checks.
export function refDistances(q: number[][], db: number[][]): number[][] {
  return q.map((a) => db.map((b) => a.reduce((s, v, j) => s + (v !== b[j] ? 1 : 0), 0)));
}

export function refRanking(dist: number[]): number[] {
  return dist.map((d, i) => [d, i] as const).sort((x, y) => x[0] - y[0] || x[1] - y[1]).map((p) => p[1]);
}

export function refRelevant(ql: number[], dl: number[]): boolean { return ql.some((v, j) => v === 1 && dl[j] === 1); }

/** AP with the ranking cut at k (k = Infinity for mAP@all). */
export function refAP(rel: boolean[], k = Infinity): number {
  let hits = 0, sum = 0;
  for (let r = 0; r < Math.min(k, rel.length); r++) if (rel[r]) { hits++; sum += hits / (r + 1); }
  if (k === Infinity) { const total = rel.filter(Boolean).length; return total ? sum / total : 0; }
  return hits ? sum / hits : 0;
}
