// MS-COCO as cross-modal hashing papers use it: ~122k image–caption pairs with ≥1 of 80 labels.
// Protocol: 5,000 random queries, the rest retrieval, 10,000 training rows.
import type { Dataset } from '../dataset.js';
import type { PresetOptions } from './common.js';
import { loadKeyedPreset, type KeyedPreset } from './keyed-preset.js';

export const MS_COCO: KeyedPreset = {
  name: 'ms-coco', folder: 'ms-coco', querySize: 5000, trainSize: 10000,
  stems: ['mscoco', 'ms-coco', 'coco'], single: ['MS-COCO', 'mscoco', 'coco', 'COCO'],
};

export function loadMsCoco(spec: string | null, opts: PresetOptions = {}): Promise<Dataset> { return loadKeyedPreset(MS_COCO, spec, opts); }
