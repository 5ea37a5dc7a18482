// The interface every Hamming index implements (FlatIndex, MultiIndex; remote adapters later).
//
// Ids are strings externally (numbers: pass String(n)); non-empty, no '\n' or '\r', unique within
// an index. Internally each index keeps codes in insertion order with an id → position map;
// "ties by insertion order" means ties are broken by that order (removal keeps the order of the rest).
import type { PackedCodes } from '../codes/packed-codes.js';

export interface SearchOptions {
  /** Only return neighbours with distance <= maxDistance. */
  maxDistance?: number;
}

/** Answers for one query, nearest first ((distance, insertion order) ascending). */
export interface SearchHits {
  ids: string[];
  distances: Int32Array;
}

export interface CodeIndex {
  readonly kind: 'flat' | 'multi';
  readonly bits: number;
  /** Number of codes held. */
  readonly size: number;
  /** Adds codes; ids must be new and unique; codes.count === ids.length; codes.bits === bits. */
  add(ids: readonly string[], codes: PackedCodes): void;
  /** Removes the given ids; unknown ids → NotFoundError (nothing removed). Returns the count removed. */
  remove(ids: readonly string[]): number;
  has(id: string): boolean;
  /** Exact k-NN for each query (k > 0). */
  search(queries: PackedCodes, k: number, opts?: SearchOptions): SearchHits[];
  /** Every code with distance <= r (r >= 0), in insertion order. */
  rangeSearch(queries: PackedCodes, r: number): SearchHits[];
  /** Ids in insertion order. */
  ids(): string[];
  /** Codes in insertion order (a copy). */
  codes(): PackedCodes;
  /** Writes the index atomically (same format for every kind; see factory.ts). */
  save(path: string): void;
}
