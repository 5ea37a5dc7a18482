// Checks that catch bad data before it is trained on: non-finite values (with their position),
// items without labels, duplicate ids, empty classes, constant feature columns.
import type { Dataset } from './dataset.js';

/** Index and value of the first NaN/±Inf, and how many there are (index -1 when none). */
export function firstNonFinite(data: ArrayLike<number>): { index: number; value: number; count: number } {
  let index = -1; let value = 0; let count = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v - v !== 0) { // true only for NaN and ±Inf; cheaper than Number.isFinite in the hot loop
      if (index < 0) { index = i; value = v; }
      count++;
    }
  }
  return { index, value, count };
}

export interface ValidationReport {
  ok: boolean;
  /** Problems that make the data unusable as is. */
  errors: string[];
  /** Things a user should know (they do not stop loading). */
  warnings: string[];
  rowsWithoutLabels: number;
  emptyClasses: string[];
  duplicateIds: number;
  rowsWithoutImage: number;
  rowsWithoutText: number;
}

/** Inspects a dataset; never throws. */
export function validateDataset(ds: Dataset): ValidationReport {
  const errors: string[] = []; const warnings: string[] = [];
  for (const nf of ds.nonFinite) errors.push(`${nf.modality} features: ${nf.count} non-finite value(s), first ${nf.value} at row ${nf.row} (id ${ds.ids[nf.row]}), column ${nf.col}`);
  let noLabel = 0;
  for (let i = 0; i < ds.n; i++) {
    let any = 0; for (let j = 0; j < ds.numLabels; j++) any |= ds.labels[i * ds.numLabels + j]!;
    if (!any) noLabel++;
  }
  if (noLabel) warnings.push(`${noLabel} item(s) have no label (relevance is undefined for them; class-incremental streams reject them)`);
  const counts = ds.labelCounts();
  const emptyClasses = ds.labelNames.filter((_, j) => counts[j] === 0);
  if (emptyClasses.length) warnings.push(`classes with no items: ${emptyClasses.join(', ')}`);
  const seen = new Set<string>(); let dup = 0;
  for (const id of ds.ids) { if (seen.has(id)) dup++; else seen.add(id); }
  if (dup) warnings.push(`${dup} duplicate id(s)`);
  const noImage = ds.hasImage ? ds.hasImage.reduce((s, v) => s + (v ? 0 : 1), 0) : 0;
  if (noImage) warnings.push(`${noImage} of ${ds.n} item(s) have no image features (use rowsWithImage() / the photo subset for image↔text work)`);
  const noText = ds.hasText ? ds.hasText.reduce((s, v) => s + (v ? 0 : 1), 0) : 0;
  if (noText) warnings.push(`${noText} of ${ds.n} item(s) have no text features (use rowsWithText() / rowsPaired() for image↔text work)`);
  for (const [modality, data, dim] of [['image', ds.image, ds.imageDim], ['text', ds.text, ds.textDim]] as const) {
    if (dim === 0 || ds.n < 2) continue;
    let constant = 0;
    for (let j = 0; j < dim; j++) {
      const v0 = data[j]!; let same = true;
      for (let i = 1; i < ds.n && same; i++) if (data[i * dim + j] !== v0) same = false;
      if (same) constant++;
    }
    if (constant === dim) errors.push(`${modality} features are constant across all items`);
    else if (constant > 0) warnings.push(`${modality} features: ${constant} of ${dim} column(s) are constant`);
  }
  return { ok: errors.length === 0, errors, warnings, rowsWithoutLabels: noLabel, emptyClasses, duplicateIds: dup, rowsWithoutImage: noImage, rowsWithoutText: noText };
}
