// A preset that is only "which file names, which standard split": shared by nus-wide-tc10,
// ms-coco and iapr-tc12, which the DCMH family ships as IAll/YAll/LAll arrays.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { NotFoundError } from '../../util/errors.js';
import type { Dataset } from '../dataset.js';
import { findDataDir, type PresetOptions } from './common.js';
import { loadKeyed, type KeyedDefaults } from './keyed.js';

export interface KeyedPreset extends KeyedDefaults {
  /** Folder name under the data roots. */
  folder: string;
  /** Per-modality file stems: `<stem>-iall.mat` etc. */
  stems: string[];
  /** Single-file names (matched case-insensitively, any of .mat/.h5). */
  single: string[];
}

export function findKeyedFiles(dir: string, p: KeyedPreset): string[] | null {
  const names = readdirSync(dir); const lower = new Map(names.map((n) => [n.toLowerCase(), n]));
  for (const stem of p.stems) {
    const got = ['iall', 'yall', 'lall'].map((s) => lower.get(`${stem}-${s}.mat`.toLowerCase()) ?? lower.get(`${stem}-${s}.h5`.toLowerCase())).filter((x): x is string => !!x);
    if (got.length >= 2) return got.map((n) => join(dir, n));
  }
  for (const s of p.single) for (const ext of ['.mat', '.h5', '.hdf5', '.npz']) { const n = lower.get(`${s}${ext}`.toLowerCase()); if (n) return [join(dir, n)]; }
  return null;
}

export async function loadKeyedPreset(p: KeyedPreset, spec: string | null, opts: PresetOptions): Promise<Dataset> {
  const dir = spec ?? findDataDir(p.folder);
  if (!dir) throw new NotFoundError(`${p.name}: data not found; put it under $CMHASH_DATA/${p.folder} or ../shared/data/${p.folder}`);
  if (!statSync(dir).isDirectory()) return loadKeyed([dir], p, opts);
  const files = findKeyedFiles(dir, p);
  if (!files) throw new NotFoundError(`${dir}: no ${p.name} files (expected ${p.stems.map((s) => `${s}-iall/yall/lall.mat`).join(' or ')} or ${p.single.map((s) => s + '.mat').join(', ')})`);
  return loadKeyed(files, p, opts);
}
