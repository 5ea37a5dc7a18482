// IAPR TC-12: 20,000 image–sentence pairs, 255 labels, 2,912-d text BoW (DCMH).
// Protocol: 2,000 random queries, the rest retrieval, 10,000 training rows.
import type { Dataset } from '../dataset.js';
import type { PresetOptions } from './common.js';
import { loadKeyedPreset, type KeyedPreset } from './keyed-preset.js';

export const IAPR_TC12: KeyedPreset = {
  name: 'iapr-tc12', folder: 'iapr-tc12', querySize: 2000, trainSize: 10000,
  stems: ['iapr-tc12', 'iapr'], single: ['IAPR-TC12', 'iapr-tc12', 'iapr', 'IAPR'],
};

export function loadIapr(spec: string | null, opts: PresetOptions = {}): Promise<Dataset> { return loadKeyedPreset(IAPR_TC12, spec, opts); }
