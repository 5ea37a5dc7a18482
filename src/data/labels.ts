// The one check of a multi-label 0/1 matrix (shape and values), used wherever labels enter:
// the store, relevance for metrics, datasets.
import { InputError } from '../util/errors.js';

/** Checks shape and values, naming `what` in the error. */
export function validateLabels(labels: Uint8Array, rows: number, classes: number, what: string): void {
  if (!Number.isInteger(classes) || classes <= 0) throw new InputError(`${what}: number of classes must be positive, got ${classes}`);
  if (labels.length !== rows * classes) {
    throw new InputError(`${what}: expected ${rows}×${classes} = ${rows * classes} label values, got ${labels.length}`
      + (labels.length % Math.max(rows, 1) === 0 && rows > 0 ? ` (${rows}×${labels.length / rows}: label widths differ)` : ''));
  }
  for (let i = 0; i < labels.length; i++) {
    const v = labels[i]!;
    if (v > 1) throw new InputError(`${what}: label [${Math.floor(i / classes)}, ${i % classes}] is ${v}, expected 0 or 1`);
  }
}
