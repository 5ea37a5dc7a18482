// Expected mAP of a random ranking: the mean share of relevant database items per query.
import type { TrainingData } from '../../src/methods/hasher.js';

export function chanceMap(q: TrainingData, db: TrainingData): number {
  const C = q.numClasses;
  let total = 0;
  for (let i = 0; i < q.n; i++) {
    let rel = 0;
    for (let j = 0; j < db.n; j++) {
      for (let k = 0; k < C; k++) if (q.labels[i * C + k]! && db.labels[j * C + k]!) { rel++; break; }
    }
    total += rel / db.n;
  }
  return total / q.n;
}
