import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { buildVocabulary, loadVocabulary, saveVocabulary, tokenize, vectorize } from '../../src/data/text-features.js';
import { colourHistogram, describeImage, gradientHistogram, IMAGE_DESCRIPTOR_DIM } from '../../src/data/image-features.js';
import { OnnxEncoder } from '../../src/data/onnx-encoder.js';
import { tempDir } from './helpers.js';

test('text: tokens, vocabulary (saved/loaded), binary / count / TF-IDF by hand', () => {
  assert.deepEqual(tokenize('The Red car, and a RED bus!'), ['red', 'car', 'red', 'bus']);
  assert.deepEqual(tokenize([' Sea ', 'blue  sky']), ['sea', 'blue sky']);
  const docs = ['red car', 'red bus', 'blue car car'];
  const v = buildVocabulary(docs, { weighting: 'count' });
  assert.deepEqual(v.terms, ['car', 'red', 'blue', 'bus']); assert.deepEqual(v.df, [2, 2, 1, 1]);
  assert.deepEqual([...vectorize(['car car blue zebra'], v)], [2, 0, 1, 0]);
  assert.deepEqual([...vectorize(['car car blue'], { ...v, weighting: 'binary' })], [1, 0, 1, 0]);
  // tf-idf: idf(car) = ln(4/3)+1, idf(blue) = ln(4/2)+1; row = [2·idf_car, 0, idf_blue, 0] / norm
  const ic = Math.log(4 / 3) + 1, ib = Math.log(2) + 1; const norm = Math.hypot(2 * ic, ib);
  const row = vectorize(['car car blue'], { ...v, weighting: 'tfidf' });
  assert.ok(Math.abs(row[0]! - (2 * ic) / norm) < 1e-6 && Math.abs(row[2]! - ib / norm) < 1e-6);
  const t = tempDir();
  try {
    saveVocabulary(join(t.dir, 'v.json'), v); assert.deepEqual(loadVocabulary(join(t.dir, 'v.json')), v);
    writeFileSync(join(t.dir, 'bad.json'), '{"terms": 3}');
    assert.throws(() => loadVocabulary(join(t.dir, 'bad.json')), /not a cmhash vocabulary/);
  } finally { t.done(); }
});

test('image descriptors: colour histogram and gradient histogram on known images', async () => {
  // pure red 4×4 image: all mass in the hue-0, full-saturation, full-value bin
  const red = { width: 4, height: 4, data: new Uint8Array(48).map((_, i) => (i % 3 === 0 ? 255 : 0)) };
  const h = colourHistogram(red); assert.equal(h[(0 * 8 + 7) * 4 + 3], 1);
  // vertical stripes: gradients along x only → orientation 0 (bin 0 and its wrap neighbour 8)
  const w = 16; const g = new Float32Array(w * w).map((_, i) => ((i % w) % 4 < 2 ? 0 : 255));
  const d = gradientHistogram(g, w, w, 1, 9);
  assert.ok(d[0]! + d[8]! > 0.99 * d.reduce((s, v) => s + v, 0));
  const t = tempDir();
  try {
    const p = join(t.dir, 'x.png');
    await sharp({ create: { width: 50, height: 40, channels: 3, background: { r: 10, g: 200, b: 30 } } }).png().toFile(p);
    const v = await describeImage(p); assert.equal(v.length, IMAGE_DESCRIPTOR_DIM);
    writeFileSync(join(t.dir, 'broken.jpg'), 'not a jpeg');
    await assert.rejects(describeImage(join(t.dir, 'broken.jpg')), /broken\.jpg: cannot decode image/);
  } finally { t.done(); }
});

// --- a tiny ONNX model written by hand: Y = MatMul(X[N,3], W[3,2]) ---
function varint(n: number): number[] { const o: number[] = []; while (n > 127) { o.push((n & 127) | 128); n >>>= 7; } o.push(n); return o; }
function field(no: number, wire: number, payload: number[]): number[] { return [...varint((no << 3) | wire), ...payload]; }
const vInt = (no: number, v: number) => field(no, 0, varint(v));
const vBytes = (no: number, b: number[]) => field(no, 2, [...varint(b.length), ...b]);
const vStr = (no: number, s: string) => vBytes(no, [...new TextEncoder().encode(s)]);
function valueInfo(name: string, dims: (number | string)[]): number[] {
  const shape = dims.flatMap((d) => vBytes(1, typeof d === 'number' ? vInt(1, d) : vStr(2, d)));
  const tensorType = [...vInt(1, 1), ...vBytes(2, shape)];
  return [...vStr(1, name), ...vBytes(2, vBytes(1, tensorType))];
}
function tinyMatMulModel(W: Float32Array): Uint8Array {
  const node = [...vStr(1, 'X'), ...vStr(1, 'W'), ...vStr(2, 'Y'), ...vStr(4, 'MatMul')];
  const init = [...vInt(1, 3), ...vInt(1, 2), ...vInt(2, 1), ...vStr(8, 'W'), ...vBytes(9, [...new Uint8Array(W.buffer)])];
  const graph = [...vBytes(1, node), ...vStr(2, 'g'), ...vBytes(5, init), ...vBytes(11, valueInfo('X', ['N', 3])), ...vBytes(12, valueInfo('Y', ['N', 2]))];
  return Uint8Array.from([...vInt(1, 7), ...vBytes(7, graph), ...vBytes(8, [...vStr(1, ''), ...vInt(2, 13)])]);
}

test('ONNX encoder: a hand-written MatMul model runs through onnxruntime-node', async (t) => {
  try { await import('onnxruntime-node'); } catch { t.skip('onnxruntime-node is not installed (optional dependency)'); return; }
  const tmp = tempDir();
  try {
    const W = new Float32Array([1, 0, 0, 1, 1, 1]); // 3×2
    const p = join(tmp.dir, 'm.onnx'); writeFileSync(p, tinyMatMulModel(W));
    const enc = await OnnxEncoder.load(p, { batchSize: 2 });
    const X = new Float32Array([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const y = await enc.encode(X, 3, [3]);
    assert.equal(y.dim, 2); assert.deepEqual([...y.data], [4, 5, 10, 11, 16, 17]);
    await assert.rejects(enc.encode(X, 2, [3]), /encoder input has 9 values, expected 2 × \[3\] = 6/);
    await enc.close();
    writeFileSync(join(tmp.dir, 'bad.onnx'), 'nope');
    await assert.rejects(OnnxEncoder.load(join(tmp.dir, 'bad.onnx')), /cannot load ONNX model/);
  } finally { tmp.done(); }
});
