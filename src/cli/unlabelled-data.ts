// Data where no item has a label (`data info` warns about it). Supervised methods learn from labels,
// so `train` refuses them; the others train, but mAP cannot be measured (an item is relevant to a
// query when they share a label), so every mAP and the chance level come out 0: said on stderr.
import type { Dataset } from '../data/dataset.js';
import { InputError } from '../util/errors.js';
import { isSupervised, methodNames } from '../methods/registry.js';

/** Whether any item of `ds` has a label. */
export function anyLabelled(ds: Dataset): boolean {
  return ds.labelCounts().some((c) => c > 0);
}

/** The warning printed when results are evaluated on data without labels. */
export function warnUnmeasurable(dataName: string): void {
  process.stderr.write(`cmhash: warning: ${dataName}: no item has a label, so mAP cannot be measured (relevance is a shared label): every mAP reported, and the chance level, is 0\n`);
}

/** Before training `method` and its `baseline` on `ds`: refuses supervised ones when no item has a label, else warns. */
export function checkLabelsForTraining(ds: Dataset, dataName: string, method: string, baseline: string | null): void {
  if (anyLabelled(ds)) return;
  const needLabels = [...(isSupervised(method) ? [method] : []), ...(baseline && isSupervised(baseline) ? [`the ${baseline} baseline`] : [])];
  if (needLabels.length > 0) {
    const without = methodNames().filter((m) => !isSupervised(m)).join(', ');
    const hint = isSupervised(method) ? '' : ' (--baseline cca or none)';
    throw new InputError(`${dataName}: no item has a label, and ${needLabels.join(' and ')} learn${needLabels.length === 1 ? 's' : ''} from labels${hint}; methods that train without labels: ${without} (mAP still needs labels to be measured)`);
  }
  warnUnmeasurable(dataName);
}
