// Text → vectors: tags or words into a bag-of-words (binary, counts or TF-IDF) over a vocabulary
// that is built once from training documents and saved as JSON, so queries encoded later use the
// same columns.
import { readFileSync } from 'node:fs';
import { CorruptDataError, InputError } from '../util/errors.js';
import { writeFileAtomic } from '../util/atomic-write.js';

export type TextWeighting = 'binary' | 'count' | 'tfidf';

export interface Vocabulary {
  format: 'cmhash-vocabulary';
  version: 1;
  weighting: TextWeighting;
  /** Column order. */
  terms: string[];
  /** Documents containing each term (same order). */
  df: number[];
  nDocs: number;
}

/** A document: free text (tokenised into words) or a list of tags (each tag one term). */
export type TextDoc = string | string[];

const STOPWORDS = new Set('a an and are as at be by for from has have in is it its of on or that the this to was were will with'.split(' '));

/** Lower-cased terms of a document. Tags are kept whole (spaces squeezed); text is split into words. */
export function tokenize(doc: TextDoc): string[] {
  if (Array.isArray(doc)) return doc.map((t) => t.trim().toLowerCase().replace(/\s+/g, ' ')).filter((t) => t.length > 0);
  return (doc.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).filter((t) => t.length > 1 && !STOPWORDS.has(t));
}

export interface VocabularyOptions { weighting?: TextWeighting; minDf?: number; maxTerms?: number }

/** Builds a vocabulary: terms in ≥ minDf documents, the maxTerms most frequent (ties alphabetical). */
export function buildVocabulary(docs: TextDoc[], o: VocabularyOptions = {}): Vocabulary {
  const df = new Map<string, number>();
  for (const d of docs) for (const t of new Set(tokenize(d))) df.set(t, (df.get(t) ?? 0) + 1);
  let terms = [...df.entries()].filter(([, c]) => c >= (o.minDf ?? 1));
  terms.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  if (o.maxTerms !== undefined) terms = terms.slice(0, o.maxTerms);
  return { format: 'cmhash-vocabulary', version: 1, weighting: o.weighting ?? 'tfidf', terms: terms.map((t) => t[0]), df: terms.map((t) => t[1]), nDocs: docs.length };
}

/** A vocabulary from a fixed term list (e.g. MIRFlickr's 1,386 tags), binary weighting by default. */
export function vocabularyFromTerms(terms: string[], weighting: TextWeighting = 'binary'): Vocabulary {
  return { format: 'cmhash-vocabulary', version: 1, weighting, terms: terms.map((t) => t.trim().toLowerCase()), df: terms.map(() => 1), nDocs: 1 };
}

/** n×V row-major matrix. TF-IDF rows use idf = ln((1+N)/(1+df)) + 1 and are L2-normalised. */
export function vectorize(docs: TextDoc[], vocab: Vocabulary): Float32Array {
  const V = vocab.terms.length;
  const col = new Map(vocab.terms.map((t, i) => [t, i]));
  const idf = vocab.df.map((d) => Math.log((1 + vocab.nDocs) / (1 + d)) + 1);
  const out = new Float32Array(docs.length * V);
  docs.forEach((d, i) => {
    const row = out.subarray(i * V, (i + 1) * V);
    for (const t of tokenize(d)) { const j = col.get(t); if (j !== undefined) row[j]! += 1; }
    if (vocab.weighting === 'binary') { for (let j = 0; j < V; j++) if (row[j]! > 0) row[j] = 1; }
    else if (vocab.weighting === 'tfidf') {
      let s = 0; for (let j = 0; j < V; j++) if (row[j]! > 0) { row[j] = row[j]! * idf[j]!; s += row[j]! * row[j]!; }
      if (s > 0) { const k = 1 / Math.sqrt(s); for (let j = 0; j < V; j++) row[j]! *= k; }
    }
  });
  return out;
}

export function saveVocabulary(path: string, vocab: Vocabulary): void {
  writeFileAtomic(path, JSON.stringify(vocab));
}

export function loadVocabulary(path: string): Vocabulary {
  let v: unknown;
  try { v = JSON.parse(readFileSync(path, 'utf8')); } catch (e) { throw new CorruptDataError(`${path}: not a JSON vocabulary (${(e as Error).message})`); }
  return checkVocabulary(v, path);
}

/** A parsed vocabulary value checked for shape (`where` names its source in the error). */
export function checkVocabulary(value: unknown, where: string): Vocabulary {
  const v = value as Vocabulary;
  if (v?.format !== 'cmhash-vocabulary' || !Array.isArray(v.terms) || !Array.isArray(v.df) || v.terms.length !== v.df.length || !['binary', 'count', 'tfidf'].includes(v.weighting)) {
    throw new InputError(`${where}: not a cmhash vocabulary (expected format 'cmhash-vocabulary' with terms[], df[] of equal length and weighting binary|count|tfidf)`);
  }
  return v;
}
