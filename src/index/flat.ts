// Exact search by scanning every code (XOR + popcount) with the backend's fused bounded top-k.
// O(N) per query; the reference every other index must agree with.
import type { Backend } from '../tensor/backend.js';
import { getBackend } from '../tensor/backends.js';
import type { PackedCodes } from '../codes/packed-codes.js';
import type { CodeIndex, SearchHits, SearchOptions } from './code-index.js';
import { CodeList, checkK, checkRadius } from './code-list.js';
import { saveIndexFile } from './index-file.js';

export interface FlatIndexOptions {
  /** Kernel backend (default: the active one). The benchmark passes the portable one explicitly. */
  backend?: Backend;
}

export class FlatIndex implements CodeIndex {
  readonly kind = 'flat' as const;
  protected list: CodeList;
  private backendOverride: Backend | undefined;

  constructor(readonly bits: number, opts: FlatIndexOptions = {}) {
    this.list = new CodeList(bits);
    this.backendOverride = opts.backend;
  }

  get size(): number { return this.list.size; }
  get backend(): Backend { return this.backendOverride ?? getBackend(); }
  add(ids: readonly string[], codes: PackedCodes): void { this.list.add(ids, codes); }
  remove(ids: readonly string[]): number { return this.list.remove(ids); }
  /** Bulk load of ids known valid and unique (see CodeList.addTrusted). */
  addTrusted(ids: readonly string[], codes: PackedCodes): void { this.list.addTrusted(ids, codes); }
  has(id: string): boolean { return this.list.has(id); }
  ids(): string[] { return this.list.ids(); }
  codes(): PackedCodes { return this.list.codes(); }

  search(queries: PackedCodes, k: number, opts: SearchOptions = {}): SearchHits[] {
    checkK(k);
    this.list.checkQueries(queries, 'search');
    const maxD = opts.maxDistance;
    if (maxD !== undefined) checkRadius(maxD, 'search: maxDistance');
    return scanKnn(this.backend, this.list, queries, k, maxD);
  }

  rangeSearch(queries: PackedCodes, r: number): SearchHits[] {
    checkRadius(r);
    this.list.checkQueries(queries, 'rangeSearch');
    return scanRange(this.backend, this.list, queries, r);
  }

  save(path: string): void { saveIndexFile(path, this); }
}

/** k-NN by full scan (also MultiIndex's fallback when a query would touch most of the data). */
export function scanKnn(be: Backend, list: CodeList, queries: PackedCodes, k: number, maxD?: number): SearchHits[] {
  const n = list.size, kk = Math.min(k, n), nq = queries.count, s = queries.stride;
  const out: SearchHits[] = [];
  if (kk === 0) { for (let q = 0; q < nq; q++) out.push({ ids: [], distances: new Int32Array(0) }); return out; }
  const ids = new Int32Array(kk), dist = new Int32Array(kk), db = list.data;
  for (let q = 0; q < nq; q++) {
    // one query per kernel call keeps the buffers small; batching is a loop here
    be.hammingKnn(queries.data.subarray(q * s, (q + 1) * s), 1, db, n, list.words64, kk, ids, dist);
    let m = kk;
    if (maxD !== undefined) { m = 0; while (m < kk && dist[m]! <= maxD) m++; }
    const hitIds = new Array<string>(m);
    for (let i = 0; i < m; i++) hitIds[i] = list.idAt(ids[i]!);
    out.push({ ids: hitIds, distances: dist.slice(0, m) });
  }
  return out;
}

export function scanRange(be: Backend, list: CodeList, queries: PackedCodes, r: number): SearchHits[] {
  const out: SearchHits[] = [], s = queries.stride;
  for (let q = 0; q < queries.count; q++) {
    const res = be.hammingRange(queries.data.subarray(q * s, (q + 1) * s), list.data, list.size, list.words64, r);
    const hitIds = new Array<string>(res.ids.length);
    for (let i = 0; i < res.ids.length; i++) hitIds[i] = list.idAt(res.ids[i]!);
    out.push({ ids: hitIds, distances: res.dist });
  }
  return out;
}
