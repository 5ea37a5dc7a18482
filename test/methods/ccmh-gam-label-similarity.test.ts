// CCMH-GAM's labelSimilarity option (label-network.ts LabelSimilarity): the targets of the label
// net's pairwise loss, of the code refinement and of the pairwise term — 'shared' (1 when two label
// vectors share a class; the default) or 'cosine' (the earlier targets). And the validation score
// fit() reports when it is given a validation split (what `train --json` prints as `validation`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CcmhGam, CCMH_GAM_OPTIONS, labelCosines, labelSimilarities } from '../../src/methods/ccmh-gam.js';
import { LabelCodebook, refineNewCodes, trainLabelNet } from '../../src/methods/parts/label-network.js';
import { HashNet } from '../../src/methods/parts/hash-net.js';
import { crossModalMap, validationDatabase } from '../../src/methods/evaluate.js';
import { loadCheckpoint, saveCheckpoint } from '../../src/nn/checkpoint.js';
import { loadHasher, createHasher } from '../../src/methods/registry.js';
import type { TrainingData } from '../../src/methods/hasher.js';
import { Rng } from '../../src/util/rng.js';
import { tinyData } from './fixture.js';

const FAST = { epochs: 3, batchSize: 64, labelSteps: 20, minSteps: 0 };

/** tinyData with every row cut to its first class (single-label data). */
function singleLabel(d: TrainingData): TrainingData {
  const labels = new Uint8Array(d.labels.length);
  for (let i = 0; i < d.n; i++) {
    const k = Array.from(d.labels.subarray(i * d.numClasses, (i + 1) * d.numClasses)).indexOf(1);
    labels[i * d.numClasses + k] = 1;
  }
  return { ...d, labels };
}

const codes = (m: CcmhGam) => Array.from(m.databaseCodes()!);

test('labelSimilarities: shared is 1 for any shared class, cosine is graded; zero rows give 0; one-hot rows give the same', () => {
  const L = Uint8Array.from([1, 1, 0, 0, /**/ 0, 1, 0, 0, /**/ 0, 0, 0, 0, /**/ 1, 1, 1, 1, /**/ 0, 0, 1, 0]);
  const shared = labelSimilarities(L, 5, 4, 'shared'), cos = labelSimilarities(L, 5, 4, 'cosine');
  assert.deepEqual(Array.from(cos), Array.from(labelCosines(L, 5, 4)));
  const at = (S: Float32Array, i: number, j: number) => S[i * 5 + j]!;
  assert.equal(at(shared, 0, 1), 1); assert.ok(Math.abs(at(cos, 0, 1) - Math.SQRT1_2) < 1e-6);
  assert.equal(at(shared, 3, 4), 1); assert.ok(Math.abs(at(cos, 3, 4) - 0.5) < 1e-6);
  assert.equal(at(shared, 1, 4), 0); assert.equal(at(cos, 1, 4), 0);
  for (let j = 0; j < 5; j++) { assert.equal(at(shared, 2, j), 0); assert.equal(at(cos, 2, j), 0); } // the zero row
  const oneHot = Uint8Array.from([1, 0, 0, /**/ 0, 1, 0, /**/ 1, 0, 0]);
  assert.deepEqual(Array.from(labelSimilarities(oneHot, 3, 3, 'shared')), Array.from(labelSimilarities(oneHot, 3, 3, 'cosine')));
});

test('refineNewCodes with shared targets pulls a multi-label vector onto the codes of every class it carries', () => {
  const c = 32;
  const r = new Rng(4);
  const book = new LabelCodebook();
  for (const k of ['0', '1', '2', '3']) book.add(k, Float32Array.from({ length: c }, () => (r.uniform() < 0.5 ? -1 : 1)));
  const ham = (a: Float32Array, b: Float32Array) => a.reduce((s, v, i) => s + (v !== b[i] ? 1 : 0), 0);
  // '0,1,2' starts at class 3's code (unrelated to it); each similarity refines its own copy
  const cosine = [book.codes[3]!.slice()], shared = [book.codes[3]!.slice()];
  refineNewCodes(['0,1,2'], cosine, book, 8, { similarity: 'cosine' });
  refineNewCodes(['0,1,2'], shared, book, 8, { similarity: 'shared' });
  const sumTo = (b: Float32Array) => ham(b, book.codes[0]!) + ham(b, book.codes[1]!) + ham(b, book.codes[2]!);
  // S = 1 to each carried class asks for more agreement with all three than S = 1/√3 does
  assert.ok(sumTo(shared[0]!) < sumTo(cosine[0]!), `shared ${sumTo(shared[0]!)} vs cosine ${sumTo(cosine[0]!)}`);
  for (const k of [0, 1, 2]) assert.ok(ham(shared[0]!, book.codes[k]!) < ham(shared[0]!, book.codes[3]!), `class ${k}`);
  // on single-class keys the two targets are the same: the same flips
  const a = [book.codes[0]!.slice(), book.codes[0]!.slice()], b = [book.codes[0]!.slice(), book.codes[0]!.slice()];
  refineNewCodes(['4', '5'], a, book, 4, { similarity: 'cosine' });
  refineNewCodes(['4', '5'], b, book, 4, { similarity: 'shared' });
  assert.deepEqual(a.map((x) => Array.from(x)), b.map((x) => Array.from(x)));
});

test('trainLabelNet: shared targets bring codes of label vectors that share a class closer than cosine targets do', () => {
  const keys = ['0,1,2,3', '0', '1', '2', '3', '4', '5', '4,5'];
  const run = (similarity: 'shared' | 'cosine') => {
    const net = new HashNet(6, 32, 16, new Rng(7));
    trainLabelNet(net, 6, keys, new LabelCodebook(), { steps: 200, learningRate: 3e-3, batch: 256, quantization: 0.5, balance: 0.5, regulariser: 0, anchorOnStored: false, similarity, rng: new Rng(1) });
    const x = new Float32Array(keys.length * 6);
    keys.forEach((k, i) => { for (const c of k.split(',')) x[i * 6 + Number(c)] = 1; });
    const out = net.infer(x, keys.length);
    // mean agreement (inner product / bits) of '0,1,2,3' with each of its four classes
    let s = 0;
    for (let j = 1; j <= 4; j++) { let d = 0; for (let b = 0; b < 16; b++) d += out[b]! * out[j * 16 + b]!; s += d / 16; }
    return s / 4;
  };
  const shared = run('shared'), cosine = run('cosine');
  assert.ok(shared > cosine + 0.1, `shared ${shared.toFixed(3)} vs cosine ${cosine.toFixed(3)}`);
});

test('ccmh-gam: labelSimilarity defaults to shared; on single-label data shared and cosine give bit-identical codes, on multi-label data they differ', async () => {
  assert.equal(CCMH_GAM_OPTIONS.labelSimilarity!.default, 'shared');
  assert.equal(CCMH_GAM_OPTIONS.labelSimilarity!.at, 'model');
  assert.equal(new CcmhGam({ bits: 16 }).labelSimilarity, 'shared');
  const multi = tinyData(160, 3, { classes: 5 });
  assert.ok(multi.labels.reduce((a, b) => a + b, 0) > multi.n, 'the fixture has multi-label rows');
  const single = singleLabel(multi);
  const fitCodes = async (d: TrainingData, labelSimilarity?: 'shared' | 'cosine') => {
    const m = new CcmhGam({ bits: 16, hidden: 16, labelHidden: 16, ...(labelSimilarity ? { labelSimilarity } : {}) });
    await m.fit(d, { bits: 16, seed: 2, ...FAST });
    return { codes: codes(m), image: Array.from(m.encode('image', d.image, d.n).values) };
  };
  const s1 = await fitCodes(single, 'shared'), s2 = await fitCodes(single, 'cosine');
  assert.deepEqual(s1.codes, s2.codes); assert.deepEqual(s1.image, s2.image);
  const m1 = await fitCodes(multi), m2 = await fitCodes(multi, 'cosine');
  assert.notDeepEqual(m1.codes, m2.codes);
  // fit() refuses it as a training option: it is fixed when the model is built (the stored codes were made with it)
  await assert.rejects(new CcmhGam({ bits: 16 }).fit(multi, { bits: 16, seed: 1, labelSimilarity: 'cosine' } as never), /labelSimilarity/);
  assert.throws(() => new CcmhGam({ bits: 16, labelSimilarity: 'jaccard' as never }), /labelSimilarity must be shared\|cosine/);
});

test('ccmh-gam checkpoints keep labelSimilarity; one written before the option loads as cosine (what made its codes)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cmhash-ccmh-sim-'));
  try {
    const d = tinyData(80, 5, { classes: 4 });
    for (const sim of ['shared', 'cosine'] as const) {
      const m = createHasher('ccmh-gam', { bits: 16, hidden: 8, labelHidden: 8, labelSimilarity: sim }) as CcmhGam;
      await m.fit(d, { bits: 16, seed: 1, ...FAST });
      const path = join(dir, `${sim}.ckpt`);
      m.save(path);
      assert.equal((loadHasher(path) as CcmhGam).labelSimilarity, sim);
    }
    const ck = loadCheckpoint(join(dir, 'shared.ckpt'));
    delete (ck.architecture as Record<string, unknown>).labelSimilarity;
    const old = join(dir, 'old.ckpt');
    saveCheckpoint(old, ck);
    assert.equal((loadHasher(old) as CcmhGam).labelSimilarity, 'cosine');
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('ccmh-gam fit() scores a validation split it is given on the kept (last) epoch, as --tune scores a fit; training is unchanged', async () => {
  const train = tinyData(120, 6, { classes: 4 }), validation = tinyData(30, 7, { classes: 4 });
  const a = new CcmhGam({ bits: 16, hidden: 16, labelHidden: 8 });
  await a.fit(train, { bits: 16, seed: 3, ...FAST, validation });
  const b = new CcmhGam({ bits: 16, hidden: 16, labelHidden: 8 });
  await b.fit(train, { bits: 16, seed: 3, ...FAST });
  assert.deepEqual(Array.from(a.encode('text', train.text, train.n).values), Array.from(b.encode('text', train.text, train.n).values));
  const last = a.lastFit!.history.at(-1)!;
  const expected = crossModalMap(a, validation, validationDatabase(train));
  assert.deepEqual(last.validation, expected);
  assert.equal(a.lastFit!.bestEpoch, a.lastFit!.epochsRun);
  assert.ok(Math.abs(a.lastFit!.bestScore! - (expected.i2t + expected.t2i) / 2) < 1e-12);
  assert.equal(b.lastFit!.history.at(-1)!.validation, undefined);
  assert.equal(b.lastFit!.bestScore, null);
});
