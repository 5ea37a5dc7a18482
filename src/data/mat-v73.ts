// MATLAB v7.3 .mat files are HDF5 files (with a 512-byte MATLAB header as HDF5 "user block").
// MATLAB writes its column-major m×n array as an HDF5 dataset of shape [n, m] in C order, so the
// bytes are the same and only the shape is reversed: MATLAB dims = reverse(HDF5 shape), and the
// values are column-major over those dims. We convert to C order (row-major) like every loader.
// Attributes tell MATLAB classes apart: MATLAB_class ('double', 'logical', 'char', …) and
// MATLAB_sparse (a group holding data/ir/jc).
import { statSync } from 'node:fs';
import { CorruptDataError, InputError, NotFoundError } from '../util/errors.js';
import { elementCount, fortranToC, valueAt, type NdArray } from './ndarray.js';
import { closeH5, h5wasm, openH5, readH5DatasetFrom } from './hdf5.js';
import { assertH5Quiet, h5Error } from './hdf5-diagnostics.js';
import type { MatVariable, MatVariableInfo } from './mat-v5.js';

/** Struct nesting we follow (deeper groups are listed, not walked). */
const MAX_STRUCT_DEPTH = 8;

type H5 = Awaited<ReturnType<typeof h5wasm>>;
type H5Node = ReturnType<Awaited<ReturnType<typeof openH5>>['get']>;
interface V73Entry { name: string; h5path: string; node: NonNullable<H5Node> }

/**
 * The variables of a v7.3 file: top-level datasets and sparse groups, and the fields of a struct
 * (an HDF5 group) named by path — MATLAB `data.X1` is the HDF5 dataset `/data/X1`.
 */
function entries(f: { keys(): string[]; get(k: string): H5Node }, h5: H5, prefix = '', h5prefix = '', depth = 0): V73Entry[] {
  const out: V73Entry[] = [];
  for (const k of f.keys()) {
    if (!prefix && (k === '#refs#' || k === '#subsystem#')) continue;
    const e = f.get(k);
    if (!e) continue;
    const name = prefix ? `${prefix}.${k}` : k; const h5path = h5prefix ? `${h5prefix}/${k}` : k;
    if (e instanceof h5.Group && attr(e, 'MATLAB_sparse') === undefined && String(attr(e, 'MATLAB_class') ?? 'struct') === 'struct' && depth < MAX_STRUCT_DEPTH && e.keys().length > 0) {
      out.push(...entries(e, h5, name, h5path, depth + 1));
    } else out.push({ name, h5path, node: e });
  }
  return out;
}

/** Lists variables with MATLAB dims and class; a struct's fields are listed as `struct.field`. */
export async function listMatV73(path: string): Promise<MatVariableInfo[]> {
  const h5 = await h5wasm();
  const f = await openH5(path);
  try {
    const out: MatVariableInfo[] = [];
    for (const { name, node: e } of entries(f, h5)) {
      if (e instanceof h5.Dataset) {
        out.push({ name, dims: [...(e.shape ?? [])].reverse(), class: String(attr(e, 'MATLAB_class') ?? 'double'), compressed: !!e.metadata.chunks });
      } else if (e instanceof h5.Group) {
        const sparseRows = attr(e, 'MATLAB_sparse');
        const jc = e.get('jc');
        const cols = jc instanceof h5.Dataset ? Math.max(0, (jc.shape?.[0] ?? 1) - 1) : 0;
        out.push({ name, dims: sparseRows !== undefined ? [Number(sparseRows), cols] : [], class: sparseRows !== undefined ? 'sparse' : String(attr(e, 'MATLAB_class') ?? 'struct'), compressed: false });
      }
    }
    assertH5Quiet(path, 'listing v7.3 variables');
    return out;
  } catch (e) {
    throw h5Error(path, e, 'listing v7.3 variables');
  } finally { closeH5(f); }
}

function attr(e: { attrs: Record<string, unknown>; get_attribute(n: string, j: true): unknown }, name: string): unknown {
  try { return name in e.attrs ? e.get_attribute(name, true) : undefined; } catch { return undefined; }
}

/** Reads variables (all numeric/logical/char/sparse ones, or those named; struct fields as `data.X1`) from a v7.3 file. */
export async function readMatV73(path: string, names?: string[]): Promise<Map<string, MatVariable>> {
  const h5 = await h5wasm();
  const f = await openH5(path);
  const size = statSync(path).size;
  try {
    const all = entries(f, h5);
    const byName = new Map(all.map((x) => [x.name, x]));
    if (names) for (const n of names) if (!byName.has(n)) throw new NotFoundError(`${path}: no variable '${n}' (found: ${all.map((x) => x.name).join(', ') || 'none'})`);
    const out = new Map<string, MatVariable>();
    for (const k of names ?? all.map((x) => x.name)) {
      const hp = byName.get(k)!.h5path;
      const e = f.get(hp);
      assertH5Quiet(path, `variable '${k}'`);
      const where = `${path}: variable '${k}'`;
      if (e instanceof h5.Group) {
        const rows = attr(e, 'MATLAB_sparse');
        if (rows === undefined) { out.set(k, { name: k, dims: [], class: String(attr(e, 'MATLAB_class') ?? 'struct'), compressed: false }); continue; }
        out.set(k, { ...readSparse(f, h5, path, hp, Number(rows), size), name: k });
        continue;
      }
      if (!(e instanceof h5.Dataset)) continue;
      const cls = String(attr(e, 'MATLAB_class') ?? 'double');
      if (cls === 'cell' || cls === 'struct') { out.set(k, { name: k, dims: [...(e.shape ?? [])].reverse(), class: cls, compressed: false }); continue; }
      if (attr(e, 'MATLAB_empty')) { out.set(k, { name: k, dims: [0, 0], class: cls, compressed: false, array: { shape: [0, 0], dtype: 'float64', data: new Float64Array(0) } }); continue; }
      const raw = readH5DatasetFrom(f, h5, path, hp, size);
      const dims = raw.shape.slice().reverse();
      if (dims.length === 1) dims.push(1);
      if (cls === 'char') {
        const rows = dims[0]!; const cols = dims.slice(1).reduce((a, b) => a * b, 1);
        const strings: string[] = [];
        for (let i = 0; i < rows; i++) { let s = ''; for (let j = 0; j < cols; j++) s += String.fromCharCode(valueAt(raw, j * rows + i)); strings.push(s.replace(/\s+$/, '')); }
        out.set(k, { name: k, dims, class: 'char', compressed: false, strings });
        continue;
      }
      if (raw.dtype === 'float64' || raw.dtype === 'float32' || cls !== 'complex') {
        const data = fortranToC(raw.data, dims);
        const logical = cls === 'logical';
        out.set(k, { name: k, dims, class: cls, compressed: false, array: { shape: dims, dtype: logical ? 'bool' : raw.dtype, data } });
      } else throw new InputError(`${where}: unsupported MATLAB class '${cls}'`);
    }
    return out;
  } catch (e) {
    throw h5Error(path, e, 'reading v7.3 variables');
  } finally { closeH5(f); }
}

function readSparse(f: Parameters<typeof readH5DatasetFrom>[0], h5: Parameters<typeof readH5DatasetFrom>[1], path: string, name: string, rows: number, size: number): MatVariable {
  const where = `${path}: sparse variable '${name}'`;
  const jc = readH5DatasetFrom(f, h5, path, `${name}/jc`, size);
  const cols = jc.data.length - 1;
  const dense = elementCount([rows, cols], where);
  const g = f.get(name) as { keys(): string[] };
  const hasData = g.keys().includes('data');
  const ir = g.keys().includes('ir') ? readH5DatasetFrom(f, h5, path, `${name}/ir`, size) : null;
  const pr = hasData ? readH5DatasetFrom(f, h5, path, `${name}/data`, size) : null;
  const out = new Float64Array(dense);
  const nnz = ir ? ir.data.length : 0;
  for (let c = 0; c < cols; c++) {
    const a = valueAt(jc, c); const b = valueAt(jc, c + 1);
    if (a < 0 || b < a || b > nnz) throw new CorruptDataError(`${where}: column pointer jc[${c + 1}]=${b} out of range (nnz ${nnz})`);
    for (let p = a; p < b; p++) {
      const r = valueAt(ir!, p);
      if (r < 0 || r >= rows) throw new CorruptDataError(`${where}: row index ${r} out of range [0, ${rows})`);
      out[r * cols + c] = pr ? valueAt(pr, p) : 1;
    }
  }
  const arr: NdArray = { shape: [rows, cols], dtype: 'float64', data: out };
  return { name, dims: [rows, cols], class: 'sparse', compressed: false, array: arr };
}
