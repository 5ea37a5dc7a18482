// Fine-tune baseline (the lower bound of continual learning): the same label, image and text
// networks as CCMH-GAM, trained on each session's data only — no stored (label, code) pairs, no
// regulariser, no memory, no gradient projection. Old database codes stay stored as they are; the
// nets drift toward the new classes and forget the old ones.
import { CcmhGam, type CcmhGamConfig } from './ccmh-gam.js';

export type FinetuneConfig = Pick<CcmhGamConfig, 'bits' | 'hidden' | 'labelHidden' | 'growLabels'>;

export function createFinetune(config: FinetuneConfig): CcmhGam {
  return new CcmhGam({ ...config, name: 'finetune', memory: 'none', projection: 'none', labelRegulariser: 0, replay: 0, keepCodebook: false });
}
