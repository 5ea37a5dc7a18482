// loadDataset(spec): a preset name ("wikipedia", "mirflickr25k", "mirflickr25k-photos", …),
// "preset:path" to read a preset's layout from another place, or a path — a folder in a known
// layout (preset folders, a folder of .npy arrays), a .mat/.h5/.npz file with IAll/YAll/LAll-style
// keys (or any keys named with opts.keys), or a JSONL/CSV manifest.
// "synthetic[:n[:classes]]" generates data (src/data/synthetic.ts) from opts.seed.
// A file's name never decides alone: a wiki*/raw_features* file goes to the Wikipedia preset only
// when it holds that preset's variables and no keys were named; explicit keys always win.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { InputError, NotFoundError } from '../util/errors.js';
import type { Dataset } from './dataset.js';
import { loadManifestDataset, type ManifestOptions } from './manifest.js';
import { findPreset, PRESETS } from './presets/index.js';
import { loadKeyed } from './presets/keyed.js';
import { hasWikipediaLayout, loadWikipedia } from './presets/wikipedia.js';
import { loadMirflickr, mirflickrMatFiles } from './presets/mirflickr25k.js';
import { dataRoots, IMAGE_KEYS, LABEL_KEYS, pickKey, TEXT_KEYS } from './presets/common.js';
import { readNpy } from './npy.js';
import { valueAt } from './ndarray.js';
import { generateSynthetic } from './synthetic.js';

export type LoadOptions = ManifestOptions;

const explicitKeys = (opts: LoadOptions) => !!(opts.keys && (opts.keys.image || opts.keys.text || opts.keys.labels));

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
    if (/^(raw_features|wiki)/.test(stem) && !explicitKeys(opts) && await hasWikipediaLayout(spec)) return loadWikipedia(spec, opts);
    return loadKeyed([spec], { name: basename(spec), querySize: 2000, trainSize: 10000 }, opts);
  }
  throw new InputError(`${spec}: unknown file type '${ext}' (expected a folder, .mat, .h5, .npz, .jsonl or .csv)`);
}

async function loadFolder(dir: string, opts: LoadOptions): Promise<Dataset> {
  const names = readdirSync(dir);
  if (names.includes('image_sift_bovw128.npy') || names.includes('raw_features.mat') || names.includes('original') && existsSync(join(dir, 'original', 'raw_features.mat'))) return loadWikipedia(dir, opts);
  if (names.includes('all_labels24.npy') || mirflickrMatFiles(dir)) return loadMirflickr(dir, opts);
  const npyFolder = npyLayout(dir, names, opts);
  if (npyFolder) return npyFolder;
  for (const p of PRESETS) {
    try { return await p.load(dir, opts); } catch (e) { if (!(e instanceof NotFoundError)) throw e; }
  }
  const manifest = names.find((n) => /\.(jsonl|csv)$/i.test(n));
  if (manifest) return loadManifestDataset(join(dir, manifest), opts);
  throw new NotFoundError(`${dir}: no known dataset layout (looked for the Wikipedia/MIRFlickr .npy folders, a .npy folder with image/text/labels, IAll/YAll/LAll, X/Y/L or I_tr/T_tr/L_tr + I_te/T_te/L_te arrays, *-iall/yall/lall.mat files, a single IAll/YAll/LAll .mat/.h5, or a .jsonl/.csv manifest; found ${names.slice(0, 20).join(', ') || 'an empty folder'}${names.length > 20 ? ', …' : ''})`);
}

/** Split files a .npy folder may carry (first found wins). */
export const SPLIT_FILES = ['splits.json', 'split.json', 'split.npy', 'splits.npy'];

/**
 * A folder of .npy arrays in a common layout: image/text/labels, IAll/YAll/LAll, X/Y/L (any case),
 * or I_tr/T_tr/L_tr + I_te/T_te/L_te (+ _db) already split; or any arrays named with opts.keys.
 * Returns null when the folder is not such a layout.
 */
function npyLayout(dir: string, names: string[], opts: LoadOptions): Promise<Dataset> | null {
  const npys = names.filter((n) => /\.npy$/i.test(n)).sort();
  if (npys.length === 0) return null;
  const stems = npys.map((n) => n.replace(/\.npy$/i, ''));
  const splitFile = names.find((n) => SPLIT_FILES.includes(n.toLowerCase()));
  const splitStem = splitFile && /\.npy$/i.test(splitFile) ? splitFile.replace(/\.npy$/i, '') : null;
  const arrays = stems.filter((s) => s !== splitStem);
  const preSplit = !!(pickKey(arrays, ['L_tr']) && pickKey(arrays, ['L_te']));
  const paired = !!(pickKey(arrays, LABEL_KEYS) && (pickKey(arrays, IMAGE_KEYS) || pickKey(arrays, TEXT_KEYS)));
  if (!explicitKeys(opts) && !preSplit && !paired) return null;
  if (splitFile && preSplit && !paired) throw new InputError(`${dir}: ${splitFile} and I_tr/I_te-style arrays both give a split; keep one`);
  const files = npys.filter((n) => n.replace(/\.npy$/i, '') !== splitStem).map((n) => join(dir, n));
  return loadKeyed(files, {
    name: basename(dir), querySize: 2000, trainSize: 10000,
    splitsFor: splitFile ? (n) => readSplitFile(join(dir, splitFile), n) : undefined,
  }, opts);
}

/**
 * A split file for n rows: JSON {"train": [rows], "query": [rows], "retrieval": [rows], …} (0-based
 * row numbers, any split names), or an integer .npy vector of n codes: 0 = train and retrieval,
 * 1 = query, 2 = retrieval only.
 */
export function readSplitFile(path: string, n: number): Record<string, Int32Array> {
  const out: Record<string, Int32Array> = {};
  if (/\.json$/i.test(path)) {
    let j: unknown;
    try { j = JSON.parse(readFileSync(path, 'utf8')); } catch (e) { throw new InputError(`${path}: not valid JSON (${(e as Error).message})`); }
    if (!j || typeof j !== 'object' || Array.isArray(j)) throw new InputError(`${path}: expected an object {"train": [rows], "query": [rows], "retrieval": [rows]}`);
    for (const [name, rows] of Object.entries(j as Record<string, unknown>)) {
      if (!Array.isArray(rows)) throw new InputError(`${path}: split '${name}' must be an array of row numbers`);
      rows.forEach((r, i) => {
        if (!Number.isInteger(r) || (r as number) < 0 || (r as number) >= n) throw new InputError(`${path}: split '${name}' has ${JSON.stringify(r)} at position ${i}; rows are integers in [0, ${n})`);
      });
      out[name] = Int32Array.from(rows as number[]);
    }
    if (Object.keys(out).length === 0) throw new InputError(`${path}: no splits (expected {"train": [rows], "query": [rows], "retrieval": [rows]})`);
    return out;
  }
  const a = readNpy(path);
  if (a.data.length !== n || (a.shape.length > 1 && a.shape.filter((d) => d !== 1).length > 1)) throw new InputError(`${path}: expected ${n} split codes (one per row), found shape [${a.shape.join(', ')}]`);
  const train: number[] = []; const query: number[] = []; const retrieval: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = valueAt(a, i);
    if (c === 0) { train.push(i); retrieval.push(i); } else if (c === 1) query.push(i); else if (c === 2) retrieval.push(i);
    else throw new InputError(`${path}: split code ${c} at row ${i}; codes are 0 = train and retrieval, 1 = query, 2 = retrieval only`);
  }
  return { train: Int32Array.from(train), query: Int32Array.from(query), retrieval: Int32Array.from(retrieval) };
}
