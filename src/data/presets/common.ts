// Shared pieces of the presets: where the data lives, finding a variable among the key names
// different repositories use, orienting matrices (items × features), and the seeded standard splits.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError } from '../../util/errors.js';
import { Rng } from '../../util/rng.js';
import { toFloat32Matrix, transpose2d, valueAt, type NdArray } from '../ndarray.js';

/** The repository root (the folder with cmhash's package.json), found from this file. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    const pj = join(dir, 'package.json');
    if (existsSync(pj)) { try { if (JSON.parse(readFileSync(pj, 'utf8')).name === 'cmhash') return dir; } catch { /* keep looking */ } }
    const up = dirname(dir); if (up === dir) break; dir = up;
  }
  return process.cwd();
}

/** Folders searched for preset data, in order: $CMHASH_DATA, then ../shared/data from the repo root. */
export function dataRoots(): string[] {
  const roots: string[] = [];
  if (process.env.CMHASH_DATA) roots.push(resolve(process.env.CMHASH_DATA));
  roots.push(resolve(repoRoot(), '..', 'shared', 'data'));
  return roots;
}

/** First existing `<root>/<sub>` among the data roots, or null. */
export function findDataDir(sub: string): string | null {
  for (const r of dataRoots()) { const p = join(r, sub); if (existsSync(p)) return p; }
  return null;
}

/** Finds the first of `candidates` among `keys` (exact first, then case-insensitive). */
export function pickKey(keys: string[], candidates: string[]): string | null {
  for (const c of candidates) if (keys.includes(c)) return c;
  const lower = new Map(keys.map((k) => [k.toLowerCase(), k]));
  for (const c of candidates) { const k = lower.get(c.toLowerCase()); if (k) return k; }
  return null;
}

export const IMAGE_KEYS = ['IAll', 'I_all', 'XAll', 'images', 'image', 'img', 'feat_img', 'image_features', 'X'];
export const TEXT_KEYS = ['YAll', 'Y_all', 'TAll', 'T_all', 'tags', 'texts', 'text', 'txt', 'feat_txt', 'text_features', 'Y'];
export const LABEL_KEYS = ['LAll', 'L_all', 'labels', 'label', 'lab', 'L'];

/**
 * Label matrix from what a file holds: a 0/1 (or ±1) n×C matrix in either orientation, or a vector
 * of class indices (1-based when the smallest is 1, as in MATLAB). `n` when known fixes orientation.
 */
export function labelsFrom(a: NdArray, where: string, n?: number, itemsAsColumns = false): { n: number; numLabels: number; labels: Uint8Array } {
  const shape = a.shape.filter((d, i) => !(d === 1 && a.shape.length > 1 && i > 0) || a.shape.length === 1);
  const isVector = a.shape.length === 1 || a.shape.some((d) => d === 1) && a.shape.length === 2;
  if (isVector) {
    const len = a.data.length;
    if (n !== undefined && len !== n) throw new InputError(`${where}: ${len} class indices for ${n} items`);
    let min = Infinity; let max = -Infinity;
    for (let i = 0; i < len; i++) { const v = valueAt(a, i); if (!Number.isInteger(v)) throw new InputError(`${where}: class index vector holds non-integer ${v} at ${i}`); min = Math.min(min, v); max = Math.max(max, v); }
    const base = min >= 1 ? 1 : 0;
    if (min < 0) throw new InputError(`${where}: negative class index ${min}`);
    const C = max - base + 1;
    if (C > 100000) throw new InputError(`${where}: class index ${max} implies ${C} classes`);
    const labels = new Uint8Array(len * C);
    for (let i = 0; i < len; i++) labels[i * C + valueAt(a, i) - base] = 1;
    return { n: len, numLabels: C, labels };
  }
  if (a.shape.length !== 2) throw new InputError(`${where}: labels must be a matrix or a vector, found shape [${a.shape.join(', ')}]`);
  void shape;
  let [r, c] = a.shape as [number, number];
  let transposed = false;
  if (n !== undefined) { if (c === n && (r !== n || itemsAsColumns)) transposed = true; else if (r !== n) throw new InputError(`${where}: labels shape [${r}, ${c}] does not match ${n} items`); }
  else if (c > r) transposed = true; // items outnumber classes
  const src = a.data;
  const labels = new Uint8Array(r * c);
  for (let i = 0; i < labels.length; i++) {
    const v = typeof src[i] === 'bigint' ? Number(src[i]) : (src[i] as number);
    // 0/1 or ±1 only: a 2 or a 0.5 (scores, counts) is not a label, and reading it as "v > 0" hid that
    if (v !== 1 && v !== 0 && v !== -1) throw new InputError(`${where}: label value ${v} at [${Math.floor(i / c)}, ${i % c}]; expected a 0/1 (or ±1) matrix or a vector of class indices`);
    labels[i] = v === 1 ? 1 : 0;
  }
  if (transposed) { const t = transpose2d(labels, r, c); [r, c] = [c, r]; return { n: r, numLabels: c, labels: t }; }
  return { n: r, numLabels: c, labels };
}

/**
 * n×d float32 features, transposing a d×n matrix when that is what the file holds (its columns
 * match the item count). `itemsAsColumns` (--transpose) forces the d×n reading.
 */
export function featuresFrom(a: NdArray, where: string, n: number, itemsAsColumns = false): { dim: number; data: Float32Array } {
  if (a.shape.length > 2) {
    throw new InputError(`${where}: expected an items × features matrix, found shape [${a.shape.join(', ')}] — this looks like raw pixels; extract features first (cmhash data extract)`);
  }
  if (itemsAsColumns) {
    if (a.shape.length !== 2 || a.shape[1] !== n) throw new InputError(`${where}: --transpose (items as columns): expected ${n} columns, one per item, found shape [${a.shape.join(', ')}]`);
    const m = toFloat32Matrix(a, where);
    return { dim: m.rows, data: transpose2d(m.data, m.rows, m.cols) };
  }
  const m = toFloat32Matrix(a, where);
  if (m.rows === n) return { dim: m.cols, data: m.data === a.data ? m.data.slice() : m.data };
  if (m.cols === n && a.shape.length === 2) return { dim: m.rows, data: transpose2d(m.data, m.rows, m.cols) };
  throw new InputError(`${where}: expected ${n} rows (one per item), found shape [${a.shape.join(', ')}]`);
}

export interface StandardSplitOptions { querySize: number; trainSize: number; seed: number }

/**
 * The DCMH-style protocol: a random query set of `querySize`, the rest is retrieval (database),
 * and `trainSize` training rows sampled from retrieval. Sizes shrink for small data (query ≤ 10%
 * of n, train ≤ retrieval) so tiny test files still get all splits.
 */
export function standardSplits(n: number, o: StandardSplitOptions): Record<string, Int32Array> {
  const q = Math.min(o.querySize, Math.max(1, Math.floor(n / 10)));
  const perm = new Rng(o.seed).permutation(n);
  const query = perm.slice(0, q).sort();
  const retrievalPerm = perm.slice(q);
  const train = retrievalPerm.slice(0, Math.min(o.trainSize, retrievalPerm.length)).sort();
  const retrieval = Int32Array.from(retrievalPerm).sort();
  return { query, retrieval, train };
}

export function range(a: number, b: number): Int32Array { return Int32Array.from({ length: b - a }, (_, i) => a + i); }

export interface PresetOptions {
  seed?: number;
  /** Rows carved from train into a validation split (count, or fraction < 1). */
  validation?: number;
  querySize?: number;
  trainSize?: number;
  /** Wikipedia: which copy to read. MIRFlickr: which files. */
  source?: string;
  /** Non-finite features: 'reject' (default) or 'report'. */
  nonFinite?: 'reject' | 'report';
  /** Variable names overriding the preset's guesses (a struct field by path: `data.X1`). */
  keys?: { image?: string; text?: string; labels?: string };
  /** Feature (and label) matrices hold one item per column (d × n): transpose them (--transpose). */
  transpose?: boolean;
  /** MIRFlickr: 'shared' (gist512+hsv256 .npy) or 'extracted' (computed here from the photos). */
  imageFeatures?: 'shared' | 'extracted';
  /** Where extracted features are cached (resumable). */
  cacheDir?: string;
  /** Progress callback for long steps (extraction). */
  onProgress?: (done: number, total: number) => void;
}
