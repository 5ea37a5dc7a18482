// loadDataset(spec): a preset name ("wikipedia", "mirflickr25k", "mirflickr25k-photos", …),
// "preset:path" to read a preset's layout from another place, or a path — a folder in a known
// layout, a .mat/.h5/.npz file with IAll/YAll/LAll-style keys, or a JSONL/CSV manifest.
// "synthetic[:n[:classes]]" generates data (src/data/synthetic.ts) from opts.seed.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { InputError, NotFoundError } from '../util/errors.js';
import type { Dataset } from './dataset.js';
import { loadManifestDataset, type ManifestOptions } from './manifest.js';
import { findPreset, PRESETS } from './presets/index.js';
import { loadKeyed } from './presets/keyed.js';
import { loadWikipedia } from './presets/wikipedia.js';
import { loadMirflickr, mirflickrMatFiles } from './presets/mirflickr25k.js';
import { dataRoots } from './presets/common.js';
import { generateSynthetic } from './synthetic.js';

export type LoadOptions = ManifestOptions;

export async function loadDataset(spec: string, opts: LoadOptions = {}): Promise<Dataset> {
  const syn = /^synthetic(?::(\d+))?(?::(\d+))?$/.exec(spec);
  if (syn && !existsSync(spec)) {
    const n = Number(syn[1] ?? 5000), C = Number(syn[2] ?? 24);
    if (C < 1 || C > 4096) throw new InputError(`${spec}: classes must be between 1 and 4096, got ${C}`);
    const ds = generateSynthetic({ n, numLabels: C, seed: opts.seed ?? 0, querySize: opts.querySize ?? Math.min(2000, Math.max(10, Math.floor(n / 10))), trainSize: opts.trainSize });
    return opts.validation ? ds.withValidation(opts.validation, (opts.seed ?? 0) + 1) : ds;
  }
  const colon = spec.indexOf(':');
  if (colon > 1) { // "preset:path" (colon > 1 keeps Windows drive letters out)
    const p = findPreset(spec.slice(0, colon));
    if (p) return p.load(spec.slice(colon + 1), opts);
  }
  if (!existsSync(spec)) {
    const p = findPreset(spec);
    if (p) return p.load(null, opts);
    throw new NotFoundError(`${spec}: neither a file/folder nor a preset (presets: ${PRESETS.map((x) => x.name).join(', ')}; data roots searched: ${dataRoots().join(', ')})`);
  }
  if (statSync(spec).isDirectory()) return loadFolder(spec, opts);
  const ext = extname(spec).toLowerCase();
  if (ext === '.jsonl' || ext === '.csv' || ext === '.ndjson') return loadManifestDataset(spec, opts);
  if (ext === '.mat' || ext === '.h5' || ext === '.hdf5' || ext === '.npz') {
    const stem = basename(spec).toLowerCase();
    if (/^(raw_features|wiki)/.test(stem)) return loadWikipedia(spec, opts);
    return loadKeyed([spec], { name: basename(spec), querySize: 2000, trainSize: 10000 }, opts);
  }
  throw new InputError(`${spec}: unknown file type '${ext}' (expected a folder, .mat, .h5, .npz, .jsonl or .csv)`);
}

async function loadFolder(dir: string, opts: LoadOptions): Promise<Dataset> {
  const names = readdirSync(dir);
  if (names.includes('image_sift_bovw128.npy') || names.includes('raw_features.mat') || names.includes('original') && existsSync(join(dir, 'original', 'raw_features.mat'))) return loadWikipedia(dir, opts);
  if (names.includes('all_labels24.npy') || mirflickrMatFiles(dir)) return loadMirflickr(dir, opts);
  for (const p of PRESETS) {
    try { return await p.load(dir, opts); } catch (e) { if (!(e instanceof NotFoundError)) throw e; }
  }
  const manifest = names.find((n) => /\.(jsonl|csv)$/i.test(n));
  if (manifest) return loadManifestDataset(join(dir, manifest), opts);
  throw new NotFoundError(`${dir}: no known dataset layout (looked for the Wikipedia/MIRFlickr .npy folders, *-iall/yall/lall.mat files, a single IAll/YAll/LAll .mat/.h5, or a .jsonl/.csv manifest)`);
}
