// The portable backend: TypeScript kernels, always available (selected when the addon cannot load
// or with CMHASH_BACKEND=js). Tests check it, like the native one, against the plain references in
// test/kernels/reference.ts.
import type { AdamStepParams, Backend, MihTables, RankingBlock } from './backend.js';
import { extractBits, popcount32 } from '../util/bits.js';

export class JsBackend implements Backend {
  readonly name = 'js' as const;
  readonly variant = 'typescript';

  sgemm(transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number,
    a: Float32Array, lda: number, b: Float32Array, ldb: number, beta: number, c: Float32Array, ldc: number): void {
    checkGemmArgs(transA, transB, m, n, k, alpha, a, lda, b, ldb, c, ldc);
    for (let i = 0; i < m; i++) {
      const ci = i * ldc;
      if (beta === 0) c.fill(0, ci, ci + n);
      else if (beta !== 1) for (let j = 0; j < n; j++) c[ci + j]! *= beta;
    }
    if (alpha === 0 || k === 0 || m === 0 || n === 0) return;
    // Blocked over k; op(A) and op(B) are packed into 4-wide panels (all transposes handled by the
    // packing), and a 4×4 tile is accumulated in 16 locals (V8 keeps them in registers) — about
    // 8× faster than a plain triple loop.
    const mp = (m + 3) & ~3, np = (n + 3) & ~3;
    const kcMax = Math.min(KC, k);
    const ap = scratch(0, mp * kcMax), bp = scratch(1, np * kcMax);
    for (let p0 = 0; p0 < k; p0 += KC) {
      const kc = Math.min(KC, k - p0);
      packPanels(transA, a, lda, m, p0, kc, ap);
      packPanels(!transB, b, ldb, n, p0, kc, bp);
      for (let i = 0; i < m; i += 4) {
        const mr = Math.min(4, m - i);
        for (let j = 0; j < n; j += 4) {
          let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
          let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
          let ao = i * kc, bo = j * kc;
          for (let p = 0; p < kc; p++, ao += 4, bo += 4) {
            const a0 = ap[ao]!, a1 = ap[ao + 1]!, a2 = ap[ao + 2]!, a3 = ap[ao + 3]!;
            const b0 = bp[bo]!, b1 = bp[bo + 1]!, b2 = bp[bo + 2]!, b3 = bp[bo + 3]!;
            c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
            c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
            c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
            c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
          }
          const nr = Math.min(4, n - j);
          if (mr === 4 && nr === 4) {
            let o = i * ldc + j;
            c[o] += alpha * c00; c[o + 1] += alpha * c01; c[o + 2] += alpha * c02; c[o + 3] += alpha * c03; o += ldc;
            c[o] += alpha * c10; c[o + 1] += alpha * c11; c[o + 2] += alpha * c12; c[o + 3] += alpha * c13; o += ldc;
            c[o] += alpha * c20; c[o + 1] += alpha * c21; c[o + 2] += alpha * c22; c[o + 3] += alpha * c23; o += ldc;
            c[o] += alpha * c30; c[o + 1] += alpha * c31; c[o + 2] += alpha * c32; c[o + 3] += alpha * c33;
          } else {
            const t = [c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33];
            for (let r = 0; r < mr; r++) for (let q = 0; q < nr; q++) c[(i + r) * ldc + j + q] += alpha * t[r * 4 + q]!;
          }
        }
      }
    }
  }

  /**
   * The reference: the gradient a block of rows at a time (at most ~1M floats, so a large weight
   * does not cost a gradient-sized allocation per step), each block then one Adam pass.
   */
  gemmAdam(transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number, a: Float32Array, lda: number,
    b: Float32Array, ldb: number, x: Float32Array, mState: Float32Array, vState: Float32Array, p: AdamStepParams): void {
    const rows = Math.max(1, Math.min(m, Math.floor((1 << 20) / Math.max(1, n))));
    const g = new Float32Array(rows * n);
    for (let r0 = 0; r0 < m; r0 += rows) {
      const r = Math.min(rows, m - r0), o = r0 * n;
      // rows r0.. of op(A): columns r0.. of a stored-transposed A, rows r0.. otherwise
      this.sgemm(transA, transB, r, n, k, alpha, transA ? a.subarray(r0) : a.subarray(r0 * lda), lda, b, ldb, 0, g, n);
      this.adamStep(x.subarray(o, o + r * n), g, mState.subarray(o, o + r * n), vState.subarray(o, o + r * n), r * n, p);
    }
  }

  adamStep(x: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, n: number, p: AdamStepParams): void {
    const { b1, b2, stepSize, invSqrtC2, eps, wd, lrWd, decoupled } = p;
    for (let i = 0; i < n; i++) {
      let gi = g[i]!;
      if (decoupled) x[i]! -= lrWd * x[i]!;
      else gi += wd * x[i]!;
      const mi = b1 * m[i]! + (1 - b1) * gi;
      const vi = b2 * v[i]! + (1 - b2) * gi * gi;
      m[i] = mi; v[i] = vi;
      x[i]! -= stepSize * mi / (Math.sqrt(vi) * invSqrtC2 + eps);
    }
  }

  relu(x: Float32Array, y: Float32Array, n: number): void {
    for (let i = 0; i < n; i++) { const v = x[i]!; y[i] = v > 0 ? v : 0; }
  }

  reluBackward(x: Float32Array, g: Float32Array, ga: Float32Array, n: number): void {
    for (let i = 0; i < n; i++) if (x[i]! > 0) ga[i]! += g[i]!;
  }

  reluMask(y: Float32Array, g: Float32Array, n: number): void {
    for (let i = 0; i < n; i++) g[i] = 0 + (y[i]! > 0 ? g[i]! : 0);
  }

  addColumnSums(dst: Float32Array, g: Float32Array, rows: number, cols: number): void {
    for (let i = 0; i < rows; i++) { const o = i * cols; for (let j = 0; j < cols; j++) dst[j]! += g[o + j]!; }
  }

  dot(a: Float32Array, b: Float32Array, n: number): number {
    let s = 0;
    for (let i = 0; i < n; i++) s += a[i]! * b[i]!;
    return s;
  }

  dots(a: Float32Array, bs: readonly Float32Array[], n: number, out: Float64Array): void {
    for (let j = 0; j < bs.length; j++) out[j] = this.dot(a, bs[j]!, n);
  }

  axpy(y: Float32Array, s: number, x: Float32Array, n: number): void {
    for (let i = 0; i < n; i++) y[i] = y[i]! + s * x[i]!;
  }

  setThreads(_n: number): void { /* single-threaded */ }
  getThreads(): number { return 1; }

  hammingDistances(query: Uint32Array, db: Uint32Array, n: number, words64: number, out: Uint16Array): void {
    const w = 2 * words64;
    for (let i = 0; i < n; i++) {
      let d = 0;
      const o = i * w;
      for (let j = 0; j < w; j++) d += popcount32(query[j]! ^ db[o + j]!);
      out[i] = d;
    }
  }

  hammingKnn(queries: Uint32Array, nq: number, db: Uint32Array, n: number, words64: number, k: number,
    outIds: Int32Array, outDist: Int32Array): void {
    if (!(k >= 1) || !Number.isInteger(k)) throw new RangeError(`k must be an integer >= 1, got ${k}`);
    const w = 2 * words64;
    if (words64 === 1 && k <= 64) {
      for (let q = 0; q < nq; q++) knn64Fused(queries[2 * q]!, queries[2 * q + 1]!, db, n, k, outIds, outDist, q * k);
      return;
    }
    const maxD = 64 * words64;
    const dist = new Uint16Array(n);
    const counts = new Int32Array(maxD + 2);
    for (let q = 0; q < nq; q++) {
      const query = queries.subarray(q * w, q * w + w);
      this.hammingDistances(query, db, n, words64, dist);
      // counting sort on distance, stable by position; only the first k are kept
      counts.fill(0);
      for (let i = 0; i < n; i++) counts[dist[i]! + 1]!++;
      let cutoff = 0, acc = 0;
      while (cutoff <= maxD && acc + counts[cutoff + 1]! < k) { acc += counts[cutoff + 1]!; cutoff++; }
      for (let d = 1; d <= maxD + 1; d++) counts[d]! += counts[d - 1]!;
      const base = q * k;
      outIds.fill(-1, base, base + k); outDist.fill(-1, base, base + k);
      for (let i = 0; i < n; i++) {
        const d = dist[i]!;
        if (d > cutoff) continue;
        const slot = counts[d]!;
        if (slot < k) { outIds[base + slot] = i; outDist[base + slot] = d; }
        counts[d]!++;
      }
    }
  }

  hammingRange(query: Uint32Array, db: Uint32Array, n: number, words64: number, r: number): { ids: Int32Array; dist: Int32Array } {
    const dist = new Uint16Array(n);
    this.hammingDistances(query, db, n, words64, dist);
    let cnt = 0;
    for (let i = 0; i < n; i++) if (dist[i]! <= r) cnt++;
    const ids = new Int32Array(cnt), dd = new Int32Array(cnt);
    for (let i = 0, j = 0; i < n; i++) if (dist[i]! <= r) { ids[j] = i; dd[j++] = dist[i]!; }
    return { ids, dist: dd };
  }

  mihKnn(tables: MihTables, queries: Uint32Array, nq: number, k: number, maxDistance: number, budget: number,
    outIds: Int32Array, outDist: Int32Array, outCount: Int32Array): void {
    const s = 2 * tables.words64;
    for (let q = 0; q < nq; q++) outCount[q] = mihKnnOne(tables, queries.subarray(q * s, (q + 1) * s), k, maxDistance, budget, outIds, outDist, q * k);
  }

  mihRange(tables: MihTables, query: Uint32Array, r: number, budget: number): { ids: Int32Array; dist: Int32Array } | null {
    return mihRangeOne(tables, query, r, budget);
  }

  rankingBlock(b: RankingBlock): void { rankingBlockJs(b); }
}

// ---- multi-index hashing probe (the portable twin of src/native/mih_search.cc) ----
// Tables probed at substring radius ρ = 0, 1, ...; after table a at radius ρ every code within
// m·ρ + a has been seen (Norouzi et al.), so k-NN stops once the k-th best is within that radius.
// A candidate met in table a at radius ρ was met before iff a table probed earlier has its
// substring that close (tables < a within ρ, > a within ρ − 1): no visited bitmap needed, and only
// candidates that could enter the top-k are checked (one rejected before is rejected again).


/** All masks of `len` bits with exactly `rho` bits set (cached; callers bound the size by the budget). */
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

export function binomial(n: number, k: number): number {
  if (k < 0 || k > n) return 0;
  let r = 1;
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
  return Math.round(r);
}

/**
 * Work units of one bucket probe relative to one candidate (a probe is two dependent cache misses,
 * a candidate one sequential read): the budget that decides the scan fallback counts
 * candidates + MIH_PROBE_WORK · probes, here and in the native kernel alike.
 */
export const MIH_PROBE_WORK = 16;

/** Start of the bucket of substring value v in table t, or -1 when no code has it (end at starts[b+1]). */
function mihBucket(t: MihTables['tables'][number], v: number): number {
  const slots = t.slots;
  if (slots.length === 0) return t.starts[v + 1]! > t.starts[v]! ? v : -1;
  const mask = slots.length - 1, keys = t.keys;
  let s = Math.imul(v, 0x9e3779b1) >>> t.shift;
  for (;;) {
    const b = slots[s]!;
    if (b === -1) return -1;
    if (keys[b] === v) return b;
    s = (s + 1) & mask;
  }
}

/**
 * Probes the tables; onCandidate(codes, offset, position, a, rho) for every code of every probed
 * bucket, done(R) after each table with the guaranteed radius R. False when over budget (the
 * work — candidates + MIH_PROBE_WORK · probes — is counted exactly as the native kernel does).
 */
function mihProbe(T: MihTables, query: Uint32Array, maxRho: number, budget: number,
  onCandidate: (codes: Uint32Array, o: number, pos: number, a: number, rho: number) => void,
  done: (R: number) => boolean): boolean {
  const tables = T.tables, m = tables.length, stride = 2 * T.words64;
  const qv = tables.map((t) => extractBits(query, 0, t.offset, t.length));
  let work = 0;
  for (let rho = 0; rho <= maxRho; rho++) {
    for (let a = 0; a < m; a++) {
      const t = tables[a]!;
      if (rho <= t.length) {
        const probes = binomial(t.length, rho) * MIH_PROBE_WORK;
        if (work + probes > budget) return false;
        const masks = masksOfWeight(t.length, rho), base = qv[a]!, starts = t.starts, items = t.items, codes = t.codes;
        for (let i = 0; i < masks.length; i++) {
          const b = mihBucket(t, (base ^ masks[i]!) >>> 0);
          if (b < 0) continue;
          const s = starts[b]!, e = starts[b + 1]!;
          work += e - s;
          for (let j = s; j < e; j++) onCandidate(codes, j * stride, items[j]!, a, rho);
          if (work > budget) return false;
        }
        work += probes;
        if (work > budget) return false;
      }
      if (done(m * rho + a)) return true;
    }
  }
  return true;
}

function mihMaxLength(T: MihTables): number { let L = 0; for (const t of T.tables) L = Math.max(L, t.length); return L; }

/** Distance of query to the code at codes[o..] and, in `xor`, their XOR (stride words). */
function xorDistance(query: Uint32Array, codes: Uint32Array, o: number, stride: number, xor: Uint32Array): number {
  let d = 0;
  for (let w = 0; w < stride; w++) { const x = (query[w]! ^ codes[o + w]!) >>> 0; xor[w] = x; d += popcount32(x); }
  return d;
}

function seenBefore(T: MihTables, xor: Uint32Array, a: number, rho: number): boolean {
  const tables = T.tables;
  for (let b = 0; b < tables.length; b++) {
    if (b === a) continue;
    const u = tables[b]!, sd = popcount32(extractBits(xor, 0, u.offset, u.length));
    if (b < a ? sd <= rho : sd < rho) return true;
  }
  return false;
}

/** One query's multi-index k-NN into ids/dist[base..]: hit count, or -1 over budget. */
export function mihKnnOne(T: MihTables, query: Uint32Array, k: number, maxDistance: number, budget: number,
  ids: Int32Array, dist: Int32Array, base: number): number {
  if (T.n === 0 || T.tables.length === 0) return 0;
  const stride = 2 * T.words64, limitD = Math.min(maxDistance, 64 * T.words64), xor = new Uint32Array(stride);
  // sorted top-k by (distance, position) in tp/td; a candidate enters only below the k-th
  const tp = new Int32Array(k), td = new Int32Array(k);
  let cnt = 0;
  const ok = mihProbe(T, query, mihMaxLength(T), budget, (codes, o, pos, a, rho) => {
    const d = xorDistance(query, codes, o, stride, xor);
    if (d > limitD) return;
    if (cnt === k && (d > td[k - 1]! || (d === td[k - 1]! && pos >= tp[k - 1]!))) return;
    if (seenBefore(T, xor, a, rho)) return;
    let i = cnt < k ? cnt++ : k - 1;
    while (i > 0 && (td[i - 1]! > d || (td[i - 1]! === d && tp[i - 1]! > pos))) { td[i] = td[i - 1]!; tp[i] = tp[i - 1]!; i--; }
    td[i] = d; tp[i] = pos;
  }, (R) => (cnt === k && td[k - 1]! <= R) || R >= limitD);
  if (!ok) return -1;
  for (let i = 0; i < cnt; i++) { ids[base + i] = tp[i]!; dist[base + i] = td[i]!; }
  return cnt;
}

/** One query's multi-index range search (position order), or null over budget. */
export function mihRangeOne(T: MihTables, query: Uint32Array, r: number, budget: number): { ids: Int32Array; dist: Int32Array } | null {
  if (T.n === 0 || T.tables.length === 0) return { ids: new Int32Array(0), dist: new Int32Array(0) };
  const stride = 2 * T.words64, lim = Math.min(r, 64 * T.words64), m = T.tables.length, xor = new Uint32Array(stride);
  const pos: number[] = [], dd: number[] = [];
  // radius floor(r/m) in every table guarantees m·floor(r/m) + m − 1 >= r
  const ok = mihProbe(T, query, Math.floor(lim / m), budget, (codes, o, p, a, rho) => {
    const d = xorDistance(query, codes, o, stride, xor);
    if (d > lim || seenBefore(T, xor, a, rho)) return;
    pos.push(p); dd.push(d);
  }, (R) => R >= lim);
  if (!ok) return null;
  const order = Array.from(pos.keys()).sort((x, y) => pos[x]! - pos[y]!);
  return { ids: Int32Array.from(order, (i) => pos[i]!), dist: Int32Array.from(order, (i) => dd[i]!) };
}

// ---- fused ranking metrics (the portable twin of src/native/eval_ap.cc) ----
// Pass 1: key = 2·distance + relevant per item and its histogram (the counting sort's buckets);
// pass 2: items in database order, each taking the next slot of its distance bucket — exactly its
// rank under a stable counting sort by (distance, index). Sums accumulate in database order with
// the same operations as the native kernel, so both give bit-identical results.
export function rankingBlockJs(b: RankingBlock): void {
  const { n, bits, labelWords: L, topK, cutoffs } = b;
  const stride = 2 * b.words64, H = 2 * (bits + 1), T = topK.length, S = cutoffs.length;
  const keys = new Uint16Array(n), cursor = new Int32Array(bits + 1), relCursor = new Int32Array(bits + 1);
  const db = b.db, dl = b.dLabels;
  for (let q = 0; q < b.nq; q++) {
    const h2 = b.hist.subarray(q * H, (q + 1) * H);
    h2.fill(0);
    const qo = q * stride;
    if (stride === 2 && L === 1) {
      const q0 = b.queries[qo]!, q1 = b.queries[qo + 1]!, qm = b.qLabels[q]!;
      for (let i = 0; i < n; i++) {
        const key = ((popcount32(db[2 * i]! ^ q0) + popcount32(db[2 * i + 1]! ^ q1)) << 1) | ((qm & dl[i]!) !== 0 ? 1 : 0);
        keys[i] = key; h2[key]!++;
      }
    } else {
      for (let i = 0; i < n; i++) {
        let d = 0, any = 0;
        for (let w = 0; w < stride; w++) d += popcount32(b.queries[qo + w]! ^ db[i * stride + w]!);
        for (let w = 0; w < L; w++) any |= b.qLabels[q * L + w]! & dl[i * L + w]!;
        const key = (d << 1) | (any !== 0 ? 1 : 0);
        keys[i] = key; h2[key]!++;
      }
    }
    let cum = 0, cumRel = 0;
    for (let d = 0; d <= bits; d++) {
      cursor[d] = cum; relCursor[d] = cumRel;
      cum += h2[2 * d]! + h2[2 * d + 1]!; cumRel += h2[2 * d + 1]!;
    }
    b.apKSum.fill(0, q * T, (q + 1) * T); b.relInK.fill(0, q * T, (q + 1) * T); b.relAtCut.fill(0, q * S, (q + 1) * S);
    let ap = 0;
    if (cumRel > 0) {
      for (let i = 0; i < n; i++) {
        const key = keys[i]!, d = key >>> 1;
        if (h2[key | 1] === 0) continue; // no relevant item at this distance: its ranks do not matter
        const pos = cursor[d]!++;
        if ((key & 1) === 0) continue;
        const rr = ++relCursor[d]!;
        const prec = rr / (pos + 1);
        ap += prec;
        for (let t = 0; t < T; t++) if (pos < topK[t]!) { b.apKSum[q * T + t]! += prec; b.relInK[q * T + t]!++; }
        for (let s = 0; s < S; s++) if (pos < cutoffs[s]!) b.relAtCut[q * S + s]!++;
      }
    }
    b.apSum[q] = ap;
  }
}

/**
 * 64-bit codes, small k: one pass with a bounded sorted top-k; a code enters only with a distance
 * strictly below the current k-th (positions arrive in order, so ties keep the earlier one).
 */
function knn64Fused(q0: number, q1: number, db: Uint32Array, n: number, k: number, ids: Int32Array, dist: Int32Array, base: number): void {
  let count = 0, bound = 65;
  for (let i = 0; i < n; i++) {
    const d = popcount32(db[2 * i]! ^ q0) + popcount32(db[2 * i + 1]! ^ q1);
    if (d >= bound) continue;
    let pos = count < k ? count++ : k - 1;
    while (pos > 0 && dist[base + pos - 1]! > d) { dist[base + pos] = dist[base + pos - 1]!; ids[base + pos] = ids[base + pos - 1]!; pos--; }
    dist[base + pos] = d; ids[base + pos] = i;
    if (count === k) bound = dist[base + k - 1]!;
  }
  for (let s = count; s < k; s++) { ids[base + s] = -1; dist[base + s] = -1; }
}

const KC = 256;
const scratchBufs: Float32Array[] = [new Float32Array(0), new Float32Array(0)];
function scratch(which: number, size: number): Float32Array {
  if (scratchBufs[which]!.length < size) scratchBufs[which] = new Float32Array(size);
  return scratchBufs[which]!;
}

/**
 * Packs rows [0, rows) × k-columns [p0, p0+kc) of a logical matrix X (X[r][p] = src[r*ld + p], or
 * src[p*ld + r] when `stored transposed`) into 4-row panels laid out [panel][p][4], zero-padded.
 * op(A) is such an X directly; op(B)ᵀ is one too (so B is packed with the flag inverted).
 */
function packPanels(transposed: boolean, src: Float32Array, ld: number, rows: number, p0: number, kc: number, out: Float32Array): void {
  for (let r0 = 0; r0 < rows; r0 += 4) {
    const base = r0 * kc;
    for (let q = 0; q < 4; q++) {
      const r = r0 + q;
      if (r >= rows) { for (let p = 0; p < kc; p++) out[base + p * 4 + q] = 0; continue; }
      if (transposed) for (let p = 0; p < kc; p++) out[base + p * 4 + q] = src[(p0 + p) * ld + r]!;
      else { const o = r * ld + p0; for (let p = 0; p < kc; p++) out[base + p * 4 + q] = src[o + p]!; }
    }
  }
}

/** Throws a RangeError when an operand is too small for its shape and leading dimension. */
export function checkGemmArgs(transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number,
  a: Float32Array, lda: number, b: Float32Array, ldb: number, c: Float32Array, ldc: number): void {
  const check = (name: string, len: number, rows: number, cols: number, ld: number) => {
    if (rows === 0 || cols === 0) return;
    if (ld < cols) throw new RangeError(`sgemm ${name}: leading dimension ${ld} < row length ${cols}`);
    const need = (rows - 1) * ld + cols;
    if (len < need) throw new RangeError(`sgemm ${name}: ${rows}x${cols} with stride ${ld} needs ${need} elements, array has ${len}`);
  };
  for (const [nm, v] of [['m', m], ['n', n], ['k', k]] as const) {
    if (!Number.isInteger(v) || v < 0) throw new RangeError(`sgemm: ${nm} must be a non-negative integer, got ${v}`);
  }
  if (k > 0 && alpha !== 0) {
    check(transA ? 'A (stored k x m)' : 'A (m x k)', a.length, transA ? k : m, transA ? m : k, lda);
    check(transB ? 'B (stored n x k)' : 'B (k x n)', b.length, transB ? n : k, transB ? k : n, ldb);
  }
  check('C (m x n)', c.length, m, n, ldc);
}
