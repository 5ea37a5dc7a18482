// One entry point for .mat files of either generation: v5/v7 (own reader) or v7.3 (HDF5).
import { openSync, readSync, closeSync, existsSync, statSync } from 'node:fs';
import { CorruptDataError, NotFoundError } from '../util/errors.js';
import { matVersion, readMatV5, listMatV5, type MatVariable, type MatVariableInfo, type MatVersion } from './mat-v5.js';
import { readMatV73, listMatV73 } from './mat-v73.js';

export function matFileVersion(path: string): MatVersion {
  if (!existsSync(path)) throw new NotFoundError(`${path}: no such file`);
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(Math.min(520, statSync(path).size));
    readSync(fd, buf, 0, buf.length, 0);
    return matVersion(buf);
  } finally { closeSync(fd); }
}

function requireKnown(path: string): 'v5' | 'v7.3' {
  const v = matFileVersion(path);
  if (v === 'unknown') throw new CorruptDataError(`${path}: not a MATLAB .mat file (wrong magic: neither a v5 'MATLAB 5.0 MAT-file' header nor HDF5 v7.3)`);
  return v;
}

export async function listMat(path: string): Promise<MatVariableInfo[]> {
  return requireKnown(path) === 'v5' ? listMatV5(path) : listMatV73(path);
}

/** Reads variables (C order, MATLAB dims) from a .mat file of any supported version. */
export async function readMat(path: string, names?: string[]): Promise<Map<string, MatVariable>> {
  return requireKnown(path) === 'v5' ? readMatV5(path, { names }) : readMatV73(path, names);
}
