// Growable storage shared by the indexes: codes back to back in insertion order, their ids, and
// an id → position map. Removal compacts in place, keeping the relative order of what stays.
import { PackedCodes, validateBits, strideFor } from '../codes/packed-codes.js';
import { InputError, NotFoundError } from '../util/errors.js';
import { checkItemId } from './item-id.js';

export class CodeList {
  readonly stride: number;
  readonly words64: number;
  private buf: Uint32Array;
  private idList: string[] = [];
  // id → position, built lazily: searches never need it, and hashing a million fresh strings
  // costs about as much as loading them (the store's bulk load skips it).
  private posMap: Map<string, number> | null = new Map();
  /** Bumped on every change (indexes rebuild derived structures lazily). */
  version = 0;

  constructor(readonly bits: number) {
    validateBits(bits);
    this.stride = strideFor(bits);
    this.words64 = this.stride / 2;
    this.buf = new Uint32Array(0);
  }

  get size(): number { return this.idList.length; }
  /** The live codes (a view; valid until the next change). */
  get data(): Uint32Array { return this.buf.subarray(0, this.idList.length * this.stride); }
  idAt(p: number): string { return this.idList[p]!; }
  has(id: string): boolean { return this.pos.has(id); }

  private get pos(): Map<string, number> {
    if (this.posMap === null) {
      const m = new Map<string, number>();
      for (let i = 0; i < this.idList.length; i++) m.set(this.idList[i]!, i);
      this.posMap = m;
    }
    return this.posMap;
  }

  /** Appends codes whose ids the caller guarantees valid and unique (the store's load path). */
  addTrusted(ids: readonly string[], codes: PackedCodes): void {
    if (codes.bits !== this.bits || ids.length !== codes.count) throw new InputError(`addTrusted: ${ids.length} ids, ${codes.count} ${codes.bits}-bit codes for a ${this.bits}-bit index`);
    if (this.idList.length === 0) {
      this.buf = codes.data.slice();
      this.idList = ids.slice();
      this.posMap = null;
    } else {
      this.add(ids, codes);
      return;
    }
    this.version++;
  }
  ids(): string[] { return this.idList.slice(); }

  checkQueries(queries: PackedCodes, what: string): void {
    if (!(queries instanceof PackedCodes)) throw new InputError(`${what}: queries must be PackedCodes`);
    if (queries.bits !== this.bits) throw new InputError(`${what}: query codes have ${queries.bits} bits, the index holds ${this.bits}-bit codes`);
  }

  add(ids: readonly string[], codes: PackedCodes): void {
    if (!(codes instanceof PackedCodes)) throw new InputError('add: codes must be PackedCodes');
    if (codes.bits !== this.bits) throw new InputError(`add: codes have ${codes.bits} bits, the index holds ${this.bits}-bit codes`);
    if (ids.length !== codes.count) throw new InputError(`add: ${ids.length} ids but ${codes.count} codes`);
    const seen = new Set<string>();
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      checkItemId(id, `add: id at ${i}`);
      if (this.pos.has(id)) throw new InputError(`add: id ${JSON.stringify(id)} is already in the index (ids must be unique)`);
      if (seen.has(id)) throw new InputError(`add: id ${JSON.stringify(id)} appears twice in this batch (ids must be unique)`);
      seen.add(id);
    }
    const n = this.idList.length, need = (n + ids.length) * this.stride;
    if (need > this.buf.length) {
      const grown = new Uint32Array(Math.max(need, Math.floor(this.buf.length * 1.5)));
      grown.set(this.buf.subarray(0, n * this.stride));
      this.buf = grown;
    }
    this.buf.set(codes.data, n * this.stride);
    const pos = this.pos;
    for (let i = 0; i < ids.length; i++) { pos.set(ids[i]!, n + i); this.idList.push(ids[i]!); }
    this.version++;
  }

  remove(ids: readonly string[]): number {
    const drop = new Uint8Array(this.idList.length);
    for (const id of ids) {
      const p = this.pos.get(id);
      if (p === undefined) throw new NotFoundError(`remove: id ${JSON.stringify(id)} is not in the index`);
      drop[p] = 1;
    }
    let w = 0, removed = 0;
    const s = this.stride;
    for (let r = 0; r < this.idList.length; r++) {
      if (drop[r]) { this.pos.delete(this.idList[r]!); removed++; continue; }
      if (w !== r) {
        this.buf.copyWithin(w * s, r * s, (r + 1) * s);
        this.idList[w] = this.idList[r]!;
        this.pos.set(this.idList[w]!, w);
      }
      w++;
    }
    this.idList.length = w;
    if (removed) this.version++;
    return removed;
  }

  codes(): PackedCodes { return new PackedCodes(this.bits, this.size, this.data.slice()); }
}

export function checkK(k: number): void {
  if (!Number.isInteger(k) || k <= 0) throw new InputError(`search: k must be a positive integer, got ${k}`);
}

export function checkRadius(r: number, what = 'rangeSearch: r'): void {
  if (!Number.isInteger(r) || r < 0) throw new InputError(`${what} must be a non-negative integer, got ${r}`);
}
