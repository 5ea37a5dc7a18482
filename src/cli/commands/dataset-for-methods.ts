// The bridge from the data layer (Dataset with named splits) to the methods (TrainingData blocks),
// shared by `cmhash train` and `cmhash eval`.
import { InputError } from '../../util/errors.js';
import { loadDataset, type LoadOptions } from '../../data/load.js';
import { gatherRows, type Dataset } from '../../data/dataset.js';
import type { TrainingData } from '../../methods/hasher.js';
import type { Output } from '../output.js';

export interface LoadedForMethods { dataset: Dataset; name: string }

/**
 * Loads a preset or path and checks what image–text methods need: query, retrieval and train
 * splits, and real image features on every row of them (MIRFlickr has photos for 730 rows only:
 * use the mirflickr25k-photos preset there).
 */
export async function loadDataForMethods(spec: string, out: Output, opts: LoadOptions = {}): Promise<LoadedForMethods> {
  const bar = out.progress(1, 'features');
  const ds = await loadDataset(spec, { ...opts, onProgress: (done, total) => { bar.setTotal(total); bar.update(done); } });
  bar.stop();
  for (const s of ['query', 'retrieval', 'train']) {
    if (!ds.hasSplit(s)) throw new InputError(`${spec}: the dataset has no '${s}' split (has: ${[...ds.splits.keys()].join(', ') || 'none'})`);
  }
  if (ds.imageDim === 0 || ds.textDim === 0) throw new InputError(`${spec}: cross-modal hashing needs both modalities (image width ${ds.imageDim}, text width ${ds.textDim})`);
  if (ds.hasImage) {
    let missing = 0;
    for (const s of ['query', 'retrieval', 'train']) for (const r of ds.split(s)) if (!ds.hasImage[r]) missing++;
    if (missing > 0) {
      throw new InputError(`${spec}: ${missing} rows of the query/retrieval/train splits have no image features (only ${ds.rowsWithImage().length} of ${ds.n} rows have a photo here); use the mirflickr25k-photos preset`);
    }
  }
  const name = ds.name.replace(/[^A-Za-z0-9._-]+/g, '-');
  return { dataset: ds, name };
}

/** One split of a Dataset as the TrainingData block methods train on and evaluate with. */
export function splitItems(ds: Dataset, split: string): TrainingData {
  const rows = ds.split(split);
  return {
    n: rows.length, imageDim: ds.imageDim, textDim: ds.textDim, numClasses: ds.numLabels,
    image: gatherRows(ds.image, ds.imageDim, rows), text: gatherRows(ds.text, ds.textDim, rows), labels: gatherRows(ds.labels, ds.numLabels, rows),
  };
}

/** --image-features / --cache-dir → data-layer options. */
export function dataOptions(o: { imageFeatures?: string; cacheDir?: string }): LoadOptions {
  const opts: LoadOptions = {};
  if (o.imageFeatures !== undefined) {
    if (o.imageFeatures !== 'shared' && o.imageFeatures !== 'extracted') throw new InputError(`--image-features must be shared or extracted, got ${o.imageFeatures}`);
    opts.imageFeatures = o.imageFeatures;
  }
  if (o.cacheDir !== undefined) opts.cacheDir = o.cacheDir;
  return opts;
}
