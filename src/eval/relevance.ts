// Relevance between queries and database items from multi-label 0/1 matrices. Labels are packed
// into bitmasks once, so "shares >= 1 label" is an AND over ceil(C/32) words per pair and the label
// cosine is popcount(a & b) / sqrt(|a|·|b|).
import { validateLabels } from '../data/labels.js';
import { InputError } from '../util/errors.js';
import { popcount32 } from '../util/bits.js';

/** Multi-label matrix: rows × classes, row-major 0/1 bytes. */
export interface LabelMatrix { rows: number; classes: number; data: Uint8Array }

export interface PackedLabels {
  rows: number;
  classes: number;
  /** uint32 words per row. */
  words: number;
  masks: Uint32Array;
  /** Number of labels per row. */
  counts: Uint16Array;
}

export function packLabels(labels: Uint8Array, rows: number, classes: number, what = 'labels'): PackedLabels {
  validateLabels(labels, rows, classes, what);
  const words = Math.ceil(classes / 32);
  const masks = new Uint32Array(rows * words);
  const counts = new Uint16Array(rows);
  for (let i = 0; i < rows; i++) {
    let n = 0;
    for (let j = 0; j < classes; j++) {
      if (labels[i * classes + j]) { masks[i * words + (j >>> 5)]! |= 1 << (j & 31); n++; }
    }
    counts[i] = n;
  }
  return { rows, classes, words, masks, counts };
}

/** out[i] = cosine between query qi's labels and database item i's labels (0 when either is empty). */
export function labelCosineRow(q: PackedLabels, qi: number, db: PackedLabels, out: Float64Array): void {
  const w = q.words, qo = qi * w, qc = q.counts[qi]!;
  for (let i = 0; i < db.rows; i++) {
    const dc = db.counts[i]!;
    if (qc === 0 || dc === 0) { out[i] = 0; continue; }
    let inter = 0;
    const o = i * w;
    for (let k = 0; k < w; k++) inter += popcount32(q.masks[qo + k]! & db.masks[o + k]!);
    out[i] = inter / Math.sqrt(qc * dc);
  }
}

/** Both label sets must have the same class count (the label spaces must line up). */
export function checkSameClasses(q: PackedLabels, db: PackedLabels): void {
  if (q.classes !== db.classes) {
    throw new InputError(`labels: query labels have ${q.classes} classes but database labels have ${db.classes} (mismatched label widths)`);
  }
}
