// Named arrays from any container format the field uses: .mat (v5 or v7.3), .h5/.hdf5, .npz, .npy.
// Arrays come back in C order with items along whatever axis the file used; presets orient them.
import { basename, extname } from 'node:path';
import { InputError } from '../util/errors.js';
import type { NdArray } from './ndarray.js';
import { readMat, listMat } from './mat.js';
import { readH5, listH5 } from './hdf5.js';
import { npyInfo, readNpz, readNpy } from './npy.js';

export type ContainerKind = 'mat' | 'h5' | 'npz' | 'npy';

export function containerKind(path: string): ContainerKind | null {
  const e = extname(path).toLowerCase();
  if (e === '.mat') return 'mat';
  if (e === '.h5' || e === '.hdf5' || e === '.h5py') return 'h5';
  if (e === '.npz') return 'npz';
  if (e === '.npy') return 'npy';
  return null;
}

export interface ArrayInfo { name: string; shape: number[]; type: string }

const npyStem = (path: string) => basename(path).replace(/\.npy$/i, '');

/**
 * Variable names in a container: .mat variables (a 1×1 struct's fields as `data.X1`), dataset
 * paths for HDF5 (`group/name`), npz members, the file stem for .npy (header only, data not read).
 */
export async function listArrays(path: string): Promise<ArrayInfo[]> {
  switch (containerKind(path)) {
    case 'mat': return (await listMat(path)).map((v) => ({ name: v.name, shape: v.dims, type: v.class }));
    case 'h5': return (await listH5(path)).map((v) => ({ name: v.name, shape: v.shape, type: String(v.dtype) }));
    case 'npz': return [...readNpz(path)].map(([name, a]) => ({ name, shape: a.shape, type: a.dtype }));
    case 'npy': { const a = npyInfo(path); return [{ name: npyStem(path), shape: a.shape, type: a.dtype }]; }
    default: throw new InputError(`${path}: unknown file type '${extname(path)}' (expected .mat, .h5, .npz or .npy)`);
  }
}

/** Reads the named arrays; char/cell/struct variables are not arrays and raise an InputError. */
export async function readArrays(path: string, names: string[]): Promise<Map<string, NdArray>> {
  const out = new Map<string, NdArray>();
  switch (containerKind(path)) {
    case 'mat': {
      const vars = await readMat(path, names);
      for (const n of names) {
        const v = vars.get(n)!;
        if (!v.array) throw new InputError(`${path}: variable '${n}' is a MATLAB ${v.class} with dims [${v.dims.join(', ')}], expected a numeric or logical array`);
        out.set(n, v.array);
      }
      return out;
    }
    case 'h5': return readH5(path, names);
    case 'npz': return readNpz(path, names);
    case 'npy': { out.set(names[0] ?? npyStem(path), readNpy(path)); return out; }
    default: throw new InputError(`${path}: unknown file type '${extname(path)}' (expected .mat, .h5, .npz or .npy)`);
  }
}

/** Classes that name something other than a numeric array (listed, never read as features). */
export const NON_ARRAY_TYPES = new Set(['char', 'cell', 'struct', 'object', 'function_handle']);

/** `data.X1 [128×2866 double]`. */
export function describeArray(a: ArrayInfo): string { return `${a.name} [${a.shape.join('×')} ${a.type}]`; }

const normalise = (k: string) => k.replace(/\//g, '.').replace(/^\.+/, '');

/**
 * The listed name a user's key refers to: exact, else the same path with either separator — a
 * struct field `data.X1` is the HDF5 dataset `/data/X1` — or null.
 */
export function resolveArrayName(listing: ArrayInfo[], key: string): string | null {
  if (listing.some((a) => a.name === key)) return key;
  const k = normalise(key);
  return listing.find((a) => normalise(a.name) === k)?.name ?? null;
}

/** Listed names under a struct / group path (`data` → data.X1, data.X2, …). */
export function fieldsUnder(listing: ArrayInfo[], key: string): ArrayInfo[] {
  const k = normalise(key);
  return listing.filter((a) => normalise(a.name).startsWith(`${k}.`));
}
