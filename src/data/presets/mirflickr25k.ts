// MIRFlickr-25K, the cleaned 20,015-pair version (24 concepts, 1,386 tags). Layouts read:
//  - the .npy folder (all_text_bow1386, all_labels24, all_image_id, and for the 730 rows with a
//    photo: sub_image_gist512 + sub_image_hsv256 or features extracted here from images/);
//  - DCMH/DJSRH/UCCH files: mirflickr25k-iall.mat / -yall.mat / -lall.mat (IAll, YAll, LAll) or
//    one FLICKR-25K.mat with IAll/YAll/LAll (or images/tags/labels).
// Protocol: 2,000 random queries, the other 18,015 are retrieval; 10,000 training rows from
// retrieval (trainSize 5000 for UCCH). The 730-photo subset keeps 10% (73) as queries.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, basename } from 'node:path';
import { InputError, NotFoundError } from '../../util/errors.js';
import { Dataset } from '../dataset.js';
import { readNpy } from '../npy.js';
import { valueAt } from '../ndarray.js';
import { extractImages, extractionCacheFile } from '../extract.js';
import { featuresFrom, findDataDir, labelsFrom, standardSplits, type PresetOptions } from './common.js';
import { loadKeyed } from './keyed.js';

export const MIRFLICKR_CONCEPTS = ['animals', 'baby', 'bird', 'car', 'clouds', 'dog', 'female', 'flower', 'food', 'indoor', 'lake', 'male', 'night', 'people', 'plant_life', 'portrait', 'river', 'sea', 'sky', 'structures', 'sunset', 'transport', 'tree', 'water'];
export const MIRFLICKR_DEFAULTS = { querySize: 2000, trainSize: 10000 };

/** DCMH-style file sets inside `dir`, or null. */
export function mirflickrMatFiles(dir: string): string[] | null {
  const names = readdirSync(dir);
  const triple = ['iall', 'yall', 'lall'].map((s) => names.find((n) => n.toLowerCase() === `mirflickr25k-${s}.mat`)).filter((x): x is string => !!x);
  if (triple.length >= 2) return triple.map((n) => join(dir, n));
  const one = names.find((n) => /^flickr-?25k\.mat$/i.test(n) || /^mirflickr25k\.mat$/i.test(n));
  return one ? [join(dir, one)] : null;
}

/** Full 20,015 rows from the .npy folder; image features (768-d, or 544-d extracted) on the photo rows only. */
export async function loadMirflickrNpy(dir: string, opts: PresetOptions = {}): Promise<Dataset> {
  const f = (n: string) => join(dir, n);
  const lab = labelsFrom(readNpy(f('all_labels24.npy')), f('all_labels24.npy'));
  const n = lab.n;
  const text = featuresFrom(readNpy(f('all_text_bow1386.npy')), f('all_text_bow1386.npy'), n);
  const imageIds = readNpy(f('all_image_id.npy'));
  if (imageIds.data.length !== n) throw new InputError(`${f('all_image_id.npy')}: ${imageIds.data.length} ids for ${n} rows`);
  const ids = Array.from({ length: n }, (_, i) => `im${valueAt(imageIds, i)}`);
  const tagsFile = f('all_tags_raw.txt');
  const tags = existsSync(tagsFile) ? readFileSync(tagsFile, 'utf8').split(/\r?\n/) : null;
  const subRows = existsSync(f('sub_row_index.npy')) ? readNpy(f('sub_row_index.npy')) : null;
  const hasImage = new Uint8Array(n);
  let imageDim = 0; let image = new Float32Array(0);
  const photoDir = f('images');
  if (subRows) {
    const m = subRows.data.length;
    const rows = Array.from({ length: m }, (_, k) => valueAt(subRows, k));
    for (const r of rows) { if (r < 0 || r >= n) throw new InputError(`${f('sub_row_index.npy')}: row ${r} outside [0, ${n})`); hasImage[r] = 1; }
    let sub: { dim: number; data: Float32Array };
    if ((opts.imageFeatures ?? 'shared') === 'shared') {
      const gist = featuresFrom(readNpy(f('sub_image_gist512.npy')), f('sub_image_gist512.npy'), m);
      const hsv = featuresFrom(readNpy(f('sub_image_hsv256.npy')), f('sub_image_hsv256.npy'), m);
      const d = gist.dim + hsv.dim; const data = new Float32Array(m * d);
      for (let k = 0; k < m; k++) { data.set(gist.data.subarray(k * gist.dim, (k + 1) * gist.dim), k * d); data.set(hsv.data.subarray(k * hsv.dim, (k + 1) * hsv.dim), k * d + gist.dim); }
      sub = { dim: d, data };
    } else {
      const files = rows.map((r) => `${ids[r]}.jpg`);
      // the cache lives in the cache folder (cacheDir, $CMHASH_CACHE, ~/.cache/cmhash), never in the data folder
      const cache = extractionCacheFile(photoDir, 'descriptor', opts.cacheDir);
      const res = await extractImages({ base: photoDir, files }, { partialFile: cache, onProgress: opts.onProgress });
      if (res.failed.length) throw new InputError(`${photoDir}: ${res.failed.length} photo(s) could not be described, first ${res.failed[0]!.id}: ${res.failed[0]!.error}`);
      sub = { dim: res.dim, data: res.features };
    }
    imageDim = sub.dim; image = new Float32Array(n * imageDim);
    rows.forEach((r, k) => image.set(sub.data.subarray(k * imageDim, (k + 1) * imageDim), r * imageDim));
  }
  const raw = ids.map((id, i) => {
    const p = join(photoDir, `${id}.jpg`);
    return { image: hasImage[i] ? p : undefined, text: tags ? tags[i] ?? '' : undefined };
  });
  let names = MIRFLICKR_CONCEPTS;
  try { const mf = JSON.parse(readFileSync(f('manifest.json'), 'utf8')); if (Array.isArray(mf.concepts) && mf.concepts.length === lab.numLabels) names = mf.concepts; } catch { /* defaults */ }
  const seed = opts.seed ?? 0;
  const ds = new Dataset({ name: 'mirflickr25k', image, imageDim, text: text.data, textDim: text.dim, labels: lab.labels, labelNames: names, ids, raw,
    hasImage: subRows ? hasImage : undefined, source: dir, nonFinite: opts.nonFinite,
    splits: standardSplits(n, { querySize: opts.querySize ?? MIRFLICKR_DEFAULTS.querySize, trainSize: opts.trainSize ?? MIRFLICKR_DEFAULTS.trainSize, seed }) });
  return opts.validation ? ds.withValidation(opts.validation, seed + 1) : ds;
}


/** The 730 rows with real photos, each with image features and tags; its own seeded split. */
export async function loadMirflickrPhotos(dir: string, opts: PresetOptions = {}): Promise<Dataset> {
  const full = await loadMirflickrNpy(dir, { ...opts, validation: undefined });
  const rows = full.rowsWithImage();
  if (rows.length === full.n && !full.hasImage) throw new NotFoundError(`${dir}: no photo subset (sub_row_index.npy missing)`);
  const sub = full.subset(rows, 'mirflickr25k-photos');
  const seed = opts.seed ?? 0;
  const ds = sub.withSplits(standardSplits(sub.n, { querySize: opts.querySize ?? 2000, trainSize: opts.trainSize ?? 10000, seed }));
  return opts.validation ? ds.withValidation(opts.validation, seed + 1) : ds;
}

/** `mirflickr25k` preset: a folder (npy or DCMH-style .mat files) or a FLICKR-25K.mat file. */
export async function loadMirflickr(spec: string | null, opts: PresetOptions = {}, photosOnly = false): Promise<Dataset> {
  const dir = spec ?? findDataDir('mirflickr25k');
  if (!dir) throw new NotFoundError(`mirflickr25k: data not found; put it under $CMHASH_DATA/mirflickr25k or ../shared/data/mirflickr25k`);
  if (!statSync(dir).isDirectory()) return loadKeyed([dir], { name: 'mirflickr25k', ...MIRFLICKR_DEFAULTS, labelNames: MIRFLICKR_CONCEPTS }, opts);
  if (existsSync(join(dir, 'all_labels24.npy'))) return photosOnly ? loadMirflickrPhotos(dir, opts) : loadMirflickrNpy(dir, opts);
  const mats = mirflickrMatFiles(dir);
  if (mats) return loadKeyed(mats, { name: 'mirflickr25k', ...MIRFLICKR_DEFAULTS, labelNames: MIRFLICKR_CONCEPTS }, opts);
  throw new NotFoundError(`${dir}: no MIRFlickr files (expected all_labels24.npy…, mirflickr25k-iall/yall/lall.mat or FLICKR-25K.mat); found ${readdirSync(dir).slice(0, 10).map((x) => basename(x)).join(', ')}`);
}
