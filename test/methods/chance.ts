// The chance level of a query set against a database (src/eval/chance.ts: the exact expected mAP@all
// of a uniformly random ranking), for the method tests' "clearly above chance" checks.
import type { TrainingData } from '../../src/methods/hasher.js';
import { chanceMap as exactChance } from '../../src/eval/chance.js';

export function chanceMap(q: TrainingData, db: TrainingData): number {
  return exactChance(q.labels, db.labels, q.numClasses);
}
