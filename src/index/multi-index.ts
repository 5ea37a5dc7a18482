// Multi-index hashing (Norouzi, Punjani, Fleet, "Fast Search in Hamming Space with Multi-Index
// Hashing", CVPR 2012): codes are cut into m disjoint substrings, each with its own table from
// substring value to the positions holding it. Pigeonhole: if two codes differ in d bits, some
// substring differs in <= floor(d/m) bits. Finer (the paper's argument): once every table has been
// probed at substring radius ρ−1 and the first a tables at radius ρ, every code within full
// distance m·ρ + a − 1 has been seen. k-NN grows ρ until k candidates lie within that guaranteed
// radius — so the answer is exact, and equal to FlatIndex's, ties by insertion order included.
//
// This file builds the tables (CSR arrays: bucket starts, positions, and a copy of the codes in
// bucket order so a probe reads sequentially); the probe itself is a backend kernel (mihKnn /
// mihRange: native in src/native/mih_search.cc, portable in src/tensor/backend-js.ts, same answers).
//
// Choices: substrings of about log2 N bits, but at most 16 bits for 64-bit-and-wider codes at
// N >= 2^19 (direct-addressed 65,536-bucket tables that stay in cache; clustered codes have many
// near neighbours, so small substrings still stop at radius 0–1), at least ceil(bits/32) substrings
// so one fits a uint32. Tables are built lazily on the first search after a change (O(N) counting
// sort per table). When a query's work (bucket probes + candidates) exceeds a fraction of N (far
// neighbours, e.g. uniformly random codes), it falls back to the exact scan, which is cheaper there.
import type { Backend, MihTableData, MihTables } from '../tensor/backend.js';
import { getBackend, getJsBackend } from '../tensor/backends.js';
import { extractBits } from '../util/bits.js';
import type { PackedCodes } from '../codes/packed-codes.js';
import type { CodeIndex, SearchHits, SearchOptions } from './code-index.js';
import { CodeList, checkK, checkRadius } from './code-list.js';
import { scanKnn, scanRange } from './flat.js';
import { saveIndexFile } from './index-file.js';
import { InputError } from '../util/errors.js';

export interface MultiIndexOptions {
  /** Number of substrings (default: chosen from N and bits when tables are built). */
  m?: number;
  backend?: Backend;
  /**
   * Fall back to a full scan once a query's work (bucket probes + candidates) exceeds this fraction
   * of N. Native default: 1/32 while the codes fit in 32 MiB, else 1/16; portable: 1/2.
   */
  scanFallback?: number;
}

/**
 * Native defaults of scanFallback (measured: see docs/index-eval.md). While the codes fit in cache
 * the scan costs ~0.1 ns per 64-bit code, once they stream from memory ~0.35 ns, so the index may
 * do twice the work before the scan is cheaper.
 */
export const NATIVE_FALLBACK_IN_CACHE = 1 / 32;
export const NATIVE_FALLBACK_STREAMING = 1 / 16;
const CACHE_BYTES = 32 * 2 ** 20;
/** Above this k the bounded top-k insertion costs more than the scan's counting sort. */
const MAX_PROBE_K = 1024;

/** Substrings of about log2 N bits (the paper's rule), capped as described in the file header. */
export function defaultSubstrings(bits: number, n: number): number {
  let ideal = Math.round(bits / Math.log2(Math.max(n, 2)));
  if (bits >= 64 && n >= 1 << 19) ideal = Math.max(ideal, Math.ceil(bits / 16));
  return Math.min(bits, Math.max(Math.ceil(bits / 32), ideal, 1));
}

/** One table: substring [offset, offset+length) of every code, bucketed by value (see MihTableData). */
function buildTable(data: Uint32Array, n: number, stride: number, offset: number, length: number): MihTableData {
  const vals = new Uint32Array(n);
  for (let p = 0; p < n; p++) vals[p] = extractBits(data, p * stride, offset, length);
  const direct = length <= 24 && 2 ** length <= Math.max(4 * n, 1 << 16);
  let starts: Uint32Array, items: Int32Array;
  let slots = new Int32Array(0), keys = new Uint32Array(0), shift = 0;
  if (direct) {
    starts = new Uint32Array(2 ** length + 1);
    for (let p = 0; p < n; p++) starts[vals[p]! + 1]!++;
    for (let v = 1; v < starts.length; v++) starts[v]! += starts[v - 1]!;
    items = new Int32Array(n);
    const fill = starts.slice(0, starts.length - 1);
    for (let p = 0; p < n; p++) items[fill[vals[p]!]!++] = p;
  } else {
    // hashed: LSD radix sort of positions by value (two 16-bit passes, stable), then unique keys
    let order = new Int32Array(n), tmp = new Int32Array(n);
    for (let p = 0; p < n; p++) order[p] = p;
    for (const sh of [0, 16]) {
      const cnt = new Uint32Array(65537);
      for (let p = 0; p < n; p++) cnt[((vals[order[p]!]! >>> sh) & 0xffff) + 1]!++;
      for (let v = 1; v <= 65536; v++) cnt[v]! += cnt[v - 1]!;
      for (let p = 0; p < n; p++) { const q = order[p]!; tmp[cnt[(vals[q]! >>> sh) & 0xffff]!++] = q; }
      [order, tmp] = [tmp, order];
    }
    const keyList: number[] = [], startList: number[] = [];
    for (let i = 0; i < n; i++) {
      const v = vals[order[i]!]!;
      if (i === 0 || v !== keyList[keyList.length - 1]) { keyList.push(v); startList.push(i); }
    }
    startList.push(n);
    let logCap = 1;
    while ((1 << logCap) < 2 * keyList.length) logCap++;
    slots = new Int32Array(1 << logCap).fill(-1);
    const mask = (1 << logCap) - 1;
    shift = 32 - logCap;
    for (let b = 0; b < keyList.length; b++) {
      let s = Math.imul(keyList[b]!, 0x9e3779b1) >>> shift;
      while (slots[s] !== -1) s = (s + 1) & mask;
      slots[s] = b;
    }
    keys = Uint32Array.from(keyList); starts = Uint32Array.from(startList); items = order;
  }
  const codes = new Uint32Array(n * stride);
  if (stride === 2) {
    for (let j = 0; j < n; j++) { const p = items[j]! * 2; codes[2 * j] = data[p]!; codes[2 * j + 1] = data[p + 1]!; }
  } else {
    for (let j = 0; j < n; j++) codes.set(data.subarray(items[j]! * stride, (items[j]! + 1) * stride), j * stride);
  }
  return { offset, length, starts, items, codes, slots, keys, shift };
}

export class MultiIndex implements CodeIndex {
  readonly kind = 'multi' as const;
  protected list: CodeList;
  private requestedM: number | undefined;
  private tables: MihTables | null = null;
  private builtVersion = -1;
  private backendOverride: Backend | undefined;
  private fallbackFraction: number | undefined;
  /** Queries answered by the scan fallback (for benchmarks and tests). */
  fallbacks = 0;

  constructor(readonly bits: number, opts: MultiIndexOptions = {}) {
    this.list = new CodeList(bits);
    if (opts.m !== undefined) {
      if (!Number.isInteger(opts.m) || opts.m < Math.ceil(bits / 32) || opts.m > bits) {
        throw new InputError(`MultiIndex: m must be an integer from ${Math.ceil(bits / 32)} to ${bits} for ${bits}-bit codes, got ${opts.m}`);
      }
    }
    this.requestedM = opts.m;
    this.backendOverride = opts.backend;
    this.fallbackFraction = opts.scanFallback;
  }

  get size(): number { return this.list.size; }
  get backend(): Backend { return this.backendOverride ?? getBackend(); }
  /** Substrings in use (after the tables are built; the requested or default m before). */
  get m(): number { return this.tables?.tables.length || this.requestedM || defaultSubstrings(this.bits, this.size); }
  /** The m given at construction (undefined = chosen from N). */
  get requestedSubstrings(): number | undefined { return this.requestedM; }
  add(ids: readonly string[], codes: PackedCodes): void { this.list.add(ids, codes); }
  remove(ids: readonly string[]): number { return this.list.remove(ids); }
  /** Bulk load of ids known valid and unique (see CodeList.addTrusted). */
  addTrusted(ids: readonly string[], codes: PackedCodes): void { this.list.addTrusted(ids, codes); }
  has(id: string): boolean { return this.list.has(id); }
  ids(): string[] { return this.list.ids(); }
  codes(): PackedCodes { return this.list.codes(); }
  save(path: string): void { saveIndexFile(path, this); }

  /** Builds the substring tables now (otherwise done by the first search after a change). */
  build(): MihTables {
    if (this.tables && this.builtVersion === this.list.version) return this.tables;
    const n = this.list.size, m = this.requestedM ?? defaultSubstrings(this.bits, n);
    const base = Math.floor(this.bits / m), extra = this.bits % m;
    const tables: MihTableData[] = [];
    this.tables = null; // free the old tables before allocating the new ones
    let off = 0;
    for (let t = 0; t < m; t++) {
      const len = base + (t < extra ? 1 : 0);
      tables.push(buildTable(this.list.data, n, this.list.stride, off, len));
      off += len;
    }
    this.tables = { n, words64: this.list.words64, tables };
    this.builtVersion = this.list.version;
    return this.tables;
  }

  private budget(): number {
    const bytes = this.list.size * this.list.stride * 4;
    const f = this.fallbackFraction
      ?? (this.backend.name !== 'native' ? 1 / 2 : bytes <= CACHE_BYTES ? NATIVE_FALLBACK_IN_CACHE : NATIVE_FALLBACK_STREAMING);
    return Math.max(64, f * this.list.size);
  }

  private kernels(): Required<Pick<Backend, 'mihKnn' | 'mihRange'>> {
    const be = this.backend;
    return be.mihKnn && be.mihRange ? be as Required<Backend> : getJsBackend();
  }

  search(queries: PackedCodes, k: number, opts: SearchOptions = {}): SearchHits[] {
    checkK(k);
    this.list.checkQueries(queries, 'search');
    const maxD = opts.maxDistance;
    if (maxD !== undefined) checkRadius(maxD, 'search: maxDistance');
    const n = this.list.size, nq = queries.count;
    if (k >= n || k > MAX_PROBE_K) {
      // the probe would have to see (nearly) everything: the scan is the right tool
      this.fallbacks += nq;
      return scanKnn(this.backend, this.list, queries, k, maxD);
    }
    const tables = this.build();
    const ids = new Int32Array(nq * k), dist = new Int32Array(nq * k), count = new Int32Array(nq);
    this.kernels().mihKnn(tables, queries.data, nq, k, Math.min(maxD ?? this.bits, this.bits), this.budget(), ids, dist, count);
    const out: SearchHits[] = [];
    for (let q = 0; q < nq; q++) {
      const c = count[q]!;
      if (c < 0) {
        this.fallbacks++;
        out.push(scanKnn(this.backend, this.list, queries.slice(q, q + 1), k, maxD)[0]!);
        continue;
      }
      const hitIds = new Array<string>(c);
      for (let i = 0; i < c; i++) hitIds[i] = this.list.idAt(ids[q * k + i]!);
      out.push({ ids: hitIds, distances: dist.slice(q * k, q * k + c) });
    }
    return out;
  }

  rangeSearch(queries: PackedCodes, r: number): SearchHits[] {
    checkRadius(r);
    this.list.checkQueries(queries, 'rangeSearch');
    const tables = this.build(), kernels = this.kernels(), s = queries.stride, budget = this.budget();
    const out: SearchHits[] = [];
    for (let q = 0; q < queries.count; q++) {
      const res = kernels.mihRange(tables, queries.data.subarray(q * s, (q + 1) * s), Math.min(r, this.bits), budget);
      if (res === null) {
        this.fallbacks++;
        out.push(scanRange(this.backend, this.list, queries.slice(q, q + 1), r)[0]!);
        continue;
      }
      const hitIds = new Array<string>(res.ids.length);
      for (let i = 0; i < res.ids.length; i++) hitIds[i] = this.list.idAt(res.ids[i]!);
      out.push({ ids: hitIds, distances: res.dist });
    }
    return out;
  }
}
