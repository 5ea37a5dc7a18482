// Wikipedia (Rasiwasia et al. 2010): 2,866 pairs, 10 classes, 128-d SIFT BoVW images, 10-d LDA
// texts. Standard split: the 2,173 training pairs are the training set and the database, the 693
// test pairs are the queries. Three copies load to the same matrices: the original v5
// raw_features.mat (+ .list files for labels and ids), the v7.3 copy (with L_tr/L_te), and the
// .npy folder.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { InputError, NotFoundError } from '../../util/errors.js';
import { Dataset } from '../dataset.js';
import { listArrays, readArrays } from '../containers.js';
import type { NdArray } from '../ndarray.js';
import { readNpy } from '../npy.js';
import { featuresFrom, findDataDir, labelsFrom, range, type PresetOptions } from './common.js';
import { concatArrays } from '../../util/arrays.js';

export const WIKIPEDIA_CATEGORIES = ['art', 'biology', 'geography', 'history', 'literature', 'media', 'music', 'royalty', 'sport', 'warfare'];

interface Lists { ids: string[]; imageIds: string[]; classIdx: number[]; nTrain: number; categories: string[] }

function findList(dir: string, re: RegExp): string | null {
  if (!existsSync(dir)) return null;
  const f = readdirSync(dir).find((n) => re.test(n));
  return f ? join(dir, f) : null;
}

/** The original train/test .list files (text id, image id, 1-based category). */
function readLists(dir: string): Lists | null {
  const tr = findList(dir, /trainset_txt_img_cat\.list$/); const te = findList(dir, /testset_txt_img_cat\.list$/);
  if (!tr || !te) return null;
  const cat = findList(dir, /categories\.list$/);
  const parse = (p: string) => readFileSync(p, 'utf8').split(/\r?\n/).filter((l) => l.trim()).map((l, i) => {
    const f = l.trim().split(/\s+/);
    const c = Number(f[2]);
    if (f.length < 3 || !Number.isInteger(c) || c < 1) throw new InputError(`${p}: line ${i + 1}: expected 'textid imageid category', got '${l}'`);
    return f;
  });
  const a = parse(tr); const b = parse(te);
  return {
    ids: [...a, ...b].map((f) => f[0]!), imageIds: [...a, ...b].map((f) => f[1]!), classIdx: [...a, ...b].map((f) => Number(f[2]) - 1), nTrain: a.length,
    categories: cat ? readFileSync(cat, 'utf8').split(/\r?\n/).map((s) => s.trim()).filter(Boolean) : WIKIPEDIA_CATEGORIES,
  };
}

function build(name: string, source: string, image: Float32Array, dI: number, text: Float32Array, dT: number, labels: Uint8Array, nTrain: number, ids: string[] | undefined, labelNames: string[], opts: PresetOptions): Dataset {
  const n = labels.length / labelNames.length;
  const train = range(0, nTrain);
  const ds = new Dataset({ name, image, imageDim: dI, text, textDim: dT, labels, labelNames, ids, source, nonFinite: opts.nonFinite,
    splits: { train, retrieval: train.slice(), query: range(nTrain, n) } });
  return opts.validation ? ds.withValidation(opts.validation, opts.seed ?? 0) : ds;
}

/** From the .npy folder (image_sift_bovw128.npy, text_lda10.npy, labels_onehot.npy, split_is_test.npy, ids.tsv). */
export function loadWikipediaNpy(dir: string, opts: PresetOptions = {}): Dataset {
  const img = readNpy(join(dir, 'image_sift_bovw128.npy')); const txt = readNpy(join(dir, 'text_lda10.npy'));
  const lab = labelsFrom(readNpy(join(dir, 'labels_onehot.npy')), join(dir, 'labels_onehot.npy'));
  const isTest = readNpy(join(dir, 'split_is_test.npy'));
  let nTrain = 0; while (nTrain < isTest.data.length && !isTest.data[nTrain]) nTrain++;
  for (let i = nTrain; i < isTest.data.length; i++) if (!isTest.data[i]) throw new InputError(`${dir}/split_is_test.npy: train rows must come first (row ${i} is train after test rows)`);
  const I = featuresFrom(img, `${dir}/image_sift_bovw128.npy`, lab.n); const T = featuresFrom(txt, `${dir}/text_lda10.npy`, lab.n);
  let ids: string[] | undefined;
  const tsv = join(dir, 'ids.tsv');
  if (existsSync(tsv)) ids = readFileSync(tsv, 'utf8').split(/\r?\n/).slice(1).filter(Boolean).map((l) => l.split('\t')[1]!);
  let names = WIKIPEDIA_CATEGORIES;
  const mf = join(dir, 'manifest.json');
  if (existsSync(mf)) { try { const m = JSON.parse(readFileSync(mf, 'utf8')); if (Array.isArray(m.categories) && m.categories.length === lab.numLabels) names = m.categories; } catch { /* keep defaults */ } }
  return build('wikipedia', dir, I.data, I.dim, T.data, T.dim, lab.labels, nTrain, ids, names, opts);
}

/** The variables every Wikipedia file copy holds (image and text, train and test). */
export const WIKIPEDIA_VARIABLES = ['I_tr', 'I_te', 'T_tr', 'T_te'];

/** Whether a file's variables are the Wikipedia layout (I_tr, I_te, T_tr, T_te), judged by content. */
export async function hasWikipediaLayout(path: string): Promise<boolean> {
  const names = new Set((await listArrays(path)).map((a) => a.name));
  return WIKIPEDIA_VARIABLES.every((k) => names.has(k));
}

/**
 * From a file holding I_tr, I_te, T_tr, T_te (the v5 raw_features.mat with the .list files beside
 * it, or a v7.3/.h5/.npz copy holding L_tr/L_te too). Matrices are oriented by the item counts.
 */
export async function loadWikipediaMat(path: string, opts: PresetOptions = {}): Promise<Dataset> {
  const listed = (await listArrays(path)).map((a) => a.name);
  const wantNames = [...WIKIPEDIA_VARIABLES, 'L_tr', 'L_te'].filter((k) => listed.includes(k));
  const got = await readArrays(path, wantNames);
  const vars = new Map<string, { array?: NdArray }>(listed.map((k) => [k, { array: got.get(k) }]));
  const need = (k: string) => {
    const v = vars.get(k);
    if (!v?.array) throw new InputError(`${path}: variable '${k}' missing (found: ${listed.join(', ')}); expected I_tr, I_te, T_tr, T_te`);
    return v.array;
  };
  const Itr = need('I_tr'); const Ite = need('I_te'); const Ttr = need('T_tr'); const Tte = need('T_te');
  const lists = readLists(dirname(path));
  let nTr: number; let nTe: number; let labels: Uint8Array; let C: number; let ids: string[] | undefined; let names = WIKIPEDIA_CATEGORIES;
  if (vars.get('L_tr')?.array && vars.get('L_te')?.array) {
    const a = labelsFrom(vars.get('L_tr')!.array!, `${path}: 'L_tr'`); const b = labelsFrom(vars.get('L_te')!.array!, `${path}: 'L_te'`);
    if (a.numLabels !== b.numLabels) throw new InputError(`${path}: L_tr has ${a.numLabels} classes, L_te ${b.numLabels}`);
    nTr = a.n; nTe = b.n; C = a.numLabels; labels = new Uint8Array((nTr + nTe) * C); labels.set(a.labels); labels.set(b.labels, nTr * C);
    if (lists && lists.ids.length === nTr + nTe) { ids = lists.ids; names = lists.categories; }
  } else if (lists) {
    nTr = lists.nTrain; nTe = lists.ids.length - nTr; C = lists.categories.length; names = lists.categories; ids = lists.ids;
    labels = new Uint8Array((nTr + nTe) * C);
    lists.classIdx.forEach((c, i) => { if (c >= C) throw new InputError(`${dirname(path)}: category ${c + 1} of item ${i} exceeds the ${C} categories`); labels[i * C + c] = 1; });
  } else {
    throw new NotFoundError(`${path}: no labels — the file has no L_tr/L_te and no *trainset_txt_img_cat.list / *testset_txt_img_cat.list beside it`);
  }
  if (C !== names.length) names = Array.from({ length: C }, (_, j) => `class${j + 1}`);
  const I1 = featuresFrom(Itr, `${path}: 'I_tr'`, nTr); const I2 = featuresFrom(Ite, `${path}: 'I_te'`, nTe);
  const T1 = featuresFrom(Ttr, `${path}: 'T_tr'`, nTr); const T2 = featuresFrom(Tte, `${path}: 'T_te'`, nTe);
  if (I1.dim !== I2.dim || T1.dim !== T2.dim) throw new InputError(`${path}: train/test feature dims differ (image ${I1.dim}/${I2.dim}, text ${T1.dim}/${T2.dim})`);
  return build('wikipedia', path, concatArrays([I1.data, I2.data]), I1.dim, concatArrays([T1.data, T2.data]), T1.dim, labels, nTr, ids, names, opts);
}

/** `wikipedia` preset: a folder (npy or original/), or a file; `opts.source` = 'npy' | 'mat' | 'v73'. */
export async function loadWikipedia(spec: string | null, opts: PresetOptions = {}): Promise<Dataset> {
  const dir = spec ?? findDataDir('wikipedia');
  if (!dir) throw new NotFoundError(`wikipedia: data not found; put it under $CMHASH_DATA/wikipedia or ../shared/data/wikipedia (searched: ${['$CMHASH_DATA', '../shared/data'].join(', ')})`);
  if (!statSync(dir).isDirectory()) return loadWikipediaMat(dir, opts);
  const orig = existsSync(join(dir, 'original')) ? join(dir, 'original') : dir;
  const src = opts.source ?? (existsSync(join(dir, 'image_sift_bovw128.npy')) ? 'npy' : existsSync(join(orig, 'raw_features.mat')) ? 'mat' : 'v73');
  if (src === 'npy') return loadWikipediaNpy(dir, opts);
  if (src === 'mat') return loadWikipediaMat(join(orig, 'raw_features.mat'), opts);
  if (src === 'v73') {
    const f = findList(orig, /v73\.mat$/) ?? findList(orig, /^wiki.*\.mat$/);
    if (!f) throw new NotFoundError(`${orig}: no v7.3 copy (*v73.mat)`);
    return loadWikipediaMat(f, opts);
  }
  throw new InputError(`wikipedia: unknown source '${src}' (expected npy, mat or v73)`);
}
