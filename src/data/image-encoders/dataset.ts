// A dataset's image features recomputed from its photos with a named encoder (the rows whose
// raw.image is a file); the rest of the dataset (text, labels, ids, splits) is unchanged. Used by
// the demo to give the MIRFlickr photo rows deep features; cached and resumable like `data extract`;
// a photo shared by several rows is encoded once.
import { dirname, relative, resolve } from 'node:path';
import { InputError } from '../../util/errors.js';
import { Dataset } from '../dataset.js';
import { extractImages, extractionCacheFile } from '../extract.js';
import { imageEncoderEntry } from './encoder.js';

export interface EncodeDatasetOptions { cacheDir?: string; threads?: number; onProgress?: (done: number, total: number) => void }

export async function encodeDatasetImages(ds: Dataset, encoder: string, o: EncodeDatasetOptions = {}): Promise<{ dataset: Dataset; version: string; resumed: number }> {
  const entry = imageEncoderEntry(encoder);
  const rows: number[] = []; const paths: string[] = [];
  for (let r = 0; r < ds.n; r++) { const p = ds.raw?.[r]?.image; if (p) { rows.push(r); paths.push(resolve(p)); } }
  if (rows.length === 0) throw new InputError(`${ds.name}: no item has a photo to encode with ${entry.name}`);
  let root = dirname(paths[0]!);
  for (const p of paths) while (relative(root, p).startsWith('..')) root = dirname(root);
  const unique = [...new Set(paths)]; const at = new Map(unique.map((p, k) => [p, k]));
  const res = await extractImages({ base: root, files: unique.map((p) => relative(root, p)) }, {
    partialFile: extractionCacheFile(root, entry.name, o.cacheDir), encoder: entry.name, threads: o.threads, onProgress: o.onProgress,
  });
  if (res.failed.length) throw new InputError(`${root}: ${res.failed.length} photo(s) could not be encoded, first ${res.failed[0]!.id}: ${res.failed[0]!.error}`);
  const dim = res.dim; const image = new Float32Array(ds.n * dim);
  const hasImage = new Uint8Array(ds.n);
  rows.forEach((r, i) => { const k = at.get(paths[i]!)!; image.set(res.features.subarray(k * dim, (k + 1) * dim), r * dim); hasImage[r] = 1; });
  const splits: Record<string, Int32Array> = {};
  for (const [k, v] of ds.splits) splits[k] = v;
  const dataset = new Dataset({
    name: ds.name, image, imageDim: dim, text: ds.text, textDim: ds.textDim, labels: ds.labels, labelNames: ds.labelNames,
    ids: ds.ids, raw: ds.raw ?? undefined, splits, hasImage: rows.length === ds.n ? undefined : hasImage, hasText: ds.hasText ?? undefined, source: ds.source,
  });
  return { dataset, version: res.version, resumed: res.resumed };
}
