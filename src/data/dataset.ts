// The dataset every loader produces and every method consumes: n paired items with image
// features, text features, a 0/1 multi-label matrix, ids, label names, optional raw references
// and named row splits. Everything is validated once here so the layers above can trust it.
import { InputError, NotFoundError } from '../util/errors.js';
import { Rng } from '../util/rng.js';
import { firstNonFinite } from './validate.js';

export type SplitName = 'query' | 'retrieval' | 'train' | 'validation';

export interface RawRef { image?: string; text?: string }

export interface DatasetInit {
  name: string;
  /** n×imageDim row-major (imageDim may be 0 for a text-only dataset). */
  image: Float32Array;
  imageDim: number;
  /** n×textDim row-major. */
  text: Float32Array;
  textDim: number;
  /** n×numLabels row-major, values 0/1. */
  labels: Uint8Array;
  labelNames: string[];
  ids?: string[];
  raw?: (RawRef | null)[];
  /** Named row-index splits (query, retrieval, train, validation, or any other name). */
  splits?: Record<string, Int32Array>;
  /** Rows whose image features are real (1) or absent (0, features zero). Omitted: all present. */
  hasImage?: Uint8Array;
  /** Rows whose text features are real (1) or absent (0, features zero). Omitted: all present. */
  hasText?: Uint8Array;
  /** Where the data came from (file paths, preset), for `data info`. */
  source?: string;
  /** 'reject' (default): throw on NaN/Inf features; 'report': keep, list them in `nonFinite`. */
  nonFinite?: 'reject' | 'report';
}

export interface NonFiniteReport { modality: 'image' | 'text'; row: number; col: number; value: number; count: number }

export class Dataset {
  readonly name: string;
  readonly n: number;
  readonly image: Float32Array;
  readonly imageDim: number;
  readonly text: Float32Array;
  readonly textDim: number;
  readonly labels: Uint8Array;
  readonly numLabels: number;
  readonly labelNames: string[];
  readonly ids: string[];
  readonly raw: (RawRef | null)[] | null;
  readonly splits: Map<string, Int32Array>;
  readonly hasImage: Uint8Array | null;
  readonly hasText: Uint8Array | null;
  readonly source: string;
  /** Non-finite feature values found when constructed with nonFinite: 'report'. */
  readonly nonFinite: NonFiniteReport[];

  constructor(init: DatasetInit) {
    const nm = init.name;
    const numLabels = init.labelNames.length;
    if (numLabels === 0) throw new InputError(`${nm}: dataset needs at least one label (labelNames is empty)`);
    if (init.labels.length % numLabels !== 0) throw new InputError(`${nm}: labels have ${init.labels.length} values, not a multiple of ${numLabels} label names`);
    const n = init.labels.length / numLabels;
    checkMatrix(nm, 'image features', init.image, n, init.imageDim);
    checkMatrix(nm, 'text features', init.text, n, init.textDim);
    for (let i = 0; i < init.labels.length; i++) {
      const v = init.labels[i]!;
      if (v > 1) throw new InputError(`${nm}: labels must be 0/1, found ${v} at row ${Math.floor(i / numLabels)}, column ${i % numLabels}`);
    }
    const ids = init.ids ?? Array.from({ length: n }, (_, i) => String(i));
    if (ids.length !== n) throw new InputError(`${nm}: ${ids.length} ids for ${n} items`);
    if (init.raw && init.raw.length !== n) throw new InputError(`${nm}: ${init.raw.length} raw references for ${n} items`);
    if (init.hasImage && init.hasImage.length !== n) throw new InputError(`${nm}: hasImage has ${init.hasImage.length} entries for ${n} items`);
    if (init.hasText && init.hasText.length !== n) throw new InputError(`${nm}: hasText has ${init.hasText.length} entries for ${n} items`);
    const splits = new Map<string, Int32Array>();
    for (const [s, rows] of Object.entries(init.splits ?? {})) {
      if (!(rows instanceof Int32Array)) throw new InputError(`${nm}: split '${s}' must be an Int32Array of row indices`);
      for (let i = 0; i < rows.length; i++) {
        if (rows[i]! < 0 || rows[i]! >= n) throw new InputError(`${nm}: split '${s}' has row ${rows[i]} at position ${i}, outside [0, ${n})`);
      }
      splits.set(s, rows);
    }
    const nonFinite: NonFiniteReport[] = [];
    for (const [modality, data, dim] of [['image', init.image, init.imageDim], ['text', init.text, init.textDim]] as const) {
      const bad = firstNonFinite(data);
      if (bad.index < 0) continue;
      const row = Math.floor(bad.index / dim); const col = bad.index % dim;
      if ((init.nonFinite ?? 'reject') === 'reject') {
        throw new InputError(`${nm}: ${modality} features contain ${bad.count} non-finite value(s); first ${bad.value} at row ${row} (id ${ids[row]}), column ${col}`);
      }
      nonFinite.push({ modality, row, col, value: bad.value, count: bad.count });
    }
    this.name = nm; this.n = n; this.image = init.image; this.imageDim = init.imageDim; this.text = init.text; this.textDim = init.textDim;
    this.labels = init.labels; this.numLabels = numLabels; this.labelNames = init.labelNames.slice(); this.ids = ids;
    this.raw = init.raw ?? null; this.splits = splits; this.hasImage = init.hasImage ?? null; this.hasText = init.hasText ?? null; this.source = init.source ?? '';
    this.nonFinite = nonFinite;
  }

  /** Rows of a named split; throws NotFoundError listing the splits that exist. */
  split(name: string): Int32Array {
    const s = this.splits.get(name);
    if (!s) throw new NotFoundError(`${this.name}: no split '${name}' (has: ${[...this.splits.keys()].join(', ') || 'none'})`);
    return s;
  }

  hasSplit(name: string): boolean { return this.splits.has(name); }

  imageRow(i: number): Float32Array { return this.image.subarray(i * this.imageDim, (i + 1) * this.imageDim); }
  textRow(i: number): Float32Array { return this.text.subarray(i * this.textDim, (i + 1) * this.textDim); }
  labelRow(i: number): Uint8Array { return this.labels.subarray(i * this.numLabels, (i + 1) * this.numLabels); }

  /** Items per label. */
  labelCounts(): number[] {
    const c = new Array<number>(this.numLabels).fill(0);
    for (let i = 0; i < this.n; i++) for (let j = 0; j < this.numLabels; j++) c[j]! += this.labels[i * this.numLabels + j]!;
    return c;
  }

  /** Rows that have a real image (all rows when the dataset has no hasImage mask). */
  rowsWithImage(): Int32Array {
    if (!this.hasImage) return Int32Array.from({ length: this.n }, (_, i) => i);
    const out: number[] = [];
    for (let i = 0; i < this.n; i++) if (this.hasImage[i]) out.push(i);
    return Int32Array.from(out);
  }

  /** Rows that have real text (all rows when the dataset has no hasText mask). */
  rowsWithText(): Int32Array {
    if (!this.hasText) return Int32Array.from({ length: this.n }, (_, i) => i);
    const out: number[] = [];
    for (let i = 0; i < this.n; i++) if (this.hasText[i]) out.push(i);
    return Int32Array.from(out);
  }

  /** Rows that have both an image and text. */
  rowsPaired(): Int32Array {
    const out: number[] = [];
    for (let i = 0; i < this.n; i++) if ((!this.hasImage || this.hasImage[i]) && (!this.hasText || this.hasText[i])) out.push(i);
    return Int32Array.from(out);
  }

  /**
   * A new dataset holding `rows` (in that order). Splits are carried over, re-indexed, keeping only
   * their rows that are in the subset.
   */
  subset(rows: ArrayLike<number>, name = `${this.name}[subset]`): Dataset {
    const m = rows.length;
    const pos = new Map<number, number>();
    for (let k = 0; k < m; k++) {
      const r = rows[k]!;
      if (!Number.isInteger(r) || r < 0 || r >= this.n) throw new InputError(`${this.name}.subset: row ${r} at position ${k} outside [0, ${this.n})`);
      if (!pos.has(r)) pos.set(r, k);
    }
    const image = gatherRows(this.image, this.imageDim, rows);
    const text = gatherRows(this.text, this.textDim, rows);
    const labels = gatherRows(this.labels, this.numLabels, rows);
    const splits: Record<string, Int32Array> = {};
    for (const [s, idx] of this.splits) {
      const kept: number[] = [];
      for (const r of idx) { const p = pos.get(r); if (p !== undefined) kept.push(p); }
      splits[s] = Int32Array.from(kept);
    }
    return new Dataset({
      name, image, imageDim: this.imageDim, text, textDim: this.textDim, labels, labelNames: this.labelNames,
      ids: Array.from(rows as ArrayLike<number>, (r) => this.ids[r]!), raw: this.raw ? Array.from(rows as ArrayLike<number>, (r) => this.raw![r] ?? null) : undefined,
      hasImage: this.hasImage ? gatherRows(this.hasImage, 1, rows) : undefined, hasText: this.hasText ? gatherRows(this.hasText, 1, rows) : undefined, splits, source: this.source, nonFinite: 'report',
    });
  }

  /** A copy with different/extra splits (rows are not copied). */
  withSplits(splits: Record<string, Int32Array>, name = this.name): Dataset {
    const all: Record<string, Int32Array> = Object.fromEntries(this.splits);
    Object.assign(all, splits);
    return new Dataset({ name, image: this.image, imageDim: this.imageDim, text: this.text, textDim: this.textDim, labels: this.labels,
      labelNames: this.labelNames, ids: this.ids, raw: this.raw ?? undefined, hasImage: this.hasImage ?? undefined, hasText: this.hasText ?? undefined, splits: all, source: this.source, nonFinite: 'report' });
  }

  /**
   * Carves a validation split out of the training split from a seed: `size` rows (or a fraction
   * < 1 of train) move from 'train' to 'validation'. Model selection must use this, never 'query'.
   */
  withValidation(size: number, seed: number): Dataset {
    const train = this.split('train');
    const k = size < 1 ? Math.round(train.length * size) : Math.floor(size);
    if (k <= 0 || k >= train.length) throw new InputError(`${this.name}: validation size ${size} must leave both parts non-empty (train has ${train.length} rows)`);
    const perm = new Rng(seed).permutation(train.length);
    const val = new Int32Array(k); const rest = new Int32Array(train.length - k);
    for (let i = 0; i < train.length; i++) { if (i < k) val[i] = train[perm[i]!]!; else rest[i - k] = train[perm[i]!]!; }
    val.sort(); rest.sort();
    return this.withSplits({ train: rest, validation: val });
  }

  /** Plain summary (what `cmhash data info` prints). */
  summary(): DatasetSummary {
    const counts = this.labelCounts();
    const splits: Record<string, number> = {};
    for (const [s, r] of this.splits) splits[s] = r.length;
    return {
      items: this.n, image_dim: this.imageDim, text_dim: this.textDim,
      labels: this.labelNames.map((name, j) => ({ name, count: counts[j]! })), splits,
    };
  }
}

export interface DatasetSummary {
  items: number; image_dim: number; text_dim: number;
  labels: { name: string; count: number }[];
  splits: Record<string, number>;
}

function checkMatrix(nm: string, what: string, data: Float32Array, n: number, dim: number): void {
  if (!(data instanceof Float32Array)) throw new InputError(`${nm}: ${what} must be a Float32Array, got ${(data as object)?.constructor?.name ?? typeof data}`);
  if (!Number.isInteger(dim) || dim < 0) throw new InputError(`${nm}: ${what} dimension must be a non-negative integer, got ${dim}`);
  if (data.length !== n * dim) throw new InputError(`${nm}: ${what} have ${data.length} values, expected ${n} items × ${dim} = ${n * dim}`);
}

/** out[r][j] = mat[rows[r]][cols[j]] of a row-major matrix with `stride` columns. */
export function gatherBlock(mat: Float32Array, stride: number, rows: ArrayLike<number>, cols: ArrayLike<number>): Float32Array {
  const m = rows.length, k = cols.length;
  const out = new Float32Array(m * k);
  for (let r = 0; r < m; r++) {
    const o = rows[r]! * stride;
    for (let j = 0; j < k; j++) out[r * k + j] = mat[o + cols[j]!]!;
  }
  return out;
}

/** Copies the given rows of a row-major matrix with `dim` columns. */
export function gatherRows<T extends Float32Array | Uint8Array>(src: T, dim: number, rows: ArrayLike<number>): T {
  const Ctor = src.constructor as new (n: number) => T;
  const out = new Ctor(rows.length * dim);
  if (dim === 0) return out;
  if (dim <= 32) {
    // narrow rows (a 10-d text, 32-bit targets): a view per row costs more than its copy (128 rows of
    // 10 floats: 12 → 4 µs; the two break even near 32 columns)
    for (let k = 0, o = 0; k < rows.length; k++) { const s = rows[k]! * dim; for (let j = 0; j < dim; j++) out[o++] = src[s + j]!; }
    return out;
  }
  for (let k = 0; k < rows.length; k++) out.set(src.subarray(rows[k]! * dim, (rows[k]! + 1) * dim), k * dim);
  return out;
}
