// Fine-tune baseline (the lower bound of continual learning): the same networks as the method it is
// compared with, trained on each session's data only.
//  - `finetune:ccmh-gam` (alias `finetune`): the CCMH-GAM label, image and text nets with no stored
//    (label, code) pairs, no regulariser, no memory, no gradient projection;
//  - `finetune:dlcmh`: DLCMH's nets and DCC code learning on the new items only — no sampled old
//    codes in the loss (lifelong: false).
// Old database codes stay stored as they are; the nets drift toward the new classes and forget.
// Each variant answers to the options its base has left (FINETUNE_CCMH_GAM_OPTIONS, FINETUNE_DLCMH_OPTIONS).
import { CcmhGam, type CcmhGamConfig } from './ccmh-gam.js';
import { Dlcmh, type DlcmhConfig } from './dlcmh.js';

export type FinetuneConfig = Omit<CcmhGamConfig, 'memory' | 'projection' | 'labelRegulariser' | 'replay' | 'keepCodebook'>
  & Omit<DlcmhConfig, 'lifelong'> & { base?: 'ccmh-gam' | 'dlcmh'; name?: string };

export function createFinetune(config: FinetuneConfig): CcmhGam | Dlcmh {
  const { base = 'ccmh-gam', name = 'finetune', ...rest } = config;
  if (base === 'dlcmh') return new Dlcmh({ ...rest, lifelong: false, name } as DlcmhConfig);
  return new CcmhGam({ ...rest, name, memory: 'none', projection: 'none', labelRegulariser: 0, replay: 0, keepCodebook: false } as CcmhGamConfig);
}
