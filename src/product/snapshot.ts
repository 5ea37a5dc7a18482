// One immutable view of a collection: a model, the label names of its version, and for each
// modality the codes that version made with an index over them. Searches take the current snapshot
// once and use only it, and writers build a complete new snapshot before swapping the reference in
// one assignment — so no search ever mixes two model versions or sees half an update.
import type { SnapshotIndex } from '../index/snapshot-index.js';
import type { Hasher, Modality } from '../methods/hasher.js';

export interface CollectionSnapshot {
  /** The collection's model version (the store id of the version pair), null for codes-only. */
  readonly modelVersion: number | null;
  /** Store version ids per modality. */
  readonly versions: { image: number | null; text: number | null };
  readonly hasher: Hasher | null;
  readonly labelNames: readonly string[];
  readonly bits: number;
  readonly image: SnapshotIndex;
  readonly text: SnapshotIndex;
  readonly committed: string | null;
  /**
   * The codes stay in the database (PostgreSQL, `--search server`): image and text are empty here,
   * and searches, stored codes and code counts are asked of the store.
   */
  readonly codesOnServer?: boolean;
}

export function codesOf(s: CollectionSnapshot, m: Modality): SnapshotIndex { return m === 'image' ? s.image : s.text; }
