// NUS-WIDE restricted to the 10 most frequent concepts (DCMH): 186,577 pairs, 1,000-d tag BoW.
// Protocol: 2,100 random queries, the rest retrieval, 10,500 training rows (DCMH).
import type { Dataset } from '../dataset.js';
import type { PresetOptions } from './common.js';
import { loadKeyedPreset, type KeyedPreset } from './keyed-preset.js';

export const NUS_WIDE_TC10: KeyedPreset = {
  name: 'nus-wide-tc10', folder: 'nus-wide-tc10', querySize: 2100, trainSize: 10500,
  stems: ['nus-wide-tc10', 'nus-wide', 'nuswide'], single: ['nus-wide-tc10', 'NUS-WIDE-TC10', 'nus-wide', 'NUS-WIDE', 'nuswide'],
};

export function loadNusWide(spec: string | null, opts: PresetOptions = {}): Promise<Dataset> { return loadKeyedPreset(NUS_WIDE_TC10, spec, opts); }
