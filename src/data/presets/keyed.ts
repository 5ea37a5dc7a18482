// Datasets stored as named image / text / label arrays, in one file (IAll, YAll, LAll in
// FLICKR-25K.mat; I_tr/I_te/I_db split files) or one file per modality (mirflickr25k-iall.mat, …),
// as the DCMH / DJSRH / UCCH family of repositories ship them.
import { basename } from 'node:path';
import { InputError } from '../../util/errors.js';
import { Dataset } from '../dataset.js';
import { listArrays, readArrays } from '../containers.js';
import type { NdArray } from '../ndarray.js';
import { featuresFrom, labelsFrom, pickKey, standardSplits, IMAGE_KEYS, TEXT_KEYS, LABEL_KEYS, type PresetOptions } from './common.js';

export interface KeyedDefaults {
  name: string;
  querySize: number;
  trainSize: number;
  labelNames?: string[];
}

interface Found { file: string; key: string }

/** Finds image/text/label variables across the files (explicit keys in opts win). */
async function locate(files: string[], opts: PresetOptions): Promise<{ image?: Found; text?: Found; labels?: Found; split?: Record<'tr' | 'te' | 'db', { image?: Found; text?: Found; labels?: Found }>; listing: string[] }> {
  const listing: string[] = [];
  const found: { image?: Found; text?: Found; labels?: Found } = {};
  const split: Record<'tr' | 'te' | 'db', { image?: Found; text?: Found; labels?: Found }> = { tr: {}, te: {}, db: {} };
  let hasSplit = false;
  for (const file of files) {
    const keys = (await listArrays(file)).map((v) => v.name);
    listing.push(`${basename(file)}: ${keys.join(', ')}`);
    const take = (slot: 'image' | 'text' | 'labels', explicit: string | undefined, cands: string[]) => {
      if (found[slot]) return;
      const k = explicit ? (keys.includes(explicit) ? explicit : null) : pickKey(keys, cands);
      if (k) found[slot] = { file, key: k };
    };
    take('image', opts.keys?.image, IMAGE_KEYS); take('text', opts.keys?.text, TEXT_KEYS); take('labels', opts.keys?.labels, LABEL_KEYS);
    for (const part of ['tr', 'te', 'db'] as const) {
      for (const [slot, prefix] of [['image', 'I'], ['text', 'T'], ['labels', 'L']] as const) {
        const k = pickKey(keys, [`${prefix}_${part}`]);
        if (k && !split[part][slot]) { split[part][slot] = { file, key: k }; hasSplit = true; }
      }
    }
  }
  return { ...found, split: hasSplit ? split : undefined, listing };
}

async function arrayOf(f: Found): Promise<NdArray> { return (await readArrays(f.file, [f.key])).get(f.key)!; }

/** Builds a dataset from keyed arrays in `files`, with the preset's standard split. */
export async function loadKeyed(files: string[], def: KeyedDefaults, opts: PresetOptions = {}): Promise<Dataset> {
  const loc = await locate(files, opts);
  const seed = opts.seed ?? 0;
  if (loc.labels && (loc.image || loc.text)) {
    const la = await arrayOf(loc.labels);
    const imgArr = loc.image ? await arrayOf(loc.image) : null;
    // Orientation: n is the label-matrix side that also matches a feature matrix.
    let n: number | undefined;
    const featShape = (imgArr ?? null)?.shape;
    if (la.shape.length === 2 && featShape?.length === 2) n = [la.shape[0]!, la.shape[1]!].find((d) => featShape.includes(d));
    const lab = labelsFrom(la, `${loc.labels.file}: '${loc.labels.key}'`, n);
    const image = imgArr ? featuresFrom(imgArr, `${loc.image!.file}: '${loc.image!.key}'`, lab.n) : { dim: 0, data: new Float32Array(0) };
    const text = loc.text ? featuresFrom(await arrayOf(loc.text), `${loc.text.file}: '${loc.text.key}'`, lab.n) : { dim: 0, data: new Float32Array(0) };
    const ds = new Dataset({
      name: def.name, image: image.data, imageDim: image.dim, text: text.data, textDim: text.dim, labels: lab.labels,
      labelNames: names(def, lab.numLabels), splits: standardSplits(lab.n, { querySize: opts.querySize ?? def.querySize, trainSize: opts.trainSize ?? def.trainSize, seed }),
      source: files.join(', '), nonFinite: opts.nonFinite,
    });
    return opts.validation ? ds.withValidation(opts.validation, seed + 1) : ds;
  }
  if (loc.split && loc.split.tr.labels && loc.split.te.labels) {
    return loadPreSplit(loc.split, def, opts, files);
  }
  throw new InputError(`${files.join(', ')}: cannot find image/text/label arrays for ${def.name}; looked for labels as ${LABEL_KEYS.join('/')}, ` +
    `image as ${IMAGE_KEYS.join('/')}, text as ${TEXT_KEYS.join('/')} or split keys I_tr/T_tr/L_tr + I_te/T_te/L_te; found ${loc.listing.join('; ')}. ` +
    `Name them with keys: {image, text, labels} (CLI: --image-key/--text-key/--label-key)`);
}

function names(def: KeyedDefaults, C: number): string[] {
  if (def.labelNames && def.labelNames.length === C) return def.labelNames;
  return Array.from({ length: C }, (_, j) => `label${j}`);
}

/** Files that already hold the split (I_tr/I_te[/I_db]): rows are tr, te, db in that order. */
async function loadPreSplit(split: Record<'tr' | 'te' | 'db', { image?: Found; text?: Found; labels?: Found }>, def: KeyedDefaults, opts: PresetOptions, files: string[]): Promise<Dataset> {
  const parts = (['tr', 'te', 'db'] as const).filter((p) => split[p].labels);
  const blocks: { part: string; n: number; labels: Uint8Array; C: number; image: { dim: number; data: Float32Array }; text: { dim: number; data: Float32Array } }[] = [];
  for (const p of parts) {
    const s = split[p];
    const img = s.image ? await arrayOf(s.image) : null;
    let n: number | undefined;
    const la = await arrayOf(s.labels!);
    if (img && img.shape.length === 2 && la.shape.length === 2) n = [la.shape[0]!, la.shape[1]!].find((d) => img.shape.includes(d));
    const lab = labelsFrom(la, `${s.labels!.file}: '${s.labels!.key}'`, n);
    const image = img ? featuresFrom(img, `${s.image!.file}: '${s.image!.key}'`, lab.n) : { dim: 0, data: new Float32Array(0) };
    const text = s.text ? featuresFrom(await arrayOf(s.text), `${s.text.file}: '${s.text.key}'`, lab.n) : { dim: 0, data: new Float32Array(0) };
    blocks.push({ part: p, n: lab.n, labels: lab.labels, C: lab.numLabels, image, text });
  }
  const C = Math.max(...blocks.map((b) => b.C));
  const dimI = blocks[0]!.image.dim; const dimT = blocks[0]!.text.dim;
  for (const b of blocks) {
    if (b.image.dim !== dimI || b.text.dim !== dimT) throw new InputError(`${files.join(', ')}: split '${b.part}' has image/text dims ${b.image.dim}/${b.text.dim}, '${blocks[0]!.part}' has ${dimI}/${dimT}`);
  }
  const n = blocks.reduce((s, b) => s + b.n, 0);
  const image = new Float32Array(n * dimI); const text = new Float32Array(n * dimT); const labels = new Uint8Array(n * C);
  const ids: string[] = []; const splitRows: Record<string, number[]> = {};
  let row = 0;
  for (const b of blocks) {
    image.set(b.image.data, row * dimI); text.set(b.text.data, row * dimT);
    for (let i = 0; i < b.n; i++) for (let j = 0; j < b.C; j++) labels[(row + i) * C + j] = b.labels[i * b.C + j]!;
    splitRows[b.part] = Array.from({ length: b.n }, (_, i) => row + i);
    for (let i = 0; i < b.n; i++) ids.push(`${b.part}${i}`);
    row += b.n;
  }
  const splits: Record<string, Int32Array> = { train: Int32Array.from(splitRows.tr ?? []), query: Int32Array.from(splitRows.te ?? []), retrieval: Int32Array.from(splitRows.db ?? splitRows.tr ?? []) };
  const ds = new Dataset({ name: def.name, image, imageDim: dimI, text, textDim: dimT, labels, labelNames: names(def, C), ids, splits, source: files.join(', '), nonFinite: opts.nonFinite });
  return opts.validation ? ds.withValidation(opts.validation, (opts.seed ?? 0) + 1) : ds;
}
