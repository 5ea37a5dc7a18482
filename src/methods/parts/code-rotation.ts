// A rotation of a trained hash net's real outputs before the sign (ITQ, Gong & Lazebnik 2011, applied
// to the learned outputs instead of PCA projections), folded into the net's last linear layer so the
// model, its checkpoint and its ONNX export stay plain MLPs.
//
// After training, the outputs of the training items of both modalities (n × c each) are stacked and
// ITQ finds the orthogonal c × c rotation R that minimises ‖sign(VR) − VR‖² — the information lost by
// the sign. Two forms:
// - 'itq': V = the raw outputs. A rotation applied to both modalities keeps every inner product
//   F_iᵀG_j (what the pairwise losses were trained on) and changes only how the sign quantises them.
// - 'itq-centred': each modality's outputs minus their training mean first (then the codes' bits are
//   balanced over the training items as ITQ assumes); the inner products change by the means.
// Folding: out' = (out − μ)·R = h·(W·R) + (b − μ)·R for the last layer h·W + b (a LinearPlusNet's
// linear branch is rotated as well, μ taken off once).
import { InputError } from '../../util/errors.js';
import { Rng } from '../../util/rng.js';
import { Linear } from '../../nn/linear.js';
import type { Module } from '../../nn/module.js';
import { Sequential } from '../../nn/sequential.js';
import { itqRotation } from '../cca.js';
import { randomOrthonormal } from './dense.js';
import { LinearPlusNet } from './hash-net.js';

/** 'auto': the best of none / itq / itq-centred on the validation split at the end of fit (none without one). */
export type CodeRotation = 'none' | 'itq' | 'itq-centred' | 'auto';
export const CODE_ROTATIONS: readonly CodeRotation[] = ['none', 'itq', 'itq-centred', 'auto'];
/** The concrete forms 'auto' chooses from, in the order tried (ties keep the earlier). */
export const ROTATION_CANDIDATES: readonly Exclude<CodeRotation, 'auto'>[] = ['none', 'itq', 'itq-centred'];

export interface OutputRotation {
  /** Per-modality output means taken off before rotating (zeros for 'itq'). */
  imageMean: Float32Array;
  textMean: Float32Array;
  /** c × c orthogonal, row-major. */
  rotation: Float32Array;
  /** ‖sign(VR) − VR‖² / (2n·c) on the training outputs after the rotation. */
  quantization: number;
}

function columnMean(v: Float32Array, rows: number, c: number): Float32Array {
  const m = new Float64Array(c);
  for (let r = 0; r < rows; r++) for (let k = 0; k < c; k++) m[k] += v[r * c + k]!;
  return Float32Array.from(m, (x) => x / rows);
}

/** ITQ rotation of the stacked training outputs of both modalities (n × c each). */
export function fitOutputRotation(imageOut: Float32Array, textOut: Float32Array, n: number, c: number, centred: boolean, seed: number, iterations = 50): OutputRotation {
  if (imageOut.length !== n * c || textOut.length !== n * c) throw new InputError(`fitOutputRotation: expected ${n} × ${c} outputs per modality`);
  const imageMean = centred ? columnMean(imageOut, n, c) : new Float32Array(c);
  const textMean = centred ? columnMean(textOut, n, c) : new Float32Array(c);
  const V = new Float32Array(2 * n * c);
  for (let i = 0; i < n * c; i++) { V[i] = imageOut[i]! - imageMean[i % c]!; V[n * c + i] = textOut[i]! - textMean[i % c]!; }
  const start = randomOrthonormal(c, c, new Rng(seed ^ 0x17a0));
  const itq = itqRotation(V, 2 * n, c, start, iterations);
  return { imageMean, textMean, rotation: Float32Array.from(itq.rotation), quantization: itq.quantization };
}

/** h·W + b → h·(W·R) + (b − μ)·R in place (μ null: no shift). */
function rotateLinear(l: Linear, mean: Float32Array | null, R: Float32Array): void {
  const c = l.outDim;
  if (R.length !== c * c) throw new InputError(`rotation is ${Math.sqrt(R.length)} wide, the layer has ${c} outputs`);
  const W = l.weight.data;
  const row = new Float64Array(c);
  for (let i = 0; i < l.inDim; i++) {
    row.fill(0);
    for (let k = 0; k < c; k++) { const w = W[i * c + k]!; if (w !== 0) for (let j = 0; j < c; j++) row[j] += w * R[k * c + j]!; }
    for (let j = 0; j < c; j++) W[i * c + j] = row[j]!;
  }
  const b = l.bias?.data;
  if (!b && mean) throw new InputError('rotateLinear: a layer without bias cannot take the mean off');
  if (b) {
    const shifted = Float64Array.from({ length: c }, (_, k) => b[k]! - (mean ? mean[k]! : 0));
    for (let j = 0; j < c; j++) { let s = 0; for (let k = 0; k < c; k++) s += shifted[k]! * R[k * c + j]!; b[j] = s; }
  }
}

/** The last Linear of a Sequential MLP. */
function lastLinear(net: Module): Linear {
  const layers = (net as Sequential).layers;
  const last = net instanceof Sequential ? layers[layers.length - 1] : undefined;
  if (!(last instanceof Linear)) throw new InputError('output rotation: the net must end in a linear layer');
  return last;
}

/** Folds out ↦ (out − mean)·R into `net` (an MLP ending in a Linear, or a LinearPlusNet over one). */
export function foldOutputRotation(net: Module, mean: Float32Array, R: Float32Array): void {
  if (net instanceof LinearPlusNet) {
    rotateLinear(net.linear, null, R);
    rotateLinear(lastLinear(net.net), mean, R);
  } else {
    rotateLinear(lastLinear(net), mean, R);
  }
}

export interface RotationChoice {
  /** The form applied. */
  chosen: Exclude<CodeRotation, 'auto'>;
  /** Validation mAP@all of each form tried ('auto' only). */
  scores: Partial<Record<Exclude<CodeRotation, 'auto'>, { i2t: number; t2i: number }>>;
}

/**
 * Applies `rotation` to a trained pair of nets: `outputs()` gives the training items' outputs of both
 * (n × c each) as the nets stand. 'auto' scores none / itq / itq-centred with `validate` (the same
 * validation split and selection score as the epoch choice) and keeps the best; without `validate`
 * it is 'none'.
 */
export function applyOutputRotation(spec: {
  rotation: CodeRotation; image: Module; text: Module; n: number; bits: number; seed: number;
  outputs: () => { image: Float32Array; text: Float32Array };
  validate?: () => { i2t: number; t2i: number }; score: (v: { i2t: number; t2i: number }) => number;
}): RotationChoice {
  const { rotation, image, text, n, bits, seed } = spec;
  if (!CODE_ROTATIONS.includes(rotation)) throw new InputError(`code rotation must be one of ${CODE_ROTATIONS.join(', ')}, got ${String(rotation)}`);
  if (rotation === 'none' || (rotation === 'auto' && !spec.validate)) return { chosen: 'none', scores: {} };
  const out = spec.outputs();
  const fold = (form: Exclude<CodeRotation, 'auto'>) => {
    if (form === 'none') return;
    const r = fitOutputRotation(out.image, out.text, n, bits, form === 'itq-centred', seed);
    foldOutputRotation(image, r.imageMean, r.rotation);
    foldOutputRotation(text, r.textMean, r.rotation);
  };
  if (rotation !== 'auto') { fold(rotation); return { chosen: rotation, scores: {} }; }
  const params = [...image.parameters(), ...text.parameters()];
  const snap = params.map((p) => p.data.slice());
  const restore = () => params.forEach((p, i) => p.data.set(snap[i]!));
  const scores: RotationChoice['scores'] = {};
  let best: { form: Exclude<CodeRotation, 'auto'>; s: number } | null = null;
  for (const form of ROTATION_CANDIDATES) {
    restore(); fold(form);
    const v = spec.validate!();
    scores[form] = v;
    const s = spec.score(v);
    if (!best || s > best.s) best = { form, s };
  }
  restore(); fold(best!.form);
  return { chosen: best!.form, scores };
}
