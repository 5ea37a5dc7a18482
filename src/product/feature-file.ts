// Feature files for the CLI: .npy (a 2-D float matrix, or 1-D for one row) or .json (an array of
// numbers for one row, or an array of rows).
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { readNpy } from '../data/npy.js';
import { toFloat32Matrix } from '../data/ndarray.js';
import { InputError } from '../util/errors.js';

export interface FeatureRows { rows: number; dim: number; data: Float32Array }

export function readFeatureFile(path: string): FeatureRows {
  const ext = extname(path).toLowerCase();
  if (ext === '.npy') {
    const a = readNpy(path);
    if (a.shape.length === 1) { const m = toFloat32Matrix({ ...a, shape: [1, a.shape[0]!] }, path); return { rows: 1, dim: m.cols, data: m.data }; }
    if (a.shape.length !== 2) throw new InputError(`${path}: expected a rows × features matrix, found shape [${a.shape.join(', ')}]`);
    const m = toFloat32Matrix(a, path);
    return { rows: m.rows, dim: m.cols, data: m.data };
  }
  if (ext === '.json') {
    let v: unknown;
    try { v = JSON.parse(readFileSync(path, 'utf8')); } catch (e) { throw new InputError(`${path}: not valid JSON (${(e as Error).message})`); }
    const rows = Array.isArray(v) && v.length > 0 && Array.isArray(v[0]) ? (v as unknown[][]) : [v as unknown[]];
    if (!Array.isArray(rows[0])) throw new InputError(`${path}: expected an array of numbers or an array of rows`);
    const dim = rows[0].length;
    const data = new Float32Array(rows.length * dim);
    rows.forEach((r, i) => {
      if (!Array.isArray(r) || r.length !== dim) throw new InputError(`${path}: row ${i} has ${Array.isArray(r) ? r.length : 'no'} values, expected ${dim}`);
      r.forEach((x, j) => {
        if (typeof x !== 'number' || !Number.isFinite(x)) throw new InputError(`${path}: row ${i}, column ${j} is ${JSON.stringify(x)}, expected a finite number`);
        data[i * dim + j] = x;
      });
    });
    return { rows: rows.length, dim, data };
  }
  throw new InputError(`${path}: unknown feature file type '${ext}' (expected .npy or .json)`);
}

/** Row i of a feature file. */
export function featureRow(f: FeatureRows, i: number): Float32Array { return f.data.subarray(i * f.dim, (i + 1) * f.dim); }
