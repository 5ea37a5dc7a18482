// A manifest of raw items — JSONL lines {"id", "image": path, "text": string or [tags], "labels": [...]}
// or a CSV with the columns id,image,text,labels (labels separated by | or ;) — turned into a
// Dataset: images through the image encoder ($CMHASH_IMAGE_ENCODER, default the built-in descriptor;
// extraction cached and resumable in the cache folder, see extract.ts), text through a vocabulary
// built on the non-query rows (saved as JSON when asked).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, extname, isAbsolute, resolve } from 'node:path';
import { InputError, NotFoundError } from '../util/errors.js';
import { Dataset } from './dataset.js';
import { checkCacheOutsideData, extractImages, manifestCacheFile } from './extract.js';
import { defaultImageEncoderName, imageEncoderEntry } from './image-encoders/encoder.js';
import { buildVocabulary, saveVocabulary, vectorize, type TextDoc, type TextWeighting } from './text-features.js';
import { standardSplits, type PresetOptions } from './presets/common.js';

export interface RawItem { id: string; image?: string; text?: TextDoc; labels: string[] }

/** Splits one CSV line (RFC 4180 quoting). */
export function parseCsvLine(line: string): string[] {
  const out: string[] = []; let cur = ''; let q = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (q) { if (c === '"') { if (line[i + 1] === '"') { cur += '"'; i++; } else q = false; } else cur += c; }
    else if (c === '"') q = true; else if (c === ',') { out.push(cur); cur = ''; } else cur += c;
  }
  out.push(cur);
  return out;
}

/** Reads a JSONL or CSV manifest; image paths become absolute, relative ones against the manifest's folder. */
export function readManifest(path: string): RawItem[] {
  if (!existsSync(path)) throw new NotFoundError(`${path}: no such manifest`);
  const base = dirname(path);
  const lines = readFileSync(path, 'utf8').split(/\r?\n/);
  const items: RawItem[] = [];
  const resolveImg = (p: unknown, where: string) => {
    if (p === undefined || p === null || p === '') return undefined;
    if (typeof p !== 'string') throw new InputError(`${where}: "image" must be a path string`);
    // absolute, so the working folder (and the extractor's base) cannot change what a path names
    return isAbsolute(p) ? p : resolve(base, p);
  };
  if (extname(path).toLowerCase() === '.csv') {
    const header = parseCsvLine(lines[0] ?? '').map((h) => h.trim().toLowerCase());
    const col = (n: string) => header.indexOf(n);
    if (col('labels') < 0) throw new InputError(`${path}: CSV header must have a 'labels' column (found: ${header.join(', ')})`);
    lines.slice(1).forEach((l, k) => {
      if (!l.trim()) return;
      const f = parseCsvLine(l); const where = `${path}: line ${k + 2}`;
      const get = (n: string) => (col(n) >= 0 ? f[col(n)] ?? '' : '');
      items.push({ id: get('id') || String(items.length), image: resolveImg(get('image'), where), text: get('text') || undefined,
        labels: get('labels').split(/[|;]/).map((s) => s.trim()).filter(Boolean) });
    });
  } else {
    lines.forEach((l, k) => {
      if (!l.trim()) return;
      const where = `${path}: line ${k + 1}`;
      let o: Record<string, unknown>;
      try { o = JSON.parse(l); } catch (e) { throw new InputError(`${where}: invalid JSON (${(e as Error).message})`); }
      const labels = o.labels;
      if (!Array.isArray(labels)) throw new InputError(`${where}: "labels" must be an array, got ${JSON.stringify(labels)}`);
      const text = o.text ?? o.tags;
      if (text !== undefined && typeof text !== 'string' && !(Array.isArray(text) && text.every((t) => typeof t === 'string'))) throw new InputError(`${where}: "text" must be a string or an array of tags`);
      items.push({ id: o.id === undefined ? String(items.length) : String(o.id), image: resolveImg(o.image, where), text: text as TextDoc | undefined, labels: labels.map(String) });
    });
  }
  if (items.length === 0) throw new InputError(`${path}: manifest has no items`);
  return items;
}

export interface ManifestOptions extends PresetOptions {
  weighting?: TextWeighting;
  maxTerms?: number;
  minDf?: number;
  /** Write the vocabulary (JSON) here. */
  vocabularyOut?: string;
  /**
   * Image-feature cache file (default: manifestCacheFile — in cacheDir, else <cache>/extract, keyed
   * by the manifest's absolute path); never inside the manifest's folder.
   */
  partialFile?: string;
}

export async function loadManifestDataset(path: string, o: ManifestOptions = {}): Promise<Dataset> {
  const items = readManifest(path);
  const n = items.length;
  const labelNames = [...new Set(items.flatMap((it) => it.labels))].sort();
  const col = new Map(labelNames.map((l, j) => [l, j]));
  const labels = new Uint8Array(n * labelNames.length);
  items.forEach((it, i) => { for (const l of it.labels) labels[i * labelNames.length + col.get(l)!] = 1; });
  const seed = o.seed ?? 0;
  const splits = standardSplits(n, { querySize: o.querySize ?? Math.max(1, Math.floor(n / 10)), trainSize: o.trainSize ?? n, seed });
  // Vocabulary from non-query rows only: query text must not shape the features.
  const docs = items.map((it) => it.text ?? '');
  const vocab = buildVocabulary(Array.from(splits.retrieval!, (r) => docs[r]!), { weighting: o.weighting ?? 'tfidf', maxTerms: o.maxTerms, minDf: o.minDf });
  if (o.vocabularyOut) saveVocabulary(o.vocabularyOut, vocab);
  const text = vectorize(docs, vocab);
  const withImage = items.map((it, i) => (it.image ? i : -1)).filter((i) => i >= 0);
  const hasImage = new Uint8Array(n);
  let image = new Float32Array(0); let imageDim = 0;
  if (withImage.length) {
    const encoder = imageEncoderEntry(defaultImageEncoderName()).name;
    if (o.partialFile) checkCacheOutsideData(o.partialFile, dirname(resolve(path)));
    const partialFile = o.partialFile ?? manifestCacheFile(path, encoder, o.cacheDir);
    // a photo named by several items is described once
    const files = [...new Set(withImage.map((i) => items[i]!.image!))]; const at = new Map(files.map((f, k) => [f, k]));
    // the cache is kept (and compacted) so a later load does not describe unchanged photos again
    const res = await extractImages({ base: '/', files }, { partialFile, encoder, onProgress: o.onProgress, compact: true });
    if (res.failed.length) {
      const f = res.failed[0]!; // ids are absolute paths, which the encoders' messages already start with
      throw new InputError(`${path}: ${res.failed.length} of ${files.length} image(s) could not be described; first ${f.error.startsWith(f.id) ? f.error : `${f.id}: ${f.error}`}`);
    }
    imageDim = res.dim; image = new Float32Array(n * imageDim);
    for (const i of withImage) { const k = at.get(items[i]!.image!)!; image.set(res.features.subarray(k * imageDim, (k + 1) * imageDim), i * imageDim); hasImage[i] = 1; }
  }
  const ds = new Dataset({ name: path, image, imageDim, text, textDim: vocab.terms.length, labels, labelNames, ids: items.map((it) => it.id),
    raw: items.map((it) => ({ image: it.image, text: Array.isArray(it.text) ? it.text.join(',') : it.text })),
    hasImage: withImage.length === n ? undefined : hasImage, splits, source: path, nonFinite: o.nonFinite });
  return o.validation ? ds.withValidation(o.validation, seed + 1) : ds;
}
