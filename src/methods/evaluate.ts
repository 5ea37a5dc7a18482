// Cross-modal evaluation of any Hasher: encode queries with one modality, the database with the
// other, rank by Hamming distance (eval/metrics.ts does the ranking and the metrics). Used by the
// validation-based model selection inside fit() and by `cmhash train` / `cmhash eval`.
import { PackedCodes } from '../codes/packed-codes.js';
import { evaluateRetrieval, meanAveragePrecision } from '../eval/metrics.js';
import type { Hasher, Modality, TrainingData } from './hasher.js';

/** Rows of one modality with their labels (a TrainingData or a split of a Dataset). */
export interface LabelledItems {
  n: number;
  image: Float32Array; imageDim: number;
  text: Float32Array; textDim: number;
  labels: Uint8Array; numClasses: number;
}

export function encodePacked(h: Hasher, modality: Modality, items: LabelledItems): PackedCodes {
  const feats = modality === 'image' ? items.image : items.text;
  const out = h.encode(modality, feats, items.n);
  return PackedCodes.fromReal(out.values, out.rows, out.bits);
}

export interface Directions { i2t: number; t2i: number }

export interface CrossModalResult {
  map_all: Directions;
  /** mAP@K per requested K, e.g. {50: {i2t, t2i}}. */
  map_at: Record<number, Directions>;
  /** Precision/recall by Hamming radius 0..bits and P@N (for reports). */
  pr: { i2t: { precision: number[]; recall: number[] }; t2i: { precision: number[]; recall: number[] } };
  pAtN: { n: number[]; i2t: number[]; t2i: number[] };
}

/**
 * I→T: image queries against the database's text codes; T→I: text queries against its image codes.
 * Relevance: sharing at least one label.
 */
export function evaluateCrossModal(h: Hasher, query: LabelledItems, database: LabelledItems, topK: number[] = [50],
  cutoffs: number[] = [10, 50, 100, 200, 500, 1000]): CrossModalResult {
  const qi = encodePacked(h, 'image', query), qt = encodePacked(h, 'text', query);
  const di = encodePacked(h, 'image', database), dt = encodePacked(h, 'text', database);
  const base = { queryLabels: query.labels, databaseLabels: database.labels, classes: query.numClasses };
  const cut = cutoffs.filter((c) => c <= database.n);
  const i2t = evaluateRetrieval({ ...base, queries: qi, database: dt }, { topK, cutoffs: cut });
  const t2i = evaluateRetrieval({ ...base, queries: qt, database: di }, { topK, cutoffs: cut });
  const mapAt: Record<number, Directions> = {};
  for (const k of topK) {
    mapAt[k] = { i2t: i2t.mapAtK.find((x) => x.k === k)!.map, t2i: t2i.mapAtK.find((x) => x.k === k)!.map };
  }
  return {
    map_all: { i2t: i2t.mapAll, t2i: t2i.mapAll },
    map_at: mapAt,
    pr: {
      i2t: { precision: Array.from(i2t.byRadius.precision), recall: Array.from(i2t.byRadius.recall) },
      t2i: { precision: Array.from(t2i.byRadius.precision), recall: Array.from(t2i.byRadius.recall) },
    },
    pAtN: { n: i2t.curve.n, i2t: Array.from(i2t.curve.precision), t2i: Array.from(t2i.curve.precision) },
  };
}

/** mAP@all in both directions only (the cheap score model selection needs). */
export function crossModalMap(h: Hasher, query: LabelledItems, database: LabelledItems): Directions {
  const qi = encodePacked(h, 'image', query), qt = encodePacked(h, 'text', query);
  const di = encodePacked(h, 'image', database), dt = encodePacked(h, 'text', database);
  const base = { queryLabels: query.labels, databaseLabels: database.labels, classes: query.numClasses };
  return {
    i2t: meanAveragePrecision({ ...base, queries: qi, database: dt }),
    t2i: meanAveragePrecision({ ...base, queries: qt, database: di }),
  };
}

/** Training items used as the validation database: at most `max` of them (a fixed stride sample). */
export function validationDatabase(train: TrainingData, max = 4000): LabelledItems {
  if (train.n <= max) return train;
  const idx = new Int32Array(max);
  for (let i = 0; i < max; i++) idx[i] = Math.floor((i * train.n) / max);
  const pick = <T extends Float32Array | Uint8Array>(a: T, d: number): T => {
    const out = new (a.constructor as new (n: number) => T)(max * d);
    for (let r = 0; r < max; r++) out.set(a.subarray(idx[r]! * d, (idx[r]! + 1) * d), r * d);
    return out;
  };
  return {
    n: max, imageDim: train.imageDim, textDim: train.textDim, numClasses: train.numClasses,
    image: pick(train.image, train.imageDim), text: pick(train.text, train.textDim), labels: pick(train.labels, train.numClasses),
  };
}
