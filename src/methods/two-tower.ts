// What every two-tower method (an image net and a text net over standardised features) shares:
// the per-column feature statistics it stores, and how encode() turns raw features into the
// nets' input — checked against the model's widths, then standardised with the stored statistics.
import { InputError } from '../util/errors.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Module } from '../nn/module.js';
import type { EncodedBatch, Modality } from './hasher.js';
import { checkFeatures, standardize } from './training-loop.js';
import { paramsToTensors, statsFromCheckpoint, statsToTensors, tensorsToParams, type LoadedCheckpoint } from './checkpoint-io.js';
import { LinearPlusNet, linearPlusNetTensors } from './parts/hash-net.js';

/** A module's checkpoint tensors; a LinearPlusNet also as one plain MLP for the exporter (see linearPlusNetTensors). */
export function moduleTensors(prefix: string, m: Module): Record<string, Tensor> {
  return m instanceof LinearPlusNet ? linearPlusNetTensors(prefix, m) : paramsToTensors(prefix, m);
}

/** The inverse of moduleTensors: a LinearPlusNet reads its exact parameters (`<prefix>.skip.*`). */
export function moduleFromTensors(ck: LoadedCheckpoint, path: string, prefix: string, m: Module): void {
  tensorsToParams(ck, path, m instanceof LinearPlusNet ? `${prefix}.skip` : prefix, m);
}

/** Per-column feature standardisation of both modalities, as every method stores it. */
export interface FeatureStats { imageMean: Float32Array; imageInvStd: Float32Array; textMean: Float32Array; textInvStd: Float32Array }

/**
 * The standardised encoder input of `rows` feature vectors of one modality. `mapImage` is applied
 * to image features first (DBRC's optional feature map).
 */
export function encoderInput(method: string, modality: Modality, features: Float32Array, rows: number,
  model: { imageDim: number; textDim: number }, stats: FeatureStats | null, mapImage?: (x: Float32Array) => Float32Array): Float32Array {
  const dim = modality === 'image' ? model.imageDim : model.textDim;
  checkFeatures(method, modality, features, rows, dim);
  if (!stats) throw new InputError(`${method}.encode: the model has not been trained or loaded yet`);
  return modality === 'image'
    ? standardize(mapImage ? mapImage(features) : features, dim, stats.imageMean, stats.imageInvStd)
    : standardize(features, dim, stats.textMean, stats.textInvStd);
}

/**
 * The base of DCMH, DLCMH and CCMH-GAM (and their baselines): an image net and a text net over
 * standardised features. It owns the feature statistics, the two nets, encode(), and the
 * checkpoint tensors of both towers (image.*, text.*, stats.*); a method adds its own parts.
 */
export abstract class TwoTowerHasher<Net extends Module> {
  abstract readonly method: string;
  abstract readonly bits: number;
  imageDim = 0;
  textDim = 0;
  modelVersion = 0;
  protected stats: FeatureStats | null = null;
  protected imageNet: Net | null = null;
  protected textNet: Net | null = null;

  /** The net's real-valued code-layer outputs for `rows` standardised input rows. */
  protected abstract outputs(net: Net, input: Float32Array, rows: number): Float32Array;

  encode(modality: Modality, features: Float32Array, rows: number): EncodedBatch {
    const z = encoderInput(this.method, modality, features, rows, this, this.stats);
    return { rows, bits: this.bits, values: this.outputs(modality === 'image' ? this.imageNet! : this.textNet!, z, rows) };
  }

  /** Both towers' parameters and the feature statistics as checkpoint tensors (shared, not copied). */
  protected towerTensors(): Record<string, Tensor> {
    if (!this.imageNet || !this.textNet || !this.stats) throw new InputError(`${this.method}.save: the model has not been trained yet`);
    return { ...moduleTensors('image', this.imageNet), ...moduleTensors('text', this.textNet), ...statsToTensors(this.stats, this.imageDim, this.textDim) };
  }

  /** Fills the (already built) towers and the statistics from a checkpoint, checking every shape. */
  protected loadTowers(ck: LoadedCheckpoint, path: string): void {
    moduleFromTensors(ck, path, 'image', this.imageNet!);
    moduleFromTensors(ck, path, 'text', this.textNet!);
    this.stats = statsFromCheckpoint(ck, path, this.imageDim, this.textDim);
  }
}
