// Input checks for a session handed to a continual method: clear errors naming what was expected
// and what arrived (the session runner catches them per session, so earlier results survive).
import { InputError } from '../../util/errors.js';
import type { SessionData } from '../hasher.js';

export interface SessionExpectations {
  base?: boolean;
  imageDim?: number;
  textDim?: number;
  /** Label width the model was built for. */
  numClasses?: number;
  /** Whether the model can grow its label input for new classes. */
  grows?: boolean;
}

/**
 * Index of the first NaN/±Infinity, or −1. A small function of its own: the JIT optimises it on its
 * first long loop (inline in checkSession the scan ran unoptimised, ~20 ms of a MIRFlickr increment).
 */
function firstNonFinite(a: Float32Array): number {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i]!)) return i;
  return -1;
}

export function checkSession(method: string, s: SessionData, e: SessionExpectations): void {
  const where = `${method}: session ${s.index}`;
  if (!Number.isInteger(s.n) || s.n < 0) throw new InputError(`${where}: n must be a non-negative integer, got ${s.n}`);
  if (e.base && s.n < 2) throw new InputError(`${where}: the base session needs at least 2 items, got ${s.n}`);
  if (s.n > 0 && s.numClasses < 1) throw new InputError(`${where}: ${method} is supervised, the session has no label columns`);
  if (e.imageDim !== undefined && s.imageDim !== e.imageDim) throw new InputError(`${where}: image features have width ${s.imageDim}, the model was built for ${e.imageDim}`);
  if (e.textDim !== undefined && s.textDim !== e.textDim) throw new InputError(`${where}: text features have width ${s.textDim}, the model was built for ${e.textDim}`);
  if (s.image.length !== s.n * s.imageDim) throw new InputError(`${where}: image has ${s.image.length} values, expected ${s.n} × ${s.imageDim}`);
  if (s.text.length !== s.n * s.textDim) throw new InputError(`${where}: text has ${s.text.length} values, expected ${s.n} × ${s.textDim}`);
  if (s.labels.length !== s.n * s.numClasses) throw new InputError(`${where}: labels has ${s.labels.length} values, expected ${s.n} × ${s.numClasses}`);
  if (e.numClasses !== undefined && s.numClasses > e.numClasses && e.grows === false) {
    throw new InputError(`${where}: labels have ${s.numClasses} columns but the model was built for ${e.numClasses} classes and label growth is off (enable growth, or map the new classes onto known ones)`);
  }
  for (const [name, a, dim] of [['image', s.image, s.imageDim], ['text', s.text, s.textDim]] as const) {
    const i = firstNonFinite(a);
    if (i >= 0) throw new InputError(`${where}: ${name} has a non-finite value ${a[i]} at row ${Math.floor(i / dim)}, column ${i % dim}`);
  }
  for (let i = 0; i < s.n; i++) {
    let any = 0;
    for (let k = 0; k < s.numClasses; k++) any |= s.labels[i * s.numClasses + k]!;
    if (!any) throw new InputError(`${where}: item ${i} has no label (supervised continual hashing needs at least one class per item)`);
  }
}
