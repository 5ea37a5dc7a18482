// Multi-index hashing (Norouzi, Punjani, Fleet, "Fast Search in Hamming Space with Multi-Index
// Hashing", CVPR 2012): codes are cut into m disjoint substrings, each with its own table from
// substring value to the positions holding it. Pigeonhole: if two codes differ in d bits, some
// substring differs in <= floor(d/m) bits. Finer (the paper's argument): once every table has been
// probed at substring radius ρ−1 and the first a tables at radius ρ, every code within full
// distance m·ρ + a − 1 has been seen. k-NN grows ρ until k candidates lie within that guaranteed
// radius — so the answer is exact, and equal to FlatIndex's, ties by insertion order included.
//
// Choices: m = round(bits / log2 N) by default (the paper's recommendation), at least
// ceil(bits/32) so a substring fits a uint32; tables are built lazily on the first search after a
// change (O(N) counting sort). When a query's probes and candidates exceed a fraction of N (far
// neighbours, e.g. uniformly random codes), it falls back to the exact scan, which is cheaper there.
import type { Backend } from '../tensor/backend.js';
import { getBackend } from '../tensor/backends.js';
import { popcount32 } from '../tensor/backend-js.js';
import type { PackedCodes } from './codes.js';
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
   * Fall back to a full scan once a query's work (probes + candidates) exceeds this fraction of N.
   * Default 1/32 with the native backend (its scan is very fast), 1/2 with the portable one.
   */
  scanFallback?: number;
}

/** The paper's default: substrings of about log2 N bits. */
export function defaultSubstrings(bits: number, n: number): number {
  const ideal = Math.round(bits / Math.log2(Math.max(n, 2)));
  return Math.min(bits, Math.max(Math.ceil(bits / 32), ideal, 1));
}

/** Substring value of `len` bits starting at bit `off` of the code at `base` (len <= 32). */
function extract(data: Uint32Array, base: number, off: number, len: number): number {
  const wi = off >>> 5, sh = off & 31;
  let v = data[base + wi]! >>> sh;
  if (sh + len > 32) v |= data[base + wi + 1]! << (32 - sh);
  return len === 32 ? v >>> 0 : (v & ((1 << len) - 1)) >>> 0;
}

class SubstringTable {
  /** Bucket b holds items[starts[b] .. starts[b+1]) in position order. */
  starts!: Uint32Array;
  items!: Int32Array;
  /** Codes in bucket order (items[j]'s code at j·stride): a probe reads them sequentially. */
  codes!: Uint32Array;
  private slots: Int32Array | null = null; // hashed tables: key index per slot, -1 empty
  private keys: Uint32Array | null = null;
  private shift = 0;

  constructor(readonly offset: number, readonly length: number) {}

  build(data: Uint32Array, n: number, stride: number): void {
    this.buildBuckets(data, n, stride);
    const codes = new Uint32Array(n * stride), items = this.items;
    for (let j = 0; j < n; j++) { const p = items[j]!; for (let w = 0; w < stride; w++) codes[j * stride + w] = data[p * stride + w]!; }
    this.codes = codes;
  }

  private buildBuckets(data: Uint32Array, n: number, stride: number): void {
    const vals = new Uint32Array(n);
    for (let p = 0; p < n; p++) vals[p] = extract(data, p * stride, this.offset, this.length);
    const direct = this.length <= 24 && 2 ** this.length <= Math.max(4 * n, 1 << 16);
    if (direct) {
      const starts = new Uint32Array(2 ** this.length + 1);
      for (let p = 0; p < n; p++) starts[vals[p]! + 1]!++;
      for (let v = 1; v < starts.length; v++) starts[v]! += starts[v - 1]!;
      const items = new Int32Array(n), fill = starts.slice(0, starts.length - 1);
      for (let p = 0; p < n; p++) items[fill[vals[p]!]!++] = p;
      this.starts = starts; this.items = items; this.slots = null; this.keys = null;
      return;
    }
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
    const keys: number[] = [], starts: number[] = [];
    for (let i = 0; i < n; i++) {
      const v = vals[order[i]!]!;
      if (i === 0 || v !== keys[keys.length - 1]) { keys.push(v); starts.push(i); }
    }
    starts.push(n);
    let logCap = 1;
    while ((1 << logCap) < 2 * keys.length) logCap++;
    const slots = new Int32Array(1 << logCap).fill(-1), mask = (1 << logCap) - 1;
    this.shift = 32 - logCap;
    for (let b = 0; b < keys.length; b++) {
      let s = Math.imul(keys[b]!, 0x9e3779b1) >>> this.shift;
      while (slots[s] !== -1) s = (s + 1) & mask;
      slots[s] = b;
    }
    this.keys = Uint32Array.from(keys); this.starts = Uint32Array.from(starts);
    this.items = order; this.slots = slots;
  }

  /** Bucket index for a substring value, or -1 when no code has it. */
  bucket(v: number): number {
    const slots = this.slots;
    if (slots === null) return this.starts[v + 1]! > this.starts[v]! ? v : -1;
    const mask = slots.length - 1, keys = this.keys!;
    let s = Math.imul(v, 0x9e3779b1) >>> this.shift;
    for (;;) {
      const b = slots[s]!;
      if (b === -1) return -1;
      if (keys[b] === v) return b;
      s = (s + 1) & mask;
    }
  }
}

/** All masks of `len` bits with exactly `rho` bits set (cached; callers bound the size). */
const maskCache = new Map<string, Uint32Array>();
function masksOfWeight(len: number, rho: number): Uint32Array {
  const key = `${len}:${rho}`;
  let out = maskCache.get(key);
  if (out) return out;
  out = new Uint32Array(binomial(len, rho));
  let k = 0;
  const idx = Array.from({ length: rho }, (_, i) => i);
  if (rho === 0) out[k++] = 0;
  else for (;;) {
    let m = 0;
    for (const i of idx) m |= 1 << i;
    out[k++] = m >>> 0;
    let t = rho - 1;
    while (t >= 0 && idx[t] === len - rho + t) t--;
    if (t < 0) break;
    idx[t]!++;
    for (let u = t + 1; u < rho; u++) idx[u] = idx[u - 1]! + 1;
  }
  if (maskCache.size > 256) maskCache.clear();
  maskCache.set(key, out);
  return out;
}

function binomial(n: number, k: number): number {
  if (k < 0 || k > n) return 0;
  let r = 1;
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
  return Math.round(r);
}

class FallBack extends Error {}

export class MultiIndex implements CodeIndex {
  readonly kind = 'multi' as const;
  protected list: CodeList;
  private requestedM: number | undefined;
  private tables: SubstringTable[] = [];
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
  get m(): number { return this.tables.length || this.requestedM || defaultSubstrings(this.bits, this.size); }
  /** The m given at construction (undefined = chosen from N). */
  get requestedSubstrings(): number | undefined { return this.requestedM; }
  add(ids: readonly string[], codes: PackedCodes): void { this.list.add(ids, codes); }
  remove(ids: readonly string[]): number { return this.list.remove(ids); }
  /** Bulk load of ids known valid and unique (see CodeList.addTrusted). */
  addTrusted(ids: string[], codes: PackedCodes): void { this.list.addTrusted(ids, codes); }
  has(id: string): boolean { return this.list.has(id); }
  ids(): string[] { return this.list.ids(); }
  codes(): PackedCodes { return this.list.codes(); }
  save(path: string): void { saveIndexFile(path, this); }

  /** Builds the substring tables now (otherwise done by the first search after a change). */
  build(): void {
    if (this.builtVersion === this.list.version) return;
    const n = this.list.size, m = this.requestedM ?? defaultSubstrings(this.bits, n);
    const base = Math.floor(this.bits / m), extra = this.bits % m;
    this.tables = [];
    let off = 0;
    for (let t = 0; t < m; t++) {
      const len = base + (t < extra ? 1 : 0);
      const table = new SubstringTable(off, len);
      table.build(this.list.data, n, this.list.stride);
      this.tables.push(table);
      off += len;
    }
    this.builtVersion = this.list.version;
  }

  private budget(): number {
    const f = this.fallbackFraction ?? (this.backend.name === 'native' ? 1 / 32 : 1 / 2);
    return Math.max(64, f * this.list.size);
  }

  search(queries: PackedCodes, k: number, opts: SearchOptions = {}): SearchHits[] {
    checkK(k);
    this.list.checkQueries(queries, 'search');
    const maxD = opts.maxDistance;
    if (maxD !== undefined) checkRadius(maxD, 'search: maxDistance');
    this.build();
    const out: SearchHits[] = [];
    for (let q = 0; q < queries.count; q++) {
      const one = queries.count === 1 ? queries : queries.slice(q, q + 1);
      try { out.push(this.knnOne(one, k, maxD)); } catch (e) {
        if (!(e instanceof FallBack)) throw e;
        this.fallbacks++;
        out.push(scanKnn(this.backend, this.list, one, k, maxD)[0]!);
      }
    }
    return out;
  }

  rangeSearch(queries: PackedCodes, r: number): SearchHits[] {
    checkRadius(r);
    this.list.checkQueries(queries, 'rangeSearch');
    this.build();
    const out: SearchHits[] = [];
    for (let q = 0; q < queries.count; q++) {
      const one = queries.count === 1 ? queries : queries.slice(q, q + 1);
      try { out.push(this.rangeOne(one, r)); } catch (e) {
        if (!(e instanceof FallBack)) throw e;
        this.fallbacks++;
        out.push(scanRange(this.backend, this.list, one, r)[0]!);
      }
    }
    return out;
  }

  /**
   * Probes every table at substring radius ρ = 0, 1, ... (table by table), collecting unseen
   * candidates with their full distances, until `done(R)` says the guaranteed radius R suffices.
   */
  private probe(query: PackedCodes, maxRho: number, done: (guaranteed: number) => boolean,
    visit: (p: number, d: number) => void): void {
    const n = this.list.size, tables = this.tables, m = tables.length;
    if (n === 0) return;
    const db = this.list.data, stride = this.list.stride, qd = query.data;
    const qv = tables.map((t) => extract(qd, 0, t.offset, t.length));
    const budget = this.budget(), xor = new Uint32Array(stride);
    let work = 0;
    for (let rho = 0; rho <= maxRho; rho++) {
      for (let a = 0; a < m; a++) {
        const t = tables[a]!;
        if (rho <= t.length) {
          const count = binomial(t.length, rho);
          if (work + count > budget) throw new FallBack();
          const masks = masksOfWeight(t.length, rho), base = qv[a]!;
          const starts = t.starts, items = t.items, tc = t.codes;
          for (let i = 0; i < masks.length; i++) {
            const b = t.bucket((base ^ masks[i]!) >>> 0);
            if (b < 0) continue;
            const s = starts[b]!, e = starts[b + 1]!;
            work += e - s;
            for (let j = s; j < e; j++) {
              const o = j * stride;
              for (let w = 0; w < stride; w++) xor[w] = qd[w]! ^ tc[o + w]!;
              // seen before? Tables before `a` were probed up to radius rho, tables after it up to
              // rho − 1: a code was found already iff one of them has its substring that close.
              // (This replaces a visited bitmap: no random memory access per candidate.)
              let seen = false;
              for (let b2 = 0; b2 < m; b2++) {
                if (b2 === a) continue;
                const u = tables[b2]!, sd = popcount32(extract(xor, 0, u.offset, u.length));
                if (b2 < a ? sd <= rho : sd < rho) { seen = true; break; }
              }
              if (seen) continue;
              let d = 0;
              for (let w = 0; w < stride; w++) d += popcount32(xor[w]!);
              visit(items[j]!, d);
            }
          }
          work += masks.length;
          if (work > budget) throw new FallBack();
        }
        if (done(m * rho + a)) return;
      }
    }
  }

  private knnOne(query: PackedCodes, k: number, maxD: number | undefined): SearchHits {
    const n = this.list.size, bits = this.bits, limitD = Math.min(maxD ?? bits, bits);
    const hist = new Int32Array(bits + 1);
    let candPos = new Int32Array(64), candDist = new Int32Array(64), nc = 0;
    let kth = -1; // distance of the k-th nearest once known
    this.probe(query, bits, (R) => {
      const lim = Math.min(R, limitD);
      let cum = 0;
      for (let d = 0; d <= lim; d++) { cum += hist[d]!; if (cum >= k) { kth = d; return true; } }
      return R >= limitD || nc === n;
    }, (p, d) => {
      if (d > limitD) return;
      if (nc === candPos.length) {
        const a = new Int32Array(nc * 2); a.set(candPos); candPos = a;
        const b = new Int32Array(nc * 2); b.set(candDist); candDist = b;
      }
      candPos[nc] = p; candDist[nc++] = d; hist[d]!++;
    });
    const cut = kth >= 0 ? kth : limitD;
    let sel = 0;
    for (let i = 0; i < nc; i++) if (candDist[i]! <= cut) sel++;
    const keys = new Float64Array(sel);
    for (let i = 0, j = 0; i < nc; i++) if (candDist[i]! <= cut) keys[j++] = candDist[i]! * n + candPos[i]!;
    keys.sort();
    const m = Math.min(k, sel), ids = new Array<string>(m), distances = new Int32Array(m);
    for (let i = 0; i < m; i++) {
      const d = Math.floor(keys[i]! / n);
      distances[i] = d; ids[i] = this.list.idAt(keys[i]! - d * n);
    }
    return { ids, distances };
  }

  private rangeOne(query: PackedCodes, r: number): SearchHits {
    const m = this.tables.length, lim = Math.min(r, this.bits);
    const pos: number[] = [];
    const dist = new Map<number, number>();
    // radius floor(r/m) in every table guarantees m·floor(r/m) + m − 1 >= r
    this.probe(query, Math.floor(lim / m), (R) => R >= lim, (p, d) => { if (d <= lim) { pos.push(p); dist.set(p, d); } });
    const sorted = Int32Array.from(pos).sort();
    const ids = new Array<string>(sorted.length), distances = new Int32Array(sorted.length);
    for (let i = 0; i < sorted.length; i++) { ids[i] = this.list.idAt(sorted[i]!); distances[i] = dist.get(sorted[i]!)!; }
    return { ids, distances };
  }
}
