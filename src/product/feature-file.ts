// Feature files for the CLI: .npy (a 2-D float matrix, or 1-D for one row) or .json (an array of
// numbers for one row, or an array of rows).
import { extname } from 'node:path';
import { readBytes, readNpy } from '../data/npy.js';
import { toFloat32Matrix } from '../data/ndarray.js';
import { InputError } from '../util/errors.js';

export interface FeatureRows { rows: number; dim: number; data: Float32Array }

export function readFeatureFile(path: string): FeatureRows {
  const f = readAnyFeatureFile(path);
  if (f.rows === 0) throw new InputError(`${path}: no rows (expected at least one feature vector)`);
  return f;
}

function readAnyFeatureFile(path: string): FeatureRows {
  const ext = extname(path).toLowerCase();
  if (ext === '.npy') {
    const a = readNpy(path);
    if (a.shape.length !== 1 && a.shape.length !== 2) throw new InputError(`${path}: expected a rows × features matrix, found shape [${a.shape.join(', ')}]`);
    const m = toFloat32Matrix(a.shape.length === 1 ? { ...a, shape: [1, a.shape[0]!] } : a, path);
    checkFinite(path, m.data, m.cols);
    return { rows: m.rows, dim: m.cols, data: m.data };
  }
  if (ext === '.json') {
    let v: unknown;
    const text = new TextDecoder().decode(readBytes(path)); // a missing file: NotFoundError (exit 3)
    try { v = JSON.parse(text); } catch (e) { throw new InputError(`${path}: not valid JSON (${(e as Error).message})`); }
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

/**
 * A NaN or infinite value (or one beyond the float32 range, infinite once converted) would still
 * give a code, a meaningless one: refused, as the .json branch and the collection's checks refuse it.
 */
function checkFinite(path: string, data: Float32Array, dim: number): void {
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i]!)) {
      throw new InputError(`${path}: row ${Math.floor(i / dim)}, column ${i % dim} is ${Number.isNaN(data[i]!) ? 'NaN' : 'infinite in float32'}, expected a finite number`);
    }
  }
}

/** Row i of a feature file. */
export function featureRow(f: FeatureRows, i: number): Float32Array { return f.data.subarray(i * f.dim, (i + 1) * f.dim); }
