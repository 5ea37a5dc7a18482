// One immutable view of a collection: a model, the label names of its version, and for each
// modality the codes that version made with an index over them. Searches take the current snapshot
// once and use only it, and writers build a complete new snapshot before swapping the reference in
// one assignment — so no search ever mixes two model versions or sees half an update.
import type { CodeIndex, SearchHits } from '../index/code-index.js';
import { createIndex } from '../index/factory.js';
import { PackedCodes } from '../index/codes.js';
import { InputError } from '../util/errors.js';
import type { Hasher, Modality } from '../methods/hasher.js';
import { getBackend } from '../tensor/backends.js';

/**
 * Default index: the exact scan. Measured at 1M 64-bit random codes (native AVX-512 backend), a
 * 10-NN query takes 0.2–0.5 ms by scan but ~7 ms with the multi-index, whose k-NN must widen its
 * radius to the far 10th neighbour; the multi-index wins only for small radii (0.02 ms at r ≤ 8).
 * A collection can choose "multi" in collection.json ("index").
 */
export const DEFAULT_INDEX = 'flat';

/** The codes of one modality under one model version, searchable, with lookup of a stored code by id. */
export class ModalityCodes {
  private pos: Map<string, number> | null = null;

  constructor(readonly index: CodeIndex, readonly ids: readonly string[], readonly codes: PackedCodes) {}

  static build(ids: string[], codes: PackedCodes, spec?: string): ModalityCodes {
    const index = createIndex(spec ?? DEFAULT_INDEX, codes.bits);
    // ids are unique per version by construction (the store and the builders check)
    (index as CodeIndex & { addTrusted(ids: string[], c: PackedCodes): void }).addTrusted(ids, codes);
    return new ModalityCodes(index, ids, codes);
  }

  static empty(bits: number): ModalityCodes { return ModalityCodes.build([], PackedCodes.alloc(bits, 0), 'flat'); }

  get size(): number { return this.ids.length; }

  /**
   * k-NN of `nq` packed query codes (`queries`: nq · stride uint32 words), each cut to distance ≤
   * `maxDistance` when given. For the exact scan the kernel runs once over all queries (the native
   * backend splits a batch across its threads by query, so concurrent requests batched by the
   * service share one call); other indexes answer through their own search. Same answers and tie
   * order as `index.search` (the flat index scans these same codes in the same order).
   */
  knn(queries: Uint32Array, nq: number, k: number, maxDistance?: number): SearchHits[] {
    const n = this.ids.length, stride = this.codes.stride;
    if (queries.length !== nq * stride) throw new InputError(`knn: ${nq} queries of ${this.codes.bits} bits need ${nq * stride} words, got ${queries.length}`);
    if (this.index.kind !== 'flat' || n === 0) {
      const q = new PackedCodes(this.codes.bits, nq, queries);
      return n === 0 ? Array.from({ length: nq }, () => ({ ids: [] as string[], distances: new Int32Array(0) })) : this.index.search(q, k, maxDistance !== undefined ? { maxDistance } : {});
    }
    const kk = Math.min(k, n), need = nq * kk;
    if (this.outIds.length < need) { this.outIds = new Int32Array(need); this.outDist = new Int32Array(need); }
    const pos = this.outIds, dist = this.outDist;
    getBackend().hammingKnn(queries, nq, this.codes.data, n, this.codes.words64, kk, pos, dist);
    return this.hitsOf(pos, dist, nq, kk, maxDistance);
  }

  /** Whether `knn` is the flat scan of `codes` (then a kernel call elsewhere gives the same answers). */
  get scans(): boolean { return this.index.kind === 'flat'; }

  /**
   * Hits from the kernel's raw output for nq queries (positions into `codes`, distances; kk =
   * min(k, size) per query), cut to distance ≤ `maxDistance` when given.
   */
  hitsOf(pos: Int32Array, dist: Int32Array, nq: number, kk: number, maxDistance?: number): SearchHits[] {
    const out: SearchHits[] = new Array(nq);
    for (let q = 0; q < nq; q++) {
      const o = q * kk;
      let m = kk;
      if (maxDistance !== undefined) { m = 0; while (m < kk && dist[o + m]! <= maxDistance) m++; }
      const ids = new Array<string>(m);
      for (let i = 0; i < m; i++) ids[i] = this.ids[pos[o + i]!]!;
      out[q] = { ids, distances: dist.slice(o, o + m) };
    }
    return out;
  }

  // kernel output buffers, reused across calls (searches run one at a time on the event loop)
  private outIds = new Int32Array(0);
  private outDist = new Int32Array(0);

  /** The stored code of item `id` (a one-code PackedCodes), or null when this modality has none. */
  codeOf(id: string): PackedCodes | null {
    if (this.pos === null) {
      const m = new Map<string, number>();
      this.ids.forEach((x, i) => m.set(x, i));
      this.pos = m;
    }
    const p = this.pos.get(id);
    return p === undefined ? null : this.codes.slice(p, p + 1);
  }
}

export interface CollectionSnapshot {
  /** The collection's model version (the store id of the version pair), null for codes-only. */
  readonly modelVersion: number | null;
  /** Store version ids per modality. */
  readonly versions: { image: number | null; text: number | null };
  readonly hasher: Hasher | null;
  readonly labelNames: readonly string[];
  readonly bits: number;
  readonly image: ModalityCodes;
  readonly text: ModalityCodes;
  readonly committed: string | null;
}

export function codesOf(s: CollectionSnapshot, m: Modality): ModalityCodes { return m === 'image' ? s.image : s.text; }
