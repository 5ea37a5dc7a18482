// What the ATanh code layer buys: DBRC trained three times on the same data and seed, with the code
// layer as ATanh-linear, ATanh-nonlinear and plain tanh (sign taken at the end), reporting
// - mAP@all and mAP@50 both ways (query split vs retrieval split),
// - the quantization error ‖sign(h) − h‖² / (n·c) of the real outputs h of the retrieval items
//   (mean over the two modalities): how much sign() throws away,
// - the share of bits whose sign flips between the last two epochs (training items, both
//   modalities): how settled the codes are when training stops,
// - the mean ATanh scale α at the end (1 for plain tanh).
import type { Hasher, TrainingData } from './hasher.js';
import { Dbrc, DBRC_CODE_LAYERS, type DbrcCodeLayer, type DbrcTrainOptions } from './dbrc.js';
import { evaluateCrossModal, type Directions, type LabelledItems } from './evaluate.js';

export interface AblationRow {
  variant: DbrcCodeLayer;
  bits: number;
  seed: number;
  map_all: Directions;
  map_50: Directions;
  quantization_error: number;
  flip_share: number;
  alpha_mean: number;
  best_epoch: number;
  train_seconds: number;
}

/** ‖sign(h) − h‖² / (n·c) over a block of real outputs (sign(0) = +1). */
export function quantizationError(values: Float32Array): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) { const v = values[i]!; const d = (v >= 0 ? 1 : -1) - v; s += d * d; }
  return values.length ? s / values.length : 0;
}

/** Share of entries whose sign differs between two equally long output blocks. */
export function flipShare(a: Float32Array, b: Float32Array): number {
  let f = 0;
  for (let i = 0; i < a.length; i++) if ((a[i]! >= 0) !== (b[i]! >= 0)) f++;
  return a.length ? f / a.length : 0;
}

function bothModalities(h: Hasher, items: LabelledItems): Float32Array[] {
  return [h.encode('image', items.image, items.n).values, h.encode('text', items.text, items.n).values];
}

export interface AblationSpec {
  train: TrainingData;
  validation?: TrainingData;
  query: LabelledItems;
  database: LabelledItems;
  bits: number;
  seed: number;
  hidden?: number;
  variants?: readonly DbrcCodeLayer[];
  trainOptions?: Partial<DbrcTrainOptions>;
  onVariant?: (variant: DbrcCodeLayer, epoch: number, epochs: number) => void;
}

export async function runDbrcAblation(spec: AblationSpec): Promise<AblationRow[]> {
  const rows: AblationRow[] = [];
  for (const variant of spec.variants ?? DBRC_CODE_LAYERS) {
    const model = new Dbrc({ bits: spec.bits, hidden: spec.hidden, codeLayer: variant });
    let prev: Float32Array[] | null = null, last: Float32Array[] | null = null;
    await model.fit(spec.train, {
      ...spec.trainOptions,
      bits: spec.bits, seed: spec.seed, validation: spec.validation,
      onEpochEnd: (epoch, m) => { prev = last; last = bothModalities(m, spec.train); spec.onVariant?.(variant, epoch, m.lastFit?.epochsRun ?? 0); },
      onProgress: (p) => spec.onVariant?.(variant, p.epoch, p.epochs),
    });
    const p = prev as Float32Array[] | null, l = last as Float32Array[] | null;
    const flips = p && l ? (flipShare(p[0]!, l[0]!) + flipShare(p[1]!, l[1]!)) / 2 : 0;
    const [dbImage, dbText] = bothModalities(model, spec.database);
    const r = evaluateCrossModal(model, spec.query, spec.database, [50], []);
    const alpha = model.alpha();
    rows.push({
      variant, bits: spec.bits, seed: spec.seed,
      map_all: r.map_all, map_50: r.map_at[50]!,
      quantization_error: (quantizationError(dbImage!) + quantizationError(dbText!)) / 2,
      flip_share: flips,
      alpha_mean: alpha ? alpha.reduce((s, v) => s + v, 0) / alpha.length : 1,
      best_epoch: model.lastFit!.bestEpoch,
      train_seconds: model.lastFit!.trainSeconds,
    });
  }
  return rows;
}
