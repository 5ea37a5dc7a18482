// Moving a method's parameters in and out of the generic checkpoint (nn/checkpoint.ts), with
// errors that say which file, which tensor and which shape was expected.
import { InputError } from '../util/errors.js';
import { Tensor } from '../tensor/tensor.js';
import type { Module } from '../nn/module.js';

/** What nn/checkpoint.ts loadCheckpoint returns. */
export interface LoadedCheckpoint {
  kind: string;
  architecture: unknown;
  tensors: Record<string, Tensor>;
  meta: unknown;
}

/** The module's parameters under "<prefix>.<name>" (shared, not copied: the checkpoint writer copies). */
export function paramsToTensors(prefix: string, m: Module): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const [name, t] of m.namedParameters()) out[`${prefix}.${name}`] = t;
  return out;
}

/** Copies "<prefix>.<name>" tensors of the checkpoint into the module's parameters, checking shapes. */
export function tensorsToParams(ck: LoadedCheckpoint, path: string, prefix: string, m: Module): void {
  for (const [name, p] of m.namedParameters()) {
    const key = `${prefix}.${name}`;
    const t = ck.tensors[key];
    if (!t) throw new InputError(`${path}: checkpoint lacks tensor "${key}" (${p.rows}×${p.cols} expected)`);
    if (t.rows !== p.rows || t.cols !== p.cols) throw new InputError(`${path}: tensor "${key}" is ${t.rows}×${t.cols}, the architecture needs ${p.rows}×${p.cols}`);
    p.data.set(t.data);
  }
}

/** The architecture object, with the format version and the numeric fields a loader relies on checked. */
export function expectArchitecture<T>(ck: LoadedCheckpoint, path: string, format: number, numericKeys: string[]): T & { format: number } {
  const a = ck.architecture as Record<string, unknown> | null;
  if (!a || typeof a !== 'object') throw new InputError(`${path}: checkpoint has no architecture record`);
  if (a.format !== format) {
    throw new InputError(`${path}: ${ck.kind} checkpoint format ${String(a.format)} is not the one this version reads (${format})${Number(a.format) > format ? ' — written by a newer cmhash' : ''}`);
  }
  for (const k of numericKeys) {
    if (typeof a[k] !== 'number' || !Number.isFinite(a[k] as number)) throw new InputError(`${path}: architecture field "${k}" should be a number, found ${JSON.stringify(a[k])}`);
  }
  return a as T & { format: number };
}

/** A 1×dim tensor of the checkpoint as a fresh Float32Array. */
export function expectVector(ck: LoadedCheckpoint, path: string, key: string, dim: number): Float32Array {
  const t = ck.tensors[key];
  if (!t || t.rows !== 1 || t.cols !== dim) throw new InputError(`${path}: tensor "${key}" should be 1×${dim}, found ${t ? `${t.rows}×${t.cols}` : 'nothing'}`);
  return Float32Array.from(t.data);
}

import type { FeatureStats } from './two-tower.js';

/** The standardisation vectors as checkpoint tensors (keys `stats.*`). */
export function statsToTensors(s: FeatureStats, imageDim: number, textDim: number): Record<string, Tensor> {
  return {
    'stats.imageMean': Tensor.wrap(1, imageDim, s.imageMean), 'stats.imageInvStd': Tensor.wrap(1, imageDim, s.imageInvStd),
    'stats.textMean': Tensor.wrap(1, textDim, s.textMean), 'stats.textInvStd': Tensor.wrap(1, textDim, s.textInvStd),
  };
}

/** The standardisation vectors back from a checkpoint (clear error on a missing or misshapen one). */
export function statsFromCheckpoint(ck: LoadedCheckpoint, path: string, imageDim: number, textDim: number): FeatureStats {
  const t = (k: string, d: number) => expectVector(ck, path, k, d);
  return { imageMean: t('stats.imageMean', imageDim), imageInvStd: t('stats.imageInvStd', imageDim), textMean: t('stats.textMean', textDim), textInvStd: t('stats.textInvStd', textDim) };
}
