import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../../src/util/rng.js';
import { buildOnnxModel, exportOnnx, forwardLayers, signCode, type ExportLayer } from '../../src/export/onnx.js';
import { InputError } from '../../src/util/errors.js';

type Ort = typeof import('onnxruntime-node');
let ort: Ort | null = null;
let ortError = '';
try { ort = await import('onnxruntime-node'); } catch (err) { ortError = (err as Error).message; }

function randomVec(rng: Rng, n: number, scale: number): Float32Array {
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = rng.normal(0, scale);
  return v;
}

function linear(rng: Rng, inDim: number, outDim: number, withBias: boolean): ExportLayer {
  return { type: 'linear', inDim, outDim, weight: randomVec(rng, inDim * outDim, 1 / Math.sqrt(inDim)), bias: withBias ? randomVec(rng, outDim, 0.3) : null };
}

/** A random MLP: linear (+ activation or scale) blocks ending at a pre-sign code layer. */
function randomStack(rng: Rng): { layers: ExportLayer[]; inDim: number } {
  const inDim = 1 + rng.int(37);
  const layers: ExportLayer[] = [];
  let width = inDim;
  const depth = 1 + rng.int(3);
  for (let d = 0; d < depth; d++) {
    const out = 1 + rng.int(29);
    layers.push(linear(rng, width, out, rng.uniform() < 0.7));
    width = out;
    if (d < depth - 1) layers.push({ type: (['relu', 'tanh', 'sigmoid'] as const)[rng.int(3)]! });
  }
  const head = rng.int(4);
  if (head === 1) layers.push({ type: 'tanh' });
  if (head === 2) layers.push({ type: 'scale', alpha: Float32Array.from(randomVec(rng, width, 1), (v) => 0.5 + Math.abs(v)) });
  if (head === 3) {
    const perUnit = rng.uniform() < 0.5;
    layers.push({ type: 'atanh_nonlinear', alpha: perUnit ? Float32Array.from(randomVec(rng, width, 1), (v) => 0.5 + Math.abs(v)) : 1.7, p: perUnit ? Float32Array.from(randomVec(rng, width, 1), (v) => 0.3 + Math.abs(v)) : 0.5 });
  }
  return { layers, inDim };
}

test('onnxruntime runs exported stacks to the same outputs and codes as the TS forward pass', async (t) => {
  if (!ort) { t.skip(`onnxruntime-node failed to load (${ortError}); ONNX runtime check skipped`); return; }
  const rt: Ort = ort;
  const dir = mkdtempSync(join(tmpdir(), 'cmhash-onnx-'));
  try {
    const rng = new Rng(20240613);
    for (let trial = 0; trial < 12; trial++) {
      const { layers, inDim } = randomStack(rng);
      const n = 1 + rng.int(9);
      const x = randomVec(rng, n * inDim, 1.5);
      if (trial === 0) x.fill(0, 0, Math.min(inDim, x.length)); // a zero row: exercises Sign(0) and code 0 → +1
      const path = join(dir, `m${trial}.onnx`);
      const opset = trial % 3 === 2 ? 17 : 13;
      const summary = await exportOnnx(layers, path, { inputName: trial % 2 ? 'image' : 'text', opset });
      const session: Awaited<ReturnType<Ort['InferenceSession']['create']>> = await rt.InferenceSession.create(path);
      assert.deepEqual(session.inputNames, [summary.inputName]);
      assert.deepEqual(session.outputNames, ['code']);
      const result: Awaited<ReturnType<typeof session.run>> = await session.run({ [summary.inputName]: new rt.Tensor('float32', x, [n, inDim]) });
      const got = result.code!.data as Float32Array;
      assert.deepEqual(result.code!.dims, [n, summary.outputDim]);
      const want = forwardLayers(layers, x, n);
      assert.equal(got.length, want.length);
      for (let i = 0; i < want.length; i++) {
        assert.ok(Math.abs(got[i]! - want[i]!) <= 1e-5 * Math.max(1, Math.abs(want[i]!)), `trial ${trial} [${i}]: onnx ${got[i]} vs ts ${want[i]} (${JSON.stringify(layers.map((l) => l.type))})`);
      }
      // Codes agree wherever the value is not within rounding of the sign boundary.
      const gc = signCode(got), wc = signCode(want);
      for (let i = 0; i < want.length; i++) if (Math.abs(want[i]!) > 1e-6) assert.equal(gc[i], wc[i], `trial ${trial} code bit ${i}`);
      await session.release();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('atanh_nonlinear at a = 0 gives code +1 in onnxruntime', async (t) => {
  if (!ort) { t.skip(`onnxruntime-node failed to load (${ortError}); skipped`); return; }
  const layers: ExportLayer[] = [{ type: 'linear', inDim: 2, outDim: 3, weight: new Float32Array(6), bias: null }, { type: 'atanh_nonlinear', alpha: 2, p: 0.5 }];
  const { bytes } = buildOnnxModel(layers);
  const session = await ort.InferenceSession.create(bytes);
  const out = await session.run({ input: new ort.Tensor('float32', Float32Array.of(1, -2), [1, 2]) });
  const v = out.code!.data as Float32Array;
  assert.deepEqual([...v].map((a) => Math.abs(a)), [0, 0, 0]);
  assert.deepEqual([...signCode(v)], [1, 1, 1]);
  await session.release();
});

test('forwardLayers hand-checked vector', () => {
  // x = [1, 2]; W = [[1, -1], [0.5, 2]] (in×out row-major); b = [0, -1]
  // x·W + b = [2, 2]; scale [0.5, -1] → [1, -2]; atanh_nonlinear alpha 1 p 2 → tanh([1, -4])
  const layers: ExportLayer[] = [
    { type: 'linear', inDim: 2, outDim: 2, weight: Float32Array.of(1, -1, 0.5, 2), bias: Float32Array.of(0, -1) },
    { type: 'scale', alpha: Float32Array.of(0.5, -1) },
    { type: 'atanh_nonlinear', alpha: 1, p: 2 },
  ];
  const y = forwardLayers(layers, Float32Array.of(1, 2), 1);
  assert.ok(Math.abs(y[0]! - Math.tanh(1)) < 1e-12);
  assert.ok(Math.abs(y[1]! - Math.tanh(-4)) < 1e-12);
  assert.deepEqual([...signCode([0, -0, -1e-9, 3])], [1, 1, -1, 1]);
});

test('bad layer lists give clear errors and write nothing', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cmhash-onnx-bad-'));
  try {
    const w = new Float32Array(6);
    const cases: [ExportLayer[], RegExp, object?][] = [
      [[], /non-empty/],
      [[{ type: 'linear', inDim: 2, outDim: 3, weight: new Float32Array(5), bias: null }], /weight must be a Float32Array of 2×3 = 6, got 5/],
      [[{ type: 'linear', inDim: 2, outDim: 3, weight: w, bias: new Float32Array(2) }], /bias must be a Float32Array of 3/],
      [[{ type: 'linear', inDim: 2, outDim: 3, weight: w, bias: null }, { type: 'linear', inDim: 4, outDim: 1, weight: new Float32Array(4), bias: null }], /layers\[1\] \(linear\) inDim is 4, expected 3/],
      [[{ type: 'linear', inDim: 2, outDim: 3, weight: w, bias: null }, { type: 'scale', alpha: new Float32Array(2) }], /alpha has length 2, expected 3/],
      [[{ type: 'linear', inDim: 2, outDim: 3, weight: w, bias: null }, { type: 'atanh_nonlinear', alpha: 1, p: 0 }], /p\[0\] is 0, expected > 0/],
      [[{ type: 'linear', inDim: 2, outDim: 3, weight: Float32Array.of(0, 0, NaN, 0, 0, 0), bias: null }], /weight\[2\] is NaN/],
      [[{ type: 'tanh' }], /options.inputDim is required/],
      [[{ type: 'gelu' } as unknown as ExportLayer], /unknown type "gelu"/, { inputDim: 2 }],
      [[{ type: 'tanh' }], /opset must be an integer in 9..21, got 7/, { inputDim: 2, opset: 7 }],
      [[{ type: 'tanh' }], /inputName/, { inputDim: 2, inputName: 'code' }],
    ];
    for (const [layers, re, opts] of cases) {
      await assert.rejects(exportOnnx(layers, join(dir, 'x.onnx'), opts), (e: Error) => e instanceof InputError && re.test(e.message));
    }
    assert.deepEqual(readdirSync(dir), []);
    // A valid export leaves exactly the target file (no temp files).
    await exportOnnx([{ type: 'tanh' }], join(dir, 'ok.onnx'), { inputDim: 4 });
    assert.deepEqual(readdirSync(dir), ['ok.onnx']);
    assert.ok(readFileSync(join(dir, 'ok.onnx')).length > 20);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a DBRC checkpoint with an image map is refused by the ONNX layer reader (no silently different encoder)', async () => {
  const { Dbrc } = await import('../../src/methods/dbrc.js');
  const { encoderLayersFromCheckpoint } = await import('../../src/methods/registry.js');
  const rng = new Rng(4), n = 40, dx = 6, dy = 5;
  const train = {
    n, imageDim: dx, textDim: dy, numClasses: 2,
    image: Float32Array.from({ length: n * dx }, () => rng.uniform()), text: Float32Array.from({ length: n * dy }, () => rng.uniform()),
    labels: Uint8Array.from({ length: n * 2 }, (_, i) => (i % 2 === Math.floor(i / 2) % 2 ? 1 : 0)),
  };
  const dir = mkdtempSync(join(tmpdir(), 'onnx-map-'));
  try {
    for (const imageMap of ['none', 'sqrt'] as const) {
      const m = new Dbrc({ bits: 8, hidden: 8 });
      await m.fit(train, { bits: 8, epochs: 1, seed: 1, imageMap, validation: undefined });
      m.save(join(dir, `${imageMap}.ckpt`));
    }
    assert.ok(encoderLayersFromCheckpoint(join(dir, 'none.ckpt')).image.length > 0);
    assert.throws(() => encoderLayersFromCheckpoint(join(dir, 'sqrt.ckpt')), (e: Error) => e instanceof InputError && /image map "sqrt" is not exportable/.test(e.message));
  } finally { rmSync(dir, { recursive: true, force: true }); }
});
