// The bridge from the data layer (Dataset with named splits) to the methods (TrainingData blocks),
// shared by `cmhash train` and `cmhash eval`.
import type { Command } from 'commander';
import { InputError } from '../../util/errors.js';
import { loadDataset, type LoadOptions } from '../../data/load.js';
import { gatherRows, type Dataset } from '../../data/dataset.js';
import type { TrainingData } from '../../methods/hasher.js';
import type { Output } from '../output.js';

export interface LoadedForMethods { dataset: Dataset; name: string }

/**
 * Loads a preset or path and checks what image–text methods need: query, retrieval and train
 * splits, and real image and text features on every row of them (MIRFlickr has photos for 730 rows
 * only: use the mirflickr25k-photos preset there; rows without image or text are refused, counted).
 */
export async function loadDataForMethods(spec: string, out: Output, opts: LoadOptions = {}): Promise<LoadedForMethods> {
  const bar = out.progress(1, 'features');
  const ds = await loadDataset(spec, { ...opts, onProgress: (done, total) => { bar.setTotal(total); bar.update(done); } });
  bar.stop();
  for (const s of ['query', 'retrieval', 'train']) {
    if (!ds.hasSplit(s)) throw new InputError(`${spec}: the dataset has no '${s}' split (has: ${[...ds.splits.keys()].join(', ') || 'none'})`);
  }
  if (ds.imageDim === 0 || ds.textDim === 0) throw new InputError(`${spec}: cross-modal hashing needs both modalities (image width ${ds.imageDim}, text width ${ds.textDim})`);
  const unpaired = unpairedMessage(ds);
  if (unpaired) throw new InputError(`${spec}: ${unpaired}`);
  const name = ds.name.replace(/[^A-Za-z0-9._-]+/g, '-');
  return { dataset: ds, name };
}

/**
 * Rows of the query/retrieval/train splits that lack a modality, as the refusal text (null when
 * every row has both). The methods train and index image–text pairs, so such rows cannot serve.
 */
export function unpairedMessage(ds: Dataset): string | null {
  if (!ds.hasImage && !ds.hasText) return null;
  const rows = new Set<number>();
  for (const s of ['query', 'retrieval', 'train']) for (const r of ds.split(s)) rows.add(r);
  let noImage = 0; let noText = 0; let neither = 0;
  for (const r of rows) {
    const i = ds.hasImage && !ds.hasImage[r]; const t = ds.hasText && !ds.hasText[r];
    if (i) noImage++; if (t) noText++; if (i && t) neither++;
  }
  const bad = noImage + noText - neither;
  if (bad === 0) return null;
  const what = [noImage ? `${noImage} have no image features` : '', noText ? `${noText} have no text features` : ''].filter(Boolean).join(', ');
  const paired = ds.rowsPaired().length;
  const hint = ds.hasImage && /^mirflickr/i.test(ds.name) && !ds.hasText ? '; use the mirflickr25k-photos preset (the rows with a photo)' : '; exclude those rows (drop them from the file or mark them in a split file that leaves them out)';
  return `${bad} of the ${rows.size} rows in the query/retrieval/train splits lack a modality (${what}); cross-modal hashing methods train on and index image–text pairs, so every row they use needs both — ${paired} of ${ds.n} rows have both${hint}`;
}

/** One split of a Dataset as the TrainingData block methods train on and evaluate with. */
export function splitItems(ds: Dataset, split: string): TrainingData {
  const rows = ds.split(split);
  return {
    n: rows.length, imageDim: ds.imageDim, textDim: ds.textDim, numClasses: ds.numLabels,
    image: gatherRows(ds.image, ds.imageDim, rows), text: gatherRows(ds.text, ds.textDim, rows), labels: gatherRows(ds.labels, ds.numLabels, rows),
  };
}

/** The flags that say how to read a data set (train, eval, continual, data info share them). */
export function addDataFlags(cmd: Command): Command {
  return cmd
    .option('--image-features <kind>', 'MIRFlickr photos: shared (the GIST+HSV .npy shipped with the data) | extracted (computed here from the photos)')
    .option('--cache-dir <dir>', 'where extracted image features are cached (resumable)')
    .option('--image-key <name>', 'variable holding image features in a .mat/.h5/.npz (a struct field by path: data.X1)')
    .option('--text-key <name>', 'variable holding text features')
    .option('--label-key <name>', 'variable holding labels')
    .option('--transpose', 'the arrays hold one item per column (d × n); default: detected from the count that matches the labels');
}

export interface DataFlags { imageFeatures?: string; cacheDir?: string; imageKey?: string; textKey?: string; labelKey?: string; transpose?: boolean }

/** --image-features / --cache-dir / --image-key … → data-layer options. */
export function dataOptions(o: DataFlags): LoadOptions {
  const opts: LoadOptions = {};
  if (o.imageKey !== undefined || o.textKey !== undefined || o.labelKey !== undefined) opts.keys = { image: o.imageKey, text: o.textKey, labels: o.labelKey };
  if (o.transpose) opts.transpose = true;
  if (o.imageFeatures !== undefined) {
    if (o.imageFeatures !== 'shared' && o.imageFeatures !== 'extracted') throw new InputError(`--image-features must be shared or extracted, got ${o.imageFeatures}`);
    opts.imageFeatures = o.imageFeatures;
  }
  if (o.cacheDir !== undefined) opts.cacheDir = o.cacheDir;
  return opts;
}
