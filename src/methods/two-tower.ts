// What every two-tower method (an image net and a text net over standardised features) shares:
// the per-column feature statistics it stores, and how encode() turns raw features into the
// nets' input — checked against the model's widths, then standardised with the stored statistics.
import { InputError } from '../util/errors.js';
import type { Modality } from './hasher.js';
import { checkFeatures, standardize } from './training-loop.js';

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
