// Builds a collection from a dataset the way a deployment would grow: a continual method trains
// session by session (the session runner measures it), and after each session that session's
// database items are encoded by the model of the moment and committed as a new model version that
// keeps the earlier codes. The result: a collection directory a service can open, plus the
// runner's per-session report.
import { basename, dirname, relative, isAbsolute, sep } from 'node:path';
import type { Dataset } from '../data/dataset.js';
import { buildClassIncrementalStream } from '../data/stream.js';
import type { Vocabulary } from '../data/text-features.js';
import { planFromStream, runContinual, type ContinualDetail, type ContinualJson, type ContinualPlan } from '../continual/runner.js';
import { writeConfig } from './collection-config.js';
import { saveWordTable, type WordVectorTable } from '../data/word-vectors.js';
import { join, resolve } from 'node:path';
import type { ContinualHasher, TrainProgress } from '../methods/hasher.js';
import { Collection, type ItemInput } from './collection.js';
import { InputError } from '../util/errors.js';

export interface BuildOptions {
  dir: string;
  name: string;
  hasher: ContinualHasher;
  bits: number;
  /** Classes per session (e.g. "4x3", "4+3+3"). */
  sessions: string | number[];
  seed: number;
  train?: Record<string, unknown>;
  vocabulary?: Vocabulary | null;
  /** Image encoder id (collection.json imageDescriptor) and its full version string, recorded with the collection. */
  imageDescriptor?: string | null;
  imageEncoderVersion?: string;
  /** Text features are word-vector means: the table is stored in the collection and raw text goes through it. */
  wordVectors?: WordVectorTable | null;
  /** Folder of the dataset's photos (thumbnails); items' raw image paths are stored relative to it. */
  imageRoot?: string | null;
  onProgress?: (session: number, p: TrainProgress) => void;
  onSession?: (json: ContinualJson, detail: ContinualDetail, modelVersion: number) => void;
}

/** The word-vector table's file in a collection directory. */
export const WORD_VECTORS_FILE = 'word-vectors.json';

export interface BuildResult { collection: Collection; json: ContinualJson; detail: ContinualDetail; labelOrder: string[]; plan: ContinualPlan }

/** Dataset rows → items: features of both modalities, label names, metadata (photo path, raw text). */
export function datasetItems(ds: Dataset, rows: ArrayLike<number>, imageRoot: string | null): ItemInput[] {
  const out: ItemInput[] = [];
  for (let k = 0; k < rows.length; k++) {
    const r = rows[k]!;
    const labels: string[] = [];
    for (let c = 0; c < ds.numLabels; c++) if (ds.labels[r * ds.numLabels + c]) labels.push(ds.labelNames[c]!);
    const meta: Record<string, unknown> = {};
    const raw = ds.raw?.[r];
    if (raw?.image && imageRoot) {
      const rel = relative(imageRoot, raw.image);
      if (!rel.startsWith('..') && !isAbsolute(rel)) meta.image = rel.split(sep).join('/');
    }
    if (raw?.text) meta.text = raw.text.length > 300 ? raw.text.slice(0, 300) + '…' : raw.text;
    const hasImage = ds.imageDim > 0 && (!ds.hasImage || ds.hasImage[r] === 1);
    out.push({
      id: ds.ids[r]!, labels, metadata: Object.keys(meta).length ? meta : null,
      image: hasImage ? ds.imageRow(r).slice() : null, text: ds.textDim > 0 ? ds.textRow(r).slice() : null,
    });
  }
  return out;
}

/** The folder holding the dataset's photos, when every photo it references is in one folder. */
export function commonImageRoot(ds: Dataset): string | null {
  let root: string | null = null;
  for (const r of ds.raw ?? []) {
    if (!r?.image) continue;
    const d = dirname(r.image);
    if (root === null) root = d; else if (root !== d) return null;
  }
  return root;
}

export async function buildContinualCollection(ds: Dataset, o: BuildOptions): Promise<BuildResult> {
  const stream = buildClassIncrementalStream(ds, { sessions: o.sessions, seed: o.seed });
  const plan = planFromStream(ds, stream, ds.name);
  const collection = Collection.create(o.dir, {
    name: o.name, bits: o.bits, method: o.hasher.method, imageDim: ds.imageDim, textDim: ds.textDim,
    vocabulary: o.vocabulary ?? null, imageDescriptor: o.imageDescriptor ?? null, imageRoot: o.imageRoot ?? null,
  });
  if (o.imageEncoderVersion && o.imageDescriptor) collection.config.imageEncoderVersion = o.imageEncoderVersion;
  if (o.wordVectors) {
    const t = o.wordVectors;
    if (!collection.dir) { collection.close(); throw new InputError('word vectors are stored in a collection directory; a PostgreSQL collection cannot hold them yet (use a vocabulary, or a directory)'); }
    if (t.dim !== ds.textDim) { collection.close(); throw new InputError(`word vectors are ${t.dim}-d, the dataset's text features ${ds.textDim}-d`); }
    const path = resolve(join(o.dir, WORD_VECTORS_FILE));
    saveWordTable(path, t);
    collection.config.wordVectors = { file: WORD_VECTORS_FILE, path, source: t.source, dim: t.dim, terms: t.terms.length, oov: t.oov, weighting: t.weighting };
  }
  if (o.imageEncoderVersion || o.wordVectors) collection.saveConfig();
  const labelOrder = stream.classOrder.map((c) => ds.labelNames[c]!);
  let seen = 0;
  try {
    const { json, detail } = await runContinual(o.hasher, plan, {
      bits: o.bits, seed: o.seed, train: o.train ?? {}, onProgress: o.onProgress,
      afterSession: async (json, detail) => {
        if (detail.error) return;
        const t = json.sessions.length - 1;
        const s = stream.sessions[t]!;
        seen += s.newClasses.length;
        const items = datasetItems(ds, s.database, o.imageRoot ?? null);
        const v = await collection.commitModel(o.hasher, items, {
          labelNames: labelOrder.slice(0, seen), inherit: t > 0,
          session: { name: `session-${t}`, newClasses: s.newClasses.map((c) => ds.labelNames[c]!), meta: { map: json.sessions[t]!.map, train_seconds: json.sessions[t]!.train_seconds } },
        });
        o.onSession?.(json, detail, v);
      },
    });
    return { collection, json, detail, labelOrder, plan };
  } catch (e) {
    collection.close();
    throw e;
  }
}

/** A collection name from a dataset name ("synthetic(n=…)" → "synthetic"). */
export function collectionNameFor(dsName: string): string {
  const n = basename(dsName).replace(/\(.*$/, '').replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 64);
  return n || 'collection';
}
