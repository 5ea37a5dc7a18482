// Named arrays from any container format the field uses: .mat (v5 or v7.3), .h5/.hdf5, .npz, .npy.
// Arrays come back in C order with items along whatever axis the file used; presets orient them.
import { basename, extname } from 'node:path';
import { InputError } from '../util/errors.js';
import type { NdArray } from './ndarray.js';
import { readMat, listMat } from './mat.js';
import { readH5, listH5 } from './hdf5.js';
import { readNpz, readNpy } from './npy.js';

export type ContainerKind = 'mat' | 'h5' | 'npz' | 'npy';

export function containerKind(path: string): ContainerKind | null {
  const e = extname(path).toLowerCase();
  if (e === '.mat') return 'mat';
  if (e === '.h5' || e === '.hdf5' || e === '.h5py') return 'h5';
  if (e === '.npz') return 'npz';
  if (e === '.npy') return 'npy';
  return null;
}

/** Variable names in a container (dataset paths for HDF5, the file stem for .npy). */
export async function listArrays(path: string): Promise<{ name: string; shape: number[]; type: string }[]> {
  switch (containerKind(path)) {
    case 'mat': return (await listMat(path)).map((v) => ({ name: v.name, shape: v.dims, type: v.class }));
    case 'h5': return (await listH5(path)).map((v) => ({ name: v.name, shape: v.shape, type: String(v.dtype) }));
    case 'npz': return [...readNpz(path)].map(([name, a]) => ({ name, shape: a.shape, type: a.dtype }));
    case 'npy': { const a = readNpy(path); return [{ name: basename(path, '.npy'), shape: a.shape, type: a.dtype }]; }
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
    case 'npy': { out.set(names[0] ?? basename(path, '.npy'), readNpy(path)); return out; }
    default: throw new InputError(`${path}: unknown file type '${extname(path)}' (expected .mat, .h5, .npz or .npy)`);
  }
}
