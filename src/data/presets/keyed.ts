// Datasets stored as named image / text / label arrays, in one file (IAll, YAll, LAll in
// FLICKR-25K.mat; I_tr/I_te/I_db split files) or one file per modality (mirflickr25k-iall.mat, …),
// as the DCMH / DJSRH / UCCH family of repositories ship them.
import { basename } from 'node:path';
import { InputError } from '../../util/errors.js';
import { Dataset } from '../dataset.js';
import { describeArray, fieldsUnder, listArrays, NON_ARRAY_TYPES, readArrays, resolveArrayName, type ArrayInfo } from '../containers.js';
import type { NdArray } from '../ndarray.js';
import { featuresFrom, labelsFrom, pickKey, standardSplits, IMAGE_KEYS, TEXT_KEYS, LABEL_KEYS, type PresetOptions } from './common.js';

export interface KeyedDefaults {
  name: string;
  querySize: number;
  trainSize: number;
  labelNames?: string[];
  /** Splits to use instead of the standard seeded ones (e.g. from a split file), given the item count. */
  splitsFor?: (n: number) => Record<string, Int32Array> | undefined;
}

interface Found { file: string; key: string }
type Slot = 'image' | 'text' | 'labels';
type Slots = { image?: Found; text?: Found; labels?: Found; imageMask?: Found; textMask?: Found };

const OPTION: Record<Slot, string> = { image: '--image-key', text: '--text-key', labels: '--label-key' };
/** Optional per-row presence masks (1 = the item has that modality). */
export const IMAGE_MASK_KEYS = ['has_image', 'hasImage', 'image_mask'];
export const TEXT_MASK_KEYS = ['has_text', 'hasText', 'text_mask'];

/**
 * Finds image/text/label variables across the files. An explicit key (opts.keys) always wins and
 * must exist: a missing one is refused naming every variable found.
 */
async function locate(files: string[], opts: PresetOptions): Promise<Slots & { split?: Record<'tr' | 'te' | 'db', Slots>; listing: string[] }> {
  const listings: { file: string; arrays: ArrayInfo[] }[] = [];
  for (const file of files) listings.push({ file, arrays: await listArrays(file) });
  const listing = listings.map((l) => `${basename(l.file)}: ${l.arrays.map((a) => a.name).join(', ')}`);
  const found: Slots = {};
  const used = new Set<string>();
  for (const slot of ['image', 'text', 'labels'] as const) {
    const key = opts.keys?.[slot];
    if (!key) continue;
    let hit: (Found & { info: ArrayInfo }) | null = null;
    for (const l of listings) {
      const name = resolveArrayName(l.arrays, key);
      if (name) { hit = { file: l.file, key: name, info: l.arrays.find((a) => a.name === name)! }; break; }
    }
    const all = listings.flatMap((l) => l.arrays).map(describeArray).join(', ') || 'nothing';
    const where = files.map((f) => basename(f)).join(', ');
    if (!hit) {
      const under = listings.flatMap((l) => fieldsUnder(l.arrays, key));
      if (under.length) throw new InputError(`${OPTION[slot]} ${key}: a struct, not an array (${where}); name one of its fields: ${under.map(describeArray).join(', ')}`);
      throw new InputError(`${OPTION[slot]} ${key}: no such variable in ${where}; found ${all}`);
    }
    if (NON_ARRAY_TYPES.has(hit.info.type)) throw new InputError(`${OPTION[slot]} ${key}: '${hit.key}' is a ${hit.info.type} [${hit.info.shape.join('×')}], not a numeric array (${where}); found ${all}`);
    found[slot] = { file: hit.file, key: hit.key };
    used.add(`${hit.file}\0${hit.key}`);
  }
  const split: Record<'tr' | 'te' | 'db', Slots> = { tr: {}, te: {}, db: {} };
  let hasSplit = false;
  for (const { file, arrays } of listings) {
    const keys = arrays.filter((a) => !NON_ARRAY_TYPES.has(a.type) && !used.has(`${file}\0${a.name}`)).map((a) => a.name);
    const take = (slot: keyof Slots, cands: string[]) => {
      if (found[slot] || (slot in OPTION && opts.keys?.[slot as Slot])) return;
      const k = pickKey(keys, cands);
      if (k) found[slot] = { file, key: k };
    };
    take('image', IMAGE_KEYS); take('text', TEXT_KEYS); take('labels', LABEL_KEYS);
    take('imageMask', IMAGE_MASK_KEYS); take('textMask', TEXT_MASK_KEYS);
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

const isVector = (a: NdArray) => a.shape.length === 1 || (a.shape.length === 2 && a.shape.includes(1));

/**
 * How many items: the side of the label matrix that every feature matrix also has (samples may be
 * rows or columns). Both sides matching: the one the features have as rows, else the larger.
 * `itemsAsColumns` (--transpose): the features' column count.
 */
function itemCount(la: NdArray, whereLabels: string, feats: { a: NdArray; where: string }[], itemsAsColumns: boolean): number | undefined {
  if (isVector(la)) return la.data.length;
  if (la.shape.length !== 2 || feats.length === 0) return undefined;
  const [r, c] = la.shape as [number, number];
  if (itemsAsColumns) {
    const f = feats[0]!;
    const n = f.a.shape.length === 2 ? f.a.shape[1]! : -1;
    if (n !== r && n !== c) throw new InputError(`--transpose (items as columns): ${f.where} has shape [${f.a.shape.join(', ')}], so ${n} items, but the labels ${whereLabels} are [${r}, ${c}]`);
    return n;
  }
  const cands = [...new Set([r, c])].filter((d) => feats.every((f) => f.a.shape.includes(d)));
  if (cands.length === 0) {
    throw new InputError(`labels ${whereLabels} [${r}, ${c}] share no side with ${feats.map((f) => `${f.where} [${f.a.shape.join(', ')}]`).join(' and ')}: cannot tell which axis holds the items; check --image-key/--text-key/--label-key`);
  }
  if (cands.length === 1) return cands[0];
  const rowsMatch = cands.filter((d) => feats.every((f) => f.a.shape[0] === d));
  return rowsMatch.length === 1 ? rowsMatch[0] : Math.max(r, c);
}

/**
 * Presence of one modality per row: rows that are entirely NaN, or 0 in the mask array, have no
 * such features (zeroed here). Undefined when every row has them.
 */
function presence(feat: { dim: number; data: Float32Array }, n: number, mask: NdArray | null, whereMask: string): Uint8Array | undefined {
  if (feat.dim === 0) return undefined;
  const has = new Uint8Array(n).fill(1);
  let missing = 0;
  if (mask) {
    if (mask.data.length !== n) throw new InputError(`${whereMask}: presence mask has ${mask.data.length} values for ${n} items`);
    for (let i = 0; i < n; i++) if (!Number(mask.data[i])) { has[i] = 0; missing++; }
  }
  for (let i = 0; i < n; i++) {
    if (!has[i]) { feat.data.fill(0, i * feat.dim, (i + 1) * feat.dim); continue; }
    let allNaN = true;
    for (let j = 0; j < feat.dim && allNaN; j++) if (!Number.isNaN(feat.data[i * feat.dim + j])) allNaN = false;
    if (allNaN) { has[i] = 0; missing++; feat.data.fill(0, i * feat.dim, (i + 1) * feat.dim); }
  }
  return missing ? has : undefined;
}

interface Block { n: number; labels: Uint8Array; C: number; image: { dim: number; data: Float32Array }; text: { dim: number; data: Float32Array }; hasImage?: Uint8Array; hasText?: Uint8Array }

/** Reads one labelled block (all rows, or one part of a pre-split file) and orients it. */
async function readBlock(s: Slots, opts: PresetOptions): Promise<Block> {
  const at = (f: Found) => `${f.file}: '${f.key}'`;
  const la = await arrayOf(s.labels!);
  const img = s.image ? await arrayOf(s.image) : null;
  const txt = s.text ? await arrayOf(s.text) : null;
  const feats = [...(img ? [{ a: img, where: at(s.image!) }] : []), ...(txt ? [{ a: txt, where: at(s.text!) }] : [])];
  const n = itemCount(la, at(s.labels!), feats, !!opts.transpose);
  const lab = labelsFrom(la, at(s.labels!), n, !!opts.transpose);
  const empty = { dim: 0, data: new Float32Array(0) };
  const image = img ? featuresFrom(img, at(s.image!), lab.n, !!opts.transpose) : empty;
  const text = txt ? featuresFrom(txt, at(s.text!), lab.n, !!opts.transpose) : empty;
  const hasImage = presence(image, lab.n, s.imageMask ? await arrayOf(s.imageMask) : null, s.imageMask ? at(s.imageMask) : '');
  const hasText = presence(text, lab.n, s.textMask ? await arrayOf(s.textMask) : null, s.textMask ? at(s.textMask) : '');
  return { n: lab.n, labels: lab.labels, C: lab.numLabels, image, text, hasImage, hasText };
}

/** Builds a dataset from keyed arrays in `files`, with the preset's standard split. */
export async function loadKeyed(files: string[], def: KeyedDefaults, opts: PresetOptions = {}): Promise<Dataset> {
  const loc = await locate(files, opts);
  const seed = opts.seed ?? 0;
  if (loc.labels && (loc.image || loc.text)) {
    const b = await readBlock(loc, opts);
    const ds = new Dataset({
      name: def.name, image: b.image.data, imageDim: b.image.dim, text: b.text.data, textDim: b.text.dim, labels: b.labels,
      labelNames: names(def, b.C), hasImage: b.hasImage, hasText: b.hasText,
      splits: def.splitsFor?.(b.n) ?? standardSplits(b.n, { querySize: opts.querySize ?? def.querySize, trainSize: opts.trainSize ?? def.trainSize, seed }),
      source: files.join(', '), nonFinite: opts.nonFinite,
    });
    return opts.validation ? ds.withValidation(opts.validation, seed + 1) : ds;
  }
  if (loc.split && loc.split.tr.labels && loc.split.te.labels) {
    return loadPreSplit(loc.split, def, opts, files);
  }
  throw new InputError(`${files.join(', ')}: cannot find image/text/label arrays for ${def.name}; looked for labels as ${LABEL_KEYS.join('/')}, ` +
    `image as ${IMAGE_KEYS.join('/')}, text as ${TEXT_KEYS.join('/')} or split keys I_tr/T_tr/L_tr + I_te/T_te/L_te; found ${loc.listing.join('; ')}. ` +
    `Name them with keys: {image, text, labels} (CLI: --image-key/--text-key/--label-key; a struct field as data.X1)`);
}

function names(def: KeyedDefaults, C: number): string[] {
  if (def.labelNames && def.labelNames.length === C) return def.labelNames;
  return Array.from({ length: C }, (_, j) => `label${j}`);
}

/** Files that already hold the split (I_tr/I_te[/I_db]): rows are tr, te, db in that order. */
async function loadPreSplit(split: Record<'tr' | 'te' | 'db', Slots>, def: KeyedDefaults, opts: PresetOptions, files: string[]): Promise<Dataset> {
  const parts = (['tr', 'te', 'db'] as const).filter((p) => split[p].labels);
  const blocks: (Block & { part: string })[] = [];
  for (const p of parts) blocks.push({ ...(await readBlock(split[p], opts)), part: p });
  const C = Math.max(...blocks.map((b) => b.C));
  const dimI = blocks[0]!.image.dim; const dimT = blocks[0]!.text.dim;
  for (const b of blocks) {
    if (b.image.dim !== dimI || b.text.dim !== dimT) throw new InputError(`${files.join(', ')}: split '${b.part}' has image/text dims ${b.image.dim}/${b.text.dim}, '${blocks[0]!.part}' has ${dimI}/${dimT}`);
  }
  const n = blocks.reduce((s, b) => s + b.n, 0);
  const image = new Float32Array(n * dimI); const text = new Float32Array(n * dimT); const labels = new Uint8Array(n * C);
  const anyImageMask = blocks.some((b) => b.hasImage); const anyTextMask = blocks.some((b) => b.hasText);
  const hasImage = anyImageMask ? new Uint8Array(n).fill(1) : undefined; const hasText = anyTextMask ? new Uint8Array(n).fill(1) : undefined;
  const ids: string[] = []; const splitRows: Record<string, number[]> = {};
  let row = 0;
  for (const b of blocks) {
    image.set(b.image.data, row * dimI); text.set(b.text.data, row * dimT);
    if (hasImage && b.hasImage) hasImage.set(b.hasImage, row);
    if (hasText && b.hasText) hasText.set(b.hasText, row);
    for (let i = 0; i < b.n; i++) for (let j = 0; j < b.C; j++) labels[(row + i) * C + j] = b.labels[i * b.C + j]!;
    splitRows[b.part] = Array.from({ length: b.n }, (_, i) => row + i);
    for (let i = 0; i < b.n; i++) ids.push(`${b.part}${i}`);
    row += b.n;
  }
  const splits: Record<string, Int32Array> = { train: Int32Array.from(splitRows.tr ?? []), query: Int32Array.from(splitRows.te ?? []), retrieval: Int32Array.from(splitRows.db ?? splitRows.tr ?? []) };
  const ds = new Dataset({ name: def.name, image, imageDim: dimI, text, textDim: dimT, labels, labelNames: names(def, C), ids, splits, hasImage, hasText, source: files.join(', '), nonFinite: opts.nonFinite });
  return opts.validation ? ds.withValidation(opts.validation, (opts.seed ?? 0) + 1) : ds;
}
