// A saved model's image and text encoders, up to the code layer, as the generic layer list of
// export/onnx.ts — read from the checkpoint's tensors. Each method's registry entry names the
// layout its checkpoints have (methods/registry.ts exportLayers). The per-column feature
// standardisation every method applies first is folded into the first linear layer:
// (x − μ)·s·W + b = x·(diag(s)·W) + (b − (μ·s)·W).
import type { Tensor } from '../tensor/tensor.js';
import type { ExportLayer, LinearLayer } from '../export/onnx.js';
import type { Modality } from './hasher.js';
import type { LoadedCheckpoint } from './checkpoint-io.js';
import { InputError } from '../util/errors.js';

export interface EncoderLayers { kind: string; method: string; bits: number; image: ExportLayer[]; text: ExportLayer[]; imageDim: number; textDim: number }

/** The checkpoint's tensor of `key`, or an error naming the file, its kind and the key. */
function tensorOf(ck: LoadedCheckpoint, path: string, key: string): Tensor {
  const x = ck.tensors[key];
  if (!x) throw new InputError(`${path}: checkpoint of kind ${ck.kind} has no tensor "${key}" (cannot export it)`);
  return x;
}

function linear(ck: LoadedCheckpoint, path: string, prefix: string): LinearLayer {
  const w = tensorOf(ck, path, `${prefix}.weight`);
  const b = ck.tensors[`${prefix}.bias`];
  return { type: 'linear', weight: Float32Array.from(w.data), bias: b ? Float32Array.from(b.data) : null, inDim: w.rows, outDim: w.cols };
}

function standardised(ck: LoadedCheckpoint, path: string, m: Modality, first: LinearLayer): LinearLayer {
  return foldStandardisation(first, tensorOf(ck, path, `stats.${m}Mean`).data, tensorOf(ck, path, `stats.${m}InvStd`).data);
}

/** HashNet methods (ccmh-gam, dlcmh, their finetune and joint baselines): <m>.l1 → ReLU → <m>.l2 → tanh. */
export function hashNetLayers(ck: LoadedCheckpoint, path: string, m: Modality): ExportLayer[] {
  return [standardised(ck, path, m, linear(ck, path, `${m}.l1`)), { type: 'relu' }, linear(ck, path, `${m}.l2`), { type: 'tanh' }];
}

/** An MLP of linear layers <prefix>.0, .2, … with ReLU between (dcmh: prefix = modality). */
export function mlpLayers(ck: LoadedCheckpoint, path: string, m: Modality, prefix: string = m): ExportLayer[] {
  const idx = Object.keys(ck.tensors).map((k) => new RegExp(`^${prefix}\\.(\\d+)\\.weight$`).exec(k)).filter((x): x is RegExpExecArray => !!x).map((x) => Number(x[1])).sort((a, b) => a - b);
  if (idx.length === 0) throw new InputError(`${path}: checkpoint kind ${ck.kind} has no ${m} encoder tensors (${prefix}.0.weight expected)`);
  const layers: ExportLayer[] = [];
  idx.forEach((i, j) => {
    const l = linear(ck, path, `${prefix}.${i}`);
    layers.push(j === 0 ? standardised(ck, path, m, l) : l);
    if (j + 1 < idx.length) layers.push({ type: 'relu' });
  });
  return layers;
}

/** DBRC: the <m>Enc MLP, then its code layer (tanh, or ATanh-linear as a per-unit scale and tanh). */
export function dbrcLayers(ck: LoadedCheckpoint, path: string, m: Modality): ExportLayer[] {
  const arch = (ck.architecture ?? {}) as { codeLayer?: string; imageMap?: string };
  // The optional image map (signed square root before standardisation) has no layer here: refuse
  // rather than export an encoder whose codes differ from `cmhash encode`.
  if (m === 'image' && arch.imageMap && arch.imageMap !== 'none') throw new InputError(`${path}: DBRC image map "${arch.imageMap}" is not exportable yet (models trained with the default --image-map none are)`);
  const layers = mlpLayers(ck, path, m, `${m}Enc`);
  if (arch.codeLayer === 'tanh') layers.push({ type: 'tanh' });
  else if (arch.codeLayer === 'atanh-linear') layers.push({ type: 'scale', alpha: Float32Array.from(tensorOf(ck, path, 'code.alpha').data) }, { type: 'tanh' });
  else throw new InputError(`${path}: DBRC code layer ${String(arch.codeLayer)} is not exportable yet (its (|a|+ε)^p − ε^p form has no ONNX layer here); the encoder before it is`);
  return layers;
}

/** The linear layer that computes first((x − mean) ⊙ invStd). */
export function foldStandardisation(first: LinearLayer, mean: ArrayLike<number>, invStd: ArrayLike<number>): LinearLayer {
  const { inDim, outDim } = first;
  if (mean.length !== inDim || invStd.length !== inDim) throw new InputError(`standardisation has ${mean.length} columns, the first layer takes ${inDim}`);
  const weight = new Float32Array(inDim * outDim);
  const bias = new Float64Array(outDim);
  if (first.bias) for (let j = 0; j < outDim; j++) bias[j] = first.bias[j]!;
  for (let i = 0; i < inDim; i++) {
    const s = invStd[i]!, ms = mean[i]! * s;
    for (let j = 0; j < outDim; j++) {
      const w = first.weight[i * outDim + j]!;
      weight[i * outDim + j] = s * w;
      bias[j]! -= ms * w;
    }
  }
  return { type: 'linear', weight, bias: Float32Array.from(bias), inDim, outDim };
}
