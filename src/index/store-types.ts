// What a collection store is, whichever backend holds it: the embedded one (store.ts: SQLite +
// segment files in a directory) or PostgreSQL (pg/pg-store.ts). Collection talks to this
// interface only. Every method is synchronous and every write is one unit of work (`write`): all
// of it is stored or none of it, at any crash point.
import type { PackedCodes } from '../codes/packed-codes.js';
import type { CodeIndex } from './code-index.js';

export interface StoreOpenOptions {
  /** Create the directory and database when missing (default false). */
  create?: boolean;
  readonly?: boolean;
}

export interface NewItems {
  ids: readonly string[];
  /** ids.length × classes, 0/1 (optional). */
  labels?: Uint8Array;
  classes?: number;
  /** One JSON-serialisable value (or null) per item. */
  metadata?: readonly unknown[];
  session?: number;
}

export interface Item {
  id: string;
  /** 0/1 labels padded to the collection's current class count. */
  labels: Uint8Array;
  metadata: unknown;
  session: number | null;
}

export type VersionStatus = 'pending' | 'committed' | 'retired';

export interface ModelVersion {
  id: number;
  method: string;
  bits: number;
  created: string;
  checkpoint: string | null;
  status: VersionStatus;
  session: number | null;
  parent: number | null;
  meta: unknown;
  codes: number;
}

export interface NewModelVersion {
  method: string;
  bits: number;
  checkpoint?: string;
  session?: number;
  meta?: unknown;
  /** A committed version (same bits) whose stored codes stay valid for this one. */
  inheritCodesFrom?: number;
}

export interface SessionRecord { id: number; name: string; classes: unknown[]; modelVersion: number | null; created: string; meta: unknown }

export interface StoreStats {
  items: number;
  classes: number;
  currentVersion: number | null;
  versions: ModelVersion[];
  segments: number;
  sessions: number;
}

export interface CompactionResult {
  /** Segments merged away and new segments written. */
  merged: number;
  written: number;
  /** Segment files deleted (merged, removed-only, of retired versions, leftovers). */
  filesDeleted: number;
  /** Codes of removed items dropped. */
  codesDropped: number;
  segmentsBefore: number;
  segmentsAfter: number;
}

/** The operations a collection needs from its store (both backends implement them identically). */
export interface CollectionStore {
  readonly kind: 'sqlite' | 'postgresql';
  /** Where it is: the directory, or the PostgreSQL URL (without password) and collection name. */
  readonly location: string;
  /** Runs fn as one unit of work (nested calls join the enclosing one). fn must be synchronous. */
  write<T>(fn: () => T): T;
  close(): void;
  classes(): number;
  addItems(items: NewItems): void;
  removeItems(ids: readonly string[]): number;
  existingIds(ids: readonly string[]): string[];
  getItems(ids: readonly string[]): Item[];
  labelMatrix(ids: readonly string[]): { labels: Uint8Array; classes: number };
  itemIds(session?: number): string[];
  createModelVersion(v: NewModelVersion): number;
  commitModelVersion(id: number, opts?: { makeCurrent?: boolean; checkpoint?: string }): void;
  setCurrentVersion(id: number): void;
  retireModelVersion(id: number): void;
  currentVersion(): number | null;
  version(id: number): ModelVersion;
  versions(): ModelVersion[];
  putCodes(versionId: number, ids: readonly string[], codes: PackedCodes): void;
  loadCodes(versionId?: number): { version: number; ids: string[]; codes: PackedCodes };
  loadIndex(versionId?: number, spec?: string): CodeIndex & { modelVersion: number };
  addSession(s: { name: string; classes: unknown[]; modelVersion?: number; meta?: unknown }): number;
  sessions(): SessionRecord[];
  stats(): StoreStats;
  segmentCount(versionId?: number): number;
  sweep(): string[];
  maybeCompact(threshold?: number): CompactionResult | null;
  compact(): CompactionResult;
  /**
   * Inside write(): stores the checkpoint of version `versionId` that `save` writes to the path it
   * is given; returns the reference commitModelVersion records.
   */
  saveCheckpoint(versionId: number, save: (path: string) => void): string;
  /** A file holding the checkpoint `ref` refers to (valid until the store is closed). */
  checkpointPath(ref: string): string;
}
