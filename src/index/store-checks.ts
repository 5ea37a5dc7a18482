// Checks and small pieces both store backends (store.ts, pg/pg-store.ts) share, so the two stay
// alike where they must: what a valid batch of new items is, a parent version that can pass on its
// codes, the label matrix of items, the runs of segments compaction merges, an index over a
// version's loaded codes.
import { validateLabels } from '../data/labels.js';
import { InputError } from '../util/errors.js';
import { checkItemId } from './item-id.js';
import type { PackedCodes } from '../codes/packed-codes.js';
import type { CodeIndex } from './code-index.js';
import { createIndex } from './factory.js';
import type { Item, ModelVersion, NewItems } from './store-types.js';

/** Validates a batch of new items; returns each item's metadata as JSON text (null for none). */
export function checkNewItems(items: NewItems): (string | null)[] {
  const { ids } = items;
  const n = ids.length;
  if (items.labels) {
    if (!items.classes) throw new InputError('addItems: labels given without classes (the label width)');
    validateLabels(items.labels, n, items.classes, 'addItems labels');
  }
  if (items.metadata && items.metadata.length !== n) throw new InputError(`addItems: ${n} ids but ${items.metadata.length} metadata entries`);
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) {
    const id = ids[i]!;
    checkItemId(id, `addItems: id at ${i}`);
    if (seen.has(id)) throw new InputError(`addItems: id ${JSON.stringify(id)} appears twice (ids must be unique)`);
    seen.add(id);
  }
  return ids.map((_, i) => {
    const m = items.metadata?.[i];
    if (m === undefined || m === null) return null;
    try { return JSON.stringify(m); } catch (e) { throw new InputError(`addItems: metadata at ${i} is not JSON-serialisable (${(e as Error).message})`); }
  });
}

/** Refuses a parent version that cannot pass its codes on to a new version of `bits` bits. */
export function checkParentVersion(parent: ModelVersion, bits: number): void {
  if (parent.status !== 'committed') throw new InputError(`createModelVersion: parent version ${parent.id} is ${parent.status}, only committed versions can pass on codes`);
  if (parent.bits !== bits) throw new InputError(`createModelVersion: parent version ${parent.id} has ${parent.bits}-bit codes, new version ${bits}`);
}

/** Items' labels as one ids.length × classes matrix (padded with 0 for newer classes). */
export function labelMatrixOf(items: readonly Item[], classes: number): { labels: Uint8Array; classes: number } {
  const labels = new Uint8Array(items.length * classes);
  items.forEach((it, i) => labels.set(it.labels, i * classes));
  return { labels, classes };
}

/** A version's segments (in order) split into runs of consecutive ones no other version shares. */
export function exclusiveRuns<S extends { id: number }>(segs: readonly S[], owners: ReadonlyMap<number, number>): S[][] {
  const runs: S[][] = [];
  let run: S[] = [];
  for (const sg of segs) {
    if (owners.get(sg.id) === 1) { run.push(sg); continue; }
    if (run.length) runs.push(run);
    run = [];
  }
  if (run.length) runs.push(run);
  return runs;
}

/** An index (spec as in factory.ts) over one version's loaded codes. */
export function indexOverVersion(loaded: { version: number; ids: string[]; codes: PackedCodes }, spec: string): CodeIndex & { modelVersion: number } {
  const index = createIndex(spec, loaded.codes.bits) as CodeIndex & { modelVersion: number; addTrusted(ids: string[], c: PackedCodes): void };
  index.addTrusted(loaded.ids, loaded.codes); // ids are unique per version by construction (putCodes checks)
  index.modelVersion = loaded.version;
  return index;
}
