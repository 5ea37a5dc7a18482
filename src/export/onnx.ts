// ONNX export of an encoder given as a generic layer list (independent of the nn classes), up to
// the real-valued pre-sign code layer. The graph's output "code" is real; the binary code is its
// sign with 0 → +1, exactly as cmhash binarises. `forwardLayers` is the plain reference forward
// pass the exported graph must reproduce.
import { writeFileAtomic } from '../util/atomic-write.js';
import { InputError } from '../util/errors.js';
import { encodeModel, ONNX_FLOAT, type OnnxNode, type OnnxTensor } from './onnx-proto.js';

/** y = x·W + b with W stored in×out row-major (W[i*outDim + j]). */
export interface LinearLayer { type: 'linear'; weight: Float32Array; bias: Float32Array | null; inDim: number; outDim: number }
export interface ActivationLayer { type: 'relu' | 'tanh' | 'sigmoid' }
/** Elementwise multiply per unit (alpha has the current width, or length 1 to broadcast). */
export interface ScaleLayer { type: 'scale'; alpha: Float32Array }
/** tanh(alpha · sign(a) · |a|^p); alpha and p are scalars or per-unit vectors. */
export interface AtanhNonlinearLayer { type: 'atanh_nonlinear'; alpha: number | Float32Array; p: number | Float32Array }
export type ExportLayer = LinearLayer | ActivationLayer | ScaleLayer | AtanhNonlinearLayer;

export interface ExportOptions {
  /** Name of the graph input (default "input"). The output is always named "code". */
  inputName?: string;
  /** ONNX opset of the default domain (default 13; 9..21 accepted). */
  opset?: number;
  /** Input width; needed only when the first layer is not linear. */
  inputDim?: number;
  graphName?: string;
  producerName?: string;
  producerVersion?: string;
}

export interface ExportSummary { path: string; bytes: number; inputName: string; inputDim: number; outputDim: number; opset: number; irVersion: number; nodes: number }

export const CODE_OUTPUT_NAME = 'code';

/** The IR version released alongside an opset (onnx docs/Versioning.md). */
export function irVersionForOpset(opset: number): number {
  if (!Number.isInteger(opset) || opset < 9 || opset > 21) throw new InputError(`ONNX export: opset must be an integer in 9..21, got ${opset}`);
  if (opset === 9) return 4;
  if (opset === 10) return 5;
  if (opset === 11) return 6;
  if (opset <= 13) return 7;
  if (opset <= 18) return 8;
  if (opset <= 20) return 9;
  return 10;
}

function asVector(v: number | Float32Array): Float32Array { return typeof v === 'number' ? Float32Array.of(v) : v; }

function checkFinite(data: Float32Array, what: string): void {
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i]!)) throw new InputError(`ONNX export: ${what}[${i}] is ${data[i]}, expected a finite number`);
  }
}

function checkPerUnit(v: Float32Array, width: number, what: string): void {
  if (v.length !== width && v.length !== 1) throw new InputError(`ONNX export: ${what} has length ${v.length}, expected ${width} (the layer width) or 1`);
  checkFinite(v, what);
}

/** Validates the layer list and returns [input width, output width]. */
export function checkLayers(layers: readonly ExportLayer[], inputDim?: number): [number, number] {
  if (!Array.isArray(layers) || layers.length === 0) throw new InputError('ONNX export: layers must be a non-empty list');
  const first = layers[0]!;
  const start = inputDim ?? (first.type === 'linear' ? first.inDim : undefined);
  if (start === undefined) throw new InputError('ONNX export: the first layer is not linear, so options.inputDim is required');
  if (!Number.isInteger(start) || start < 1) throw new InputError(`ONNX export: input width must be a positive integer, got ${start}`);
  let width = start;
  layers.forEach((layer, k) => {
    const at = `layers[${k}] (${layer.type})`;
    switch (layer.type) {
      case 'linear': {
        if (!Number.isInteger(layer.inDim) || !Number.isInteger(layer.outDim) || layer.inDim < 1 || layer.outDim < 1) throw new InputError(`ONNX export: ${at} inDim/outDim must be positive integers, got ${layer.inDim}×${layer.outDim}`);
        if (layer.inDim !== width) throw new InputError(`ONNX export: ${at} inDim is ${layer.inDim}, expected ${width} (the previous layer's width)`);
        if (!(layer.weight instanceof Float32Array) || layer.weight.length !== layer.inDim * layer.outDim) throw new InputError(`ONNX export: ${at} weight must be a Float32Array of ${layer.inDim}×${layer.outDim} = ${layer.inDim * layer.outDim}, got ${layer.weight?.length}`);
        checkFinite(layer.weight, `${at} weight`);
        if (layer.bias !== null) {
          if (!(layer.bias instanceof Float32Array) || layer.bias.length !== layer.outDim) throw new InputError(`ONNX export: ${at} bias must be a Float32Array of ${layer.outDim} or null, got ${layer.bias?.length}`);
          checkFinite(layer.bias, `${at} bias`);
        }
        width = layer.outDim;
        break;
      }
      case 'relu': case 'tanh': case 'sigmoid': break;
      case 'scale': checkPerUnit(layer.alpha, width, `${at} alpha`); break;
      case 'atanh_nonlinear': {
        checkPerUnit(asVector(layer.alpha), width, `${at} alpha`);
        const p = asVector(layer.p);
        checkPerUnit(p, width, `${at} p`);
        // |a|^p at a = 0 is 0 only for p > 0.
        for (let i = 0; i < p.length; i++) if (!(p[i]! > 0)) throw new InputError(`ONNX export: ${at} p[${i}] is ${p[i]}, expected > 0`);
        break;
      }
      default: throw new InputError(`ONNX export: layers[${k}] has unknown type ${JSON.stringify((layer as { type: unknown }).type)}; expected linear, relu, tanh, sigmoid, scale or atanh_nonlinear`);
    }
  });
  return [start, width];
}

/** Builds the graph's nodes and initializers; the last node writes CODE_OUTPUT_NAME. */
function buildGraph(layers: readonly ExportLayer[], inputName: string): { nodes: OnnxNode[]; initializers: OnnxTensor[] } {
  const nodes: OnnxNode[] = [];
  const initializers: OnnxTensor[] = [];
  let current = inputName;
  let counter = 0;
  const fresh = (stem: string) => `${stem}_${counter++}`;
  const op = (opType: string, inputs: string[], out = fresh(opType.toLowerCase())) => {
    nodes.push({ name: `${opType}_${nodes.length}`, opType, inputs, outputs: [out] });
    return out;
  };
  const constant = (name: string, dims: number[], data: Float32Array) => { initializers.push({ name, dims, data }); return name; };
  const perUnit = (name: string, v: Float32Array) => constant(name, [v.length], v);

  layers.forEach((layer, k) => {
    switch (layer.type) {
      case 'linear': {
        const w = constant(`layer${k}.weight`, [layer.inDim, layer.outDim], layer.weight);
        current = op('MatMul', [current, w]);
        if (layer.bias) current = op('Add', [current, perUnit(`layer${k}.bias`, layer.bias)]);
        break;
      }
      case 'relu': current = op('Relu', [current]); break;
      case 'tanh': current = op('Tanh', [current]); break;
      case 'sigmoid': current = op('Sigmoid', [current]); break;
      case 'scale': current = op('Mul', [current, perUnit(`layer${k}.alpha`, layer.alpha)]); break;
      case 'atanh_nonlinear': {
        const sign = op('Sign', [current]);
        const pow = op('Pow', [op('Abs', [current]), perUnit(`layer${k}.p`, asVector(layer.p))]);
        const scaled = op('Mul', [op('Mul', [sign, pow]), perUnit(`layer${k}.alpha`, asVector(layer.alpha))]);
        current = op('Tanh', [scaled]);
        break;
      }
    }
  });
  if (nodes.length === 0) throw new InputError('ONNX export: the layer list produced no operations');
  nodes[nodes.length - 1]!.outputs = [CODE_OUTPUT_NAME];
  return { nodes, initializers };
}

/** The ONNX ModelProto bytes for a layer stack; input shape [N, inputDim], output "code" [N, outDim]. */
export function buildOnnxModel(layers: readonly ExportLayer[], options: ExportOptions = {}): { bytes: Uint8Array; inputDim: number; outputDim: number; irVersion: number; opset: number; nodes: number } {
  const opset = options.opset ?? 13;
  const irVersion = irVersionForOpset(opset);
  const inputName = options.inputName ?? 'input';
  if (!/^[A-Za-z_][A-Za-z0-9_.:-]*$/.test(inputName) || inputName === CODE_OUTPUT_NAME) throw new InputError(`ONNX export: inputName ${JSON.stringify(inputName)} must be an identifier other than "${CODE_OUTPUT_NAME}"`);
  const [inputDim, outputDim] = checkLayers(layers, options.inputDim);
  const { nodes, initializers } = buildGraph(layers, inputName);
  const bytes = encodeModel({
    irVersion,
    producerName: options.producerName ?? 'cmhash',
    producerVersion: options.producerVersion,
    opsets: [{ domain: '', version: opset }],
    graph: {
      name: options.graphName ?? 'cmhash_encoder',
      nodes,
      initializers,
      inputs: [{ name: inputName, elemType: ONNX_FLOAT, shape: ['N', inputDim] }],
      outputs: [{ name: CODE_OUTPUT_NAME, elemType: ONNX_FLOAT, shape: ['N', outputDim] }],
    },
  });
  return { bytes, inputDim, outputDim, irVersion, opset, nodes: nodes.length };
}

/** Writes the model to `path` atomically (temp file + rename). */
export async function exportOnnx(layers: readonly ExportLayer[], path: string, options: ExportOptions = {}): Promise<ExportSummary> {
  const model = buildOnnxModel(layers, options);
  writeFileAtomic(path, model.bytes);
  return { path, bytes: model.bytes.length, inputName: options.inputName ?? 'input', inputDim: model.inputDim, outputDim: model.outputDim, opset: model.opset, irVersion: model.irVersion, nodes: model.nodes };
}

/** Plain reference forward pass (float64 arithmetic on float32 parameters) over n rows of x. */
export function forwardLayers(layers: readonly ExportLayer[], x: Float32Array, n: number, inputDim?: number): Float64Array {
  const [inDim] = checkLayers(layers, inputDim);
  if (x.length !== n * inDim) throw new InputError(`forwardLayers: input has ${x.length} values, expected ${n}×${inDim}`);
  let width = inDim;
  let h = Float64Array.from(x);
  for (const layer of layers) {
    switch (layer.type) {
      case 'linear': {
        const out = new Float64Array(n * layer.outDim);
        for (let r = 0; r < n; r++) {
          for (let j = 0; j < layer.outDim; j++) {
            let s = layer.bias ? layer.bias[j]! : 0;
            for (let i = 0; i < width; i++) s += h[r * width + i]! * layer.weight[i * layer.outDim + j]!;
            out[r * layer.outDim + j] = s;
          }
        }
        h = out; width = layer.outDim;
        break;
      }
      case 'relu': for (let i = 0; i < h.length; i++) h[i] = Math.max(0, h[i]!); break;
      case 'tanh': for (let i = 0; i < h.length; i++) h[i] = Math.tanh(h[i]!); break;
      case 'sigmoid': for (let i = 0; i < h.length; i++) h[i] = 1 / (1 + Math.exp(-h[i]!)); break;
      case 'scale': {
        const a = layer.alpha;
        for (let i = 0; i < h.length; i++) h[i] = h[i]! * a[a.length === 1 ? 0 : i % width]!;
        break;
      }
      case 'atanh_nonlinear': {
        const a = asVector(layer.alpha), p = asVector(layer.p);
        for (let i = 0; i < h.length; i++) {
          const u = i % width, v = h[i]!;
          h[i] = Math.tanh(a[a.length === 1 ? 0 : u]! * Math.sign(v) * Math.pow(Math.abs(v), p[p.length === 1 ? 0 : u]!));
        }
        break;
      }
    }
  }
  return h;
}

/** The binary code of a real output: +1 where v >= 0 (0 → +1), else -1. */
export function signCode(v: ArrayLike<number>): Int8Array {
  const out = new Int8Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = v[i]! >= 0 ? 1 : -1;
  return out;
}
