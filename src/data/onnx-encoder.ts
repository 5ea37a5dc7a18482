// Optional user-supplied encoder (an ONNX model) for images or text vectors, run with
// onnxruntime-node when it is installed (it is an optional dependency: its CPU binaries ship in
// the package, nothing is downloaded). Input is one float tensor [batch, ...shape]; output is
// the first (or named) output, flattened to [batch, D].
import { existsSync } from 'node:fs';
import { InputError, NotFoundError } from '../util/errors.js';
import { loadRgb } from './image-features.js';

type Ort = typeof import('onnxruntime-node');

export async function loadOnnxRuntime(): Promise<Ort> {
  try { return await import('onnxruntime-node'); } catch (e) {
    throw new NotFoundError(`ONNX encoders need the optional package onnxruntime-node, which is not installed or failed to load (${(e as Error).message.split('\n')[0]}); install it with 'npm install onnxruntime-node' or use the built-in descriptors`);
  }
}

export interface OnnxEncoderOptions { inputName?: string; outputName?: string; batchSize?: number }

export class OnnxEncoder {
  private constructor(private readonly ort: Ort, private readonly session: import('onnxruntime-node').InferenceSession,
    readonly inputName: string, readonly outputName: string, readonly path: string, readonly batchSize: number) {}

  static async load(path: string, o: OnnxEncoderOptions = {}): Promise<OnnxEncoder> {
    if (!existsSync(path)) throw new NotFoundError(`${path}: no such ONNX model`);
    const ort = await loadOnnxRuntime();
    let session;
    try { session = await ort.InferenceSession.create(path, { intraOpNumThreads: 1 }); } catch (e) {
      throw new InputError(`${path}: cannot load ONNX model (${(e as Error).message})`);
    }
    const inputName = o.inputName ?? session.inputNames[0];
    const outputName = o.outputName ?? session.outputNames[0];
    if (!inputName || !session.inputNames.includes(inputName)) throw new InputError(`${path}: no input '${inputName}' (inputs: ${session.inputNames.join(', ')})`);
    if (!outputName || !session.outputNames.includes(outputName)) throw new InputError(`${path}: no output '${outputName}' (outputs: ${session.outputNames.join(', ')})`);
    return new OnnxEncoder(ort, session, inputName, outputName, path, o.batchSize ?? 32);
  }

  /**
   * Encodes n inputs of `itemShape` each (row-major, n × prod(itemShape) floats) in batches.
   * Returns n × D embeddings.
   */
  async encode(input: Float32Array, n: number, itemShape: number[]): Promise<{ dim: number; data: Float32Array }> {
    const per = itemShape.reduce((a, b) => a * b, 1);
    if (input.length !== n * per) throw new InputError(`${this.path}: encoder input has ${input.length} values, expected ${n} × [${itemShape.join(', ')}] = ${n * per}`);
    let out: Float32Array | null = null; let dim = 0;
    for (let s = 0; s < n; s += this.batchSize) {
      const b = Math.min(this.batchSize, n - s);
      const x = new this.ort.Tensor('float32', input.slice(s * per, (s + b) * per), [b, ...itemShape]);
      let res;
      try { res = await this.session.run({ [this.inputName]: x }); } catch (e) {
        throw new InputError(`${this.path}: inference failed for input shape [${[b, ...itemShape].join(', ')}] (${(e as Error).message})`);
      }
      const y = res[this.outputName]!;
      const data = y.data as Float32Array;
      if (!(data instanceof Float32Array)) throw new InputError(`${this.path}: output '${this.outputName}' is ${y.type}, expected float32`);
      const d = data.length / b;
      if (!out) { dim = d; out = new Float32Array(n * dim); }
      else if (d !== dim) throw new InputError(`${this.path}: output dimension changed between batches (${dim} vs ${d})`);
      out.set(data, s * dim);
    }
    return { dim, data: out ?? new Float32Array(0) };
  }

  /** Images → NCHW tensors (size×size, RGB scaled to [0,1], then (x − mean)/std per channel) → embeddings. */
  async encodeImages(paths: string[], o: { size?: number; mean?: [number, number, number]; std?: [number, number, number] } = {}): Promise<{ dim: number; data: Float32Array }> {
    const size = o.size ?? 224; const mean = o.mean ?? [0.485, 0.456, 0.406]; const std = o.std ?? [0.229, 0.224, 0.225];
    const per = 3 * size * size; const input = new Float32Array(paths.length * per);
    for (let i = 0; i < paths.length; i++) {
      const img = await loadRgb(paths[i]!, size);
      for (let p = 0; p < size * size; p++) for (let c = 0; c < 3; c++) input[i * per + c * size * size + p] = (img.data[3 * p + c]! / 255 - mean[c]!) / std[c]!;
    }
    return this.encode(input, paths.length, [3, size, size]);
  }

  async close(): Promise<void> { await this.session.release?.(); }
}
