// The index of one modality's codes in a collection snapshot. Searches take a snapshot once, and
// writers build the next one before swapping it in, so this index is versioned: `appended()` makes
// the next version sharing storage with this one (O(added), no copy), while older versions — still
// answering searches — never see a change. The exact scan searches the shared codes directly;
// another index kind (multi) is rebuilt on append.
import type { CodeIndex, SearchHits, SearchOptions } from './code-index.js';
import { createIndex } from './factory.js';
import { CodeList, checkK, checkRadius } from './code-list.js';
import { saveIndexFile } from './index-file.js';
import { PackedCodes } from '../codes/packed-codes.js';
import { InputError, NotFoundError } from '../util/errors.js';
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

/**
 * An index over the codes of one modality under one model version, with lookup of a stored code by
 * id. `appended()` makes the next version without copying (see SharedTail), so a collection's
 * snapshots share storage; `add`/`remove` (the CodeIndex contract) change this object in place.
 */
export class SnapshotIndex implements CodeIndex {
  private pos: Map<string, number> | null = null;

  /** `index` is null for the exact scan, which searches `packed` directly (no copy held by an index). */
  private constructor(private index: CodeIndex | null, private spec: string, private tail: SharedTail, private live: PackedCodes) {}

  get kind(): 'flat' | 'multi' { return this.index ? this.index.kind : 'flat'; }
  get bits(): number { return this.live.bits; }
  /** This version's codes (a view of shared storage: read, never write). */
  get packed(): PackedCodes { return this.live; }

  static build(ids: readonly string[], codes: PackedCodes, spec?: string): SnapshotIndex {
    const want = spec ?? DEFAULT_INDEX;
    if (ids.length !== codes.count) throw new InputError(`SnapshotIndex: ${ids.length} ids for ${codes.count} codes`);
    let index: CodeIndex | null = createIndex(want, codes.bits); // also validates the spec
    // ids are unique per version by construction (the store and the builders check)
    if (index.kind === 'flat') index = null;
    else (index as CodeIndex & { addTrusted(ids: readonly string[], c: PackedCodes): void }).addTrusted(ids, codes); // copies them
    // the caller's arrays are never written: the first append moves to a new buffer
    return new SnapshotIndex(index, want, { ids: ids.slice(), buf: codes.data, used: codes.count }, codes);
  }

  static empty(bits: number): SnapshotIndex { return SnapshotIndex.build([], PackedCodes.alloc(bits, 0), 'flat'); }

  get size(): number { return this.live.count; }

  /** The ids in position order (a copy). */
  ids(): string[] { return this.tail.ids.slice(0, this.size); }

  /** The codes in position order (a copy). */
  codes(): PackedCodes { return new PackedCodes(this.bits, this.size, this.live.data.slice()); }

  has(id: string): boolean { return this.codeOf(id) !== null; }

  /** CodeIndex.add: appends in place (checked like any index: new, unique, well-formed ids). */
  add(ids: readonly string[], codes: PackedCodes): void {
    new CodeList(this.bits).add(ids, codes); // the shared id and shape checks
    for (const id of ids) if (this.has(id)) throw new InputError(`add: id ${JSON.stringify(id)} is already in the index (ids must be unique)`);
    this.adopt(this.appended(ids, codes));
  }

  /** CodeIndex.remove: rebuilds without the given ids (unknown id → NotFoundError, nothing removed). */
  remove(ids: readonly string[]): number {
    const drop = new Set<string>();
    for (const id of ids) {
      if (!this.has(id)) throw new NotFoundError(`remove: id ${JSON.stringify(id)} is not in the index`);
      drop.add(id);
    }
    if (drop.size === 0) return 0;
    this.adopt(this.without([...drop]));
    return drop.size;
  }

  /** A new snapshot without the given ids (ids not held are ignored); this one is unchanged. */
  without(ids: readonly string[]): SnapshotIndex {
    const drop = new Set(ids.filter((id) => this.has(id)));
    if (drop.size === 0) return this;
    const all = this.ids(), keep: number[] = [];
    all.forEach((id, i) => { if (!drop.has(id)) keep.push(i); });
    const stride = this.live.stride, data = new Uint32Array(keep.length * stride);
    keep.forEach((p, i) => data.set(this.live.data.subarray(p * stride, (p + 1) * stride), i * stride));
    return SnapshotIndex.build(keep.map((p) => all[p]!), new PackedCodes(this.bits, keep.length, data), this.spec);
  }

  private adopt(o: SnapshotIndex): void {
    this.index = o.index; this.spec = o.spec; this.tail = o.tail; this.live = o.live; this.pos = null;
  }

  search(queries: PackedCodes, k: number, opts: SearchOptions = {}): SearchHits[] {
    checkK(k);
    if (queries.bits !== this.bits) throw new InputError(`search: query codes have ${queries.bits} bits, the index holds ${this.bits}-bit codes`);
    if (opts.maxDistance !== undefined) checkRadius(opts.maxDistance, 'search: maxDistance');
    return this.knn(queries.data, queries.count, k, opts.maxDistance);
  }

  rangeSearch(queries: PackedCodes, r: number): SearchHits[] {
    checkRadius(r);
    if (queries.bits !== this.bits) throw new InputError(`rangeSearch: query codes have ${queries.bits} bits, the index holds ${this.bits}-bit codes`);
    if (this.index) return this.index.rangeSearch(queries, r);
    const out: SearchHits[] = [], s = queries.stride, be = getBackend();
    for (let q = 0; q < queries.count; q++) {
      const res = be.hammingRange(queries.data.subarray(q * s, (q + 1) * s), this.live.data, this.size, this.live.words64, r);
      out.push({ ids: Array.from(res.ids, (p) => this.tail.ids[p]!), distances: res.dist });
    }
    return out;
  }

  save(path: string): void { saveIndexFile(path, this); }

  /** This snapshot's codes plus `ids`/`codes` appended (a new object; this one is unchanged). */
  appended(ids: readonly string[], codes: PackedCodes): SnapshotIndex {
    if (ids.length !== codes.count) throw new InputError(`SnapshotIndex.appended: ${ids.length} ids for ${codes.count} codes`);
    if (codes.bits !== this.live.bits) throw new InputError(`SnapshotIndex.appended: ${codes.bits}-bit codes for a ${this.live.bits}-bit collection`);
    if (ids.length === 0) return this;
    const n = this.size, m = ids.length, stride = this.live.stride;
    // An index other than the scan keeps derived tables: rebuilt from all codes.
    if (this.index) return SnapshotIndex.build([...this.tail.ids.slice(0, n), ...ids], PackedCodes.concat([this.live, codes]), this.spec);
    let t = this.tail;
    if (t.used !== n || (n + m) * stride > t.buf.length) {
      // a newer snapshot already extended the shared storage, or it is full (a fresh build's storage
      // is the caller's array, exactly full): move to new storage with room to grow (amortised O(1)
      // per added code)
      const cap = Math.max(1024, Math.ceil((n + m) * 1.5));
      const buf = new Uint32Array(cap * stride);
      buf.set(this.live.data);
      t = { ids: t.ids.slice(0, n), buf, used: n };
    }
    t.buf.set(codes.data, n * stride);
    for (let i = 0; i < m; i++) t.ids.push(ids[i]!);
    t.used = n + m;
    return new SnapshotIndex(null, this.spec, t, new PackedCodes(this.live.bits, n + m, t.buf.subarray(0, (n + m) * stride)));
  }

  /**
   * k-NN of `nq` packed query codes (`queries`: nq · stride uint32 words), each cut to distance ≤
   * `maxDistance` when given. For the exact scan the kernel runs once over all queries (the native
   * backend splits a batch across its threads by query, so concurrent requests batched by the
   * service share one call); other indexes answer through their own search. Same answers and tie
   * order as `index.search` (the flat index scans these same codes in the same order).
   */
  knn(queries: Uint32Array, nq: number, k: number, maxDistance?: number): SearchHits[] {
    const n = this.size, stride = this.live.stride;
    if (queries.length !== nq * stride) throw new InputError(`knn: ${nq} queries of ${this.live.bits} bits need ${nq * stride} words, got ${queries.length}`);
    if (n === 0) return Array.from({ length: nq }, () => ({ ids: [] as string[], distances: new Int32Array(0) }));
    if (this.index) return this.index.search(new PackedCodes(this.live.bits, nq, queries), k, maxDistance !== undefined ? { maxDistance } : {});
    const kk = Math.min(k, n), need = nq * kk;
    if (this.outIds.length < need) { this.outIds = new Int32Array(need); this.outDist = new Int32Array(need); }
    const pos = this.outIds, dist = this.outDist;
    getBackend().hammingKnn(queries, nq, this.live.data, n, this.live.words64, kk, pos, dist);
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
    return p === undefined ? null : this.live.slice(p, p + 1);
  }
}

