// One immutable view of a collection: a model, the label names of its version, and for each
// modality the codes that version made with an index over them. Searches take the current snapshot
// once and use only it, and writers build a complete new snapshot before swapping the reference in
// one assignment — so no search ever mixes two model versions or sees half an update.
import type { CodeIndex, SearchHits } from '../index/code-index.js';
import { createIndex } from '../index/factory.js';
import { PackedCodes } from '../codes/packed-codes.js';
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

/**
 * Ids and codes shared by successive snapshots of one modality. A snapshot sees the first `n` of
 * them; adding items writes past the end (`used`) when the snapshot being extended is the newest
 * one, so older snapshots — still answering searches — never see a change, and an add costs
 * O(added) instead of copying every stored id and code. Invariant: ids.length === used.
 */
interface SharedTail { ids: string[]; buf: Uint32Array; used: number }

/** The codes of one modality under one model version, searchable, with lookup of a stored code by id. */
export class ModalityCodes {
  private pos: Map<string, number> | null = null;

  /** `index` is null for the exact scan, which searches `codes` directly (no copy held by an index). */
  private constructor(private readonly index: CodeIndex | null, private readonly spec: string, private readonly tail: SharedTail, readonly codes: PackedCodes) {}

  static build(ids: readonly string[], codes: PackedCodes, spec?: string): ModalityCodes {
    const want = spec ?? DEFAULT_INDEX;
    if (ids.length !== codes.count) throw new InputError(`ModalityCodes: ${ids.length} ids for ${codes.count} codes`);
    let index: CodeIndex | null = createIndex(want, codes.bits); // also validates the spec
    // ids are unique per version by construction (the store and the builders check)
    if (index.kind === 'flat') index = null;
    else (index as CodeIndex & { addTrusted(ids: readonly string[], c: PackedCodes): void }).addTrusted(ids, codes); // copies them
    // the caller's arrays are never written: the first append moves to a new buffer
    return new ModalityCodes(index, want, { ids: ids.slice(), buf: codes.data, used: codes.count }, codes);
  }

  static empty(bits: number): ModalityCodes { return ModalityCodes.build([], PackedCodes.alloc(bits, 0), 'flat'); }

  get size(): number { return this.codes.count; }

  /** The ids in position order (a copy). */
  get ids(): string[] { return this.tail.ids.slice(0, this.size); }

  /** This snapshot's codes plus `ids`/`codes` appended (a new object; this one is unchanged). */
  appended(ids: readonly string[], codes: PackedCodes): ModalityCodes {
    if (ids.length !== codes.count) throw new InputError(`ModalityCodes.appended: ${ids.length} ids for ${codes.count} codes`);
    if (codes.bits !== this.codes.bits) throw new InputError(`ModalityCodes.appended: ${codes.bits}-bit codes for a ${this.codes.bits}-bit collection`);
    if (ids.length === 0) return this;
    const n = this.size, m = ids.length, stride = this.codes.stride;
    // An index other than the scan keeps derived tables: rebuilt from all codes.
    if (this.index) return ModalityCodes.build([...this.tail.ids.slice(0, n), ...ids], PackedCodes.concat([this.codes, codes]), this.spec);
    let t = this.tail;
    if (t.used !== n || (n + m) * stride > t.buf.length) {
      // a newer snapshot already extended the shared storage, or it is full (a fresh build's storage
      // is the caller's array, exactly full): move to new storage with room to grow (amortised O(1)
      // per added code)
      const cap = Math.max(1024, Math.ceil((n + m) * 1.5));
      const buf = new Uint32Array(cap * stride);
      buf.set(this.codes.data);
      t = { ids: t.ids.slice(0, n), buf, used: n };
    }
    t.buf.set(codes.data, n * stride);
    for (let i = 0; i < m; i++) t.ids.push(ids[i]!);
    t.used = n + m;
    return new ModalityCodes(null, this.spec, t, new PackedCodes(this.codes.bits, n + m, t.buf.subarray(0, (n + m) * stride)));
  }

  /**
   * k-NN of `nq` packed query codes (`queries`: nq · stride uint32 words), each cut to distance ≤
   * `maxDistance` when given. For the exact scan the kernel runs once over all queries (the native
   * backend splits a batch across its threads by query, so concurrent requests batched by the
   * service share one call); other indexes answer through their own search. Same answers and tie
   * order as `index.search` (the flat index scans these same codes in the same order).
   */
  knn(queries: Uint32Array, nq: number, k: number, maxDistance?: number): SearchHits[] {
    const n = this.size, stride = this.codes.stride;
    if (queries.length !== nq * stride) throw new InputError(`knn: ${nq} queries of ${this.codes.bits} bits need ${nq * stride} words, got ${queries.length}`);
    if (n === 0) return Array.from({ length: nq }, () => ({ ids: [] as string[], distances: new Int32Array(0) }));
    if (this.index) return this.index.search(new PackedCodes(this.codes.bits, nq, queries), k, maxDistance !== undefined ? { maxDistance } : {});
    const kk = Math.min(k, n), need = nq * kk;
    if (this.outIds.length < need) { this.outIds = new Int32Array(need); this.outDist = new Int32Array(need); }
    const pos = this.outIds, dist = this.outDist;
    getBackend().hammingKnn(queries, nq, this.codes.data, n, this.codes.words64, kk, pos, dist);
    return this.hitsOf(pos, dist, nq, kk, maxDistance);
  }

  /** Whether `knn` is the flat scan of `codes` (then a kernel call elsewhere gives the same answers). */
  get scans(): boolean { return this.index === null; }

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
      for (let i = 0; i < m; i++) ids[i] = this.tail.ids[pos[o + i]!]!;
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
      const ids = this.tail.ids;
      for (let i = 0; i < this.size; i++) m.set(ids[i]!, i); // only this snapshot's ids
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
