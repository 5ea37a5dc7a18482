// A saved model's image and text encoders, up to the code layer, as the generic layer list of
// export/onnx.ts — read from the checkpoint's tensors, so it needs no access to a method's
// internals. The per-column feature standardisation every method applies first is folded into the
// first linear layer: (x − μ)·s·W + b = x·(diag(s)·W) + (b − (μ·s)·W).
// Known layouts: HashNet methods (ccmh-gam, finetune, joint, dlcmh: <m>.l1 → ReLU → <m>.l2 → tanh),
// MLP methods (dcmh: <m>.0 → ReLU → <m>.2; dbrc: <m>Enc MLP then its code layer).
import { loadCheckpoint } from '../nn/checkpoint.js';
import type { Tensor } from '../tensor/tensor.js';
import type { ExportLayer, LinearLayer } from '../export/onnx.js';
import type { Modality } from '../methods/hasher.js';
import { InputError } from '../util/errors.js';

export interface EncoderLayers { kind: string; method: string; bits: number; image: ExportLayer[]; text: ExportLayer[]; imageDim: number; textDim: number }

export function encoderLayersFromCheckpoint(path: string): EncoderLayers {
  const ck = loadCheckpoint(path);
  const t = ck.tensors;
  const arch = (ck.architecture ?? {}) as { bits?: number; name?: string; codeLayer?: string; imageMap?: string };
  const method = arch.name ?? ck.kind.replace(/^cmhash\//, '');
  const get = (key: string): Tensor => {
    const x = t[key];
    if (!x) throw new InputError(`${path}: checkpoint of kind ${ck.kind} has no tensor "${key}" (cannot export it)`);
    return x;
  };
  const linear = (prefix: string): LinearLayer => {
    const w = get(`${prefix}.weight`);
    const b = t[`${prefix}.bias`];
    return { type: 'linear', weight: Float32Array.from(w.data), bias: b ? Float32Array.from(b.data) : null, inDim: w.rows, outDim: w.cols };
  };
  const standardised = (m: Modality, first: LinearLayer): LinearLayer => {
    const cap = m === 'image' ? 'image' : 'text';
    const mean = get(`stats.${cap}Mean`).data, inv = get(`stats.${cap}InvStd`).data;
    return foldStandardisation(first, mean, inv);
  };
  const build = (m: Modality): ExportLayer[] => {
    if (t[`${m}.l1.weight`]) {
      return [standardised(m, linear(`${m}.l1`)), { type: 'relu' }, linear(`${m}.l2`), { type: 'tanh' }];
    }
    const mlpPrefix = t[`${m}.0.weight`] ? m : t[`${m}Enc.0.weight`] ? `${m}Enc` : null;
    if (!mlpPrefix) throw new InputError(`${path}: checkpoint kind ${ck.kind} has no known ${m} encoder layout (expected ${m}.l1.* or ${m}.0.* tensors)`);
    const idx = Object.keys(t).map((k) => new RegExp(`^${mlpPrefix}\\.(\\d+)\\.weight$`).exec(k)).filter((x): x is RegExpExecArray => !!x).map((x) => Number(x[1])).sort((a, b) => a - b);
    const layers: ExportLayer[] = [];
    idx.forEach((i, j) => {
      const l = linear(`${mlpPrefix}.${i}`);
      layers.push(j === 0 ? standardised(m, l) : l);
      if (j + 1 < idx.length) layers.push({ type: 'relu' });
    });
    // DBRC's optional image map (signed square root before standardisation) has no layer here: refuse
    // rather than export an encoder whose codes differ from `cmhash encode`.
    if (m === 'image' && arch.imageMap && arch.imageMap !== 'none') throw new InputError(`${path}: DBRC image map "${arch.imageMap}" is not exportable yet (models trained with the default --image-map none are)`);
    if (mlpPrefix.endsWith('Enc')) { // DBRC: the code layer follows the encoder
      if (arch.codeLayer === 'tanh') layers.push({ type: 'tanh' });
      else if (arch.codeLayer === 'atanh-linear') layers.push({ type: 'scale', alpha: Float32Array.from(get('code.alpha').data) }, { type: 'tanh' });
      else throw new InputError(`${path}: DBRC code layer ${String(arch.codeLayer)} is not exportable yet (its (|a|+ε)^p − ε^p form has no ONNX layer here); the encoder before it is`);
    }
    return layers;
  };
  const image = build('image'), text = build('text');
  const bits = arch.bits ?? (image.filter((l): l is LinearLayer => l.type === 'linear').at(-1)!.outDim);
  return { kind: ck.kind, method, bits, image, text, imageDim: (image[0] as LinearLayer).inDim, textDim: (text[0] as LinearLayer).inDim };
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
