// Which baseline runs beside a method (`--baseline` of train and continual): linear for supervised
// methods, cca for unsupervised ones, none for a baseline itself or when asked.
import { InputError } from '../util/errors.js';
import { isSupervised } from '../methods/registry.js';

export function baselineFor(method: string, given: string | undefined): string | null {
  if (given !== undefined && given !== 'linear' && given !== 'cca' && given !== 'none') throw new InputError(`--baseline: expected linear, cca or none, got ${given}`);
  if (given === 'none' || method === 'linear' || method === 'cca') return null;
  return given ?? (isSupervised(method) ? 'linear' : 'cca');
}
