// The preset registry: names a user can pass instead of a path.
import type { Dataset } from '../dataset.js';
import type { PresetOptions } from './common.js';
import { loadWikipedia } from './wikipedia.js';
import { loadMirflickr } from './mirflickr25k.js';
import { loadNusWide } from './nus-wide-tc10.js';
import { loadMsCoco } from './ms-coco.js';
import { loadIapr } from './iapr-tc12.js';

export interface Preset {
  name: string;
  description: string;
  /** `location` is a folder or file to read instead of the default data roots. */
  load(location: string | null, opts: PresetOptions): Promise<Dataset>;
}

export const PRESETS: Preset[] = [
  { name: 'wikipedia', description: 'Wikipedia 2,866 pairs, 10 classes; standard 2,173 train=database / 693 query', load: loadWikipedia },
  { name: 'mirflickr25k', description: 'MIRFlickr-25K cleaned 20,015 pairs, 24 labels; 2,000 query / rest retrieval, 10,000 train', load: (l, o) => loadMirflickr(l, o) },
  { name: 'mirflickr25k-photos', description: 'the MIRFlickr rows with a photo here (730), image features + tags', load: (l, o) => loadMirflickr(l, o, true) },
  { name: 'nus-wide-tc10', description: 'NUS-WIDE top-10 concepts (DCMH IAll/YAll/LAll); 2,100 query, 10,500 train', load: loadNusWide },
  { name: 'ms-coco', description: 'MS-COCO 80 labels (IAll/YAll/LAll); 5,000 query, 10,000 train', load: loadMsCoco },
  { name: 'iapr-tc12', description: 'IAPR TC-12 255 labels (IAll/YAll/LAll); 2,000 query, 10,000 train', load: loadIapr },
];

export function findPreset(name: string): Preset | undefined {
  const n = name.toLowerCase();
  const alias: Record<string, string> = { wiki: 'wikipedia', mirflickr: 'mirflickr25k', flickr25k: 'mirflickr25k', 'mirflickr-25k': 'mirflickr25k', 'nus-wide': 'nus-wide-tc10', nuswide: 'nus-wide-tc10', coco: 'ms-coco', mscoco: 'ms-coco', iapr: 'iapr-tc12' };
  return PRESETS.find((p) => p.name === (alias[n] ?? n));
}
