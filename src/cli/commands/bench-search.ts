// `cmhash bench search`: per-query k-NN latency of FlatIndex (active backend, 1 thread),
// MultiIndex and the portable scan, on random and class-clustered codes, plus the time of one
// streaming read of the same bytes (the memory-bandwidth floor for any full scan).
import type { Command } from 'commander';
import { getBackend, getJsBackend } from '../../tensor/backends.js';
import { PackedCodes } from '../../codes/packed-codes.js';
import { randomCodes } from '../../index/random-codes.js';
import { FlatIndex } from '../../index/flat.js';
import { MultiIndex } from '../../index/multi-index.js';
import type { CodeIndex } from '../../index/code-index.js';
import { Rng } from '../../util/rng.js';
import { InputError } from '../../util/errors.js';
import { Output } from '../output.js';

interface Opts { n: string; bits: string; k: string; queries: string; json?: boolean; seed: string; flip: string }

function positiveInt(v: string, what: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InputError(`bench search: --${what} must be a positive integer, got ${v}`);
  return n;
}

/** A random word whose bits are set with probability 2^-ands (AND of `ands` uniform words). */
function noiseWord(rng: Rng, ands: number): number {
  let w = 0xffffffff;
  for (let a = 0; a < ands; a++) w &= rng.nextU32();
  return w >>> 0;
}

/** `classes` random centres; each code is a centre with each bit flipped with probability 2^-ands. */
export function clusteredBenchCodes(rng: Rng, n: number, bits: number, classes = 100, ands = 4): { codes: PackedCodes; centers: PackedCodes } {
  const centers = randomCodes(rng, classes, bits), c = PackedCodes.alloc(bits, n), s = c.stride;
  for (let i = 0; i < n; i++) {
    const k = rng.int(classes);
    for (let w = 0; w < s; w++) c.data[i * s + w] = (centers.data[k * s + w]! ^ noiseWord(rng, ands)) >>> 0;
  }
  clearPadding(c);
  return { codes: c, centers };
}

function clearPadding(c: PackedCodes): void {
  const tail = c.bits % 64;
  if (tail === 0) return;
  for (let i = 0; i < c.count; i++) {
    const base = i * c.stride + c.stride - 2;
    if (tail <= 32) { c.data[base]! &= tail === 32 ? 0xffffffff : (1 << tail) - 1; c.data[base + 1] = 0; }
    else c.data[base + 1]! &= (1 << (tail - 32)) - 1;
  }
}

/**
 * Median wall and process CPU time per query: on a busy machine (or while V8 collects the id
 * strings just made) the mean mostly measures pauses; the median measures the query.
 */
function timeQueries(index: CodeIndex, queries: PackedCodes, k: number, count: number): { ms: number; cpuMs: number; hits: string[][] } {
  const hits: string[][] = [], wall: number[] = [], cpu: number[] = [];
  for (let q = 0; q < Math.min(3, count); q++) index.search(queries.slice(q, q + 1), k); // warm-up (and MultiIndex table build)
  for (let q = 0; q < count; q++) {
    const one = queries.slice(q, q + 1);
    const c = process.cpuUsage(), t = process.hrtime.bigint();
    hits.push(index.search(one, k)[0]!.ids);
    wall.push(Number(process.hrtime.bigint() - t) / 1e6);
    const u = process.cpuUsage(c);
    cpu.push((u.user + u.system) / 1e3);
  }
  return { ms: median(wall), cpuMs: median(cpu), hits };
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b), h = s.length >> 1;
  return s.length % 2 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
}

/** Time of one streaming read of `bytes` (memcmp of two equal buffers reads 2× the bytes; halved). */
function streamingReadMs(data: Uint32Array): number {
  const a = Buffer.from(data.buffer, data.byteOffset, data.byteLength), b = Buffer.from(a);
  let best = Infinity;
  for (let r = 0; r < 5; r++) {
    const t = process.hrtime.bigint();
    if (Buffer.compare(a, b) !== 0) throw new Error('unreachable');
    best = Math.min(best, Number(process.hrtime.bigint() - t) / 1e6 / 2);
  }
  return best;
}

export function register(bench: Command): void {
  bench.command('search')
    .description('k-NN latency per query: FlatIndex (1 thread), MultiIndex, portable scan; plus one streaming read of the codes')
    .option('--n <N>', 'database codes', '1000000')
    .option('--bits <c>', 'code width (multiple of 8, 8..1024)', '64')
    .option('--k <k>', 'neighbours per query', '10')
    .option('--queries <q>', 'queries timed per index (portable: a tenth, at least 5)', '200')
    .option('--seed <s>', 'random seed', '1')
    .option('--flip <p>', 'clustered codes: per-bit flip probability around the class centre (1/2, 1/4, 1/8, 1/16, ...)', '0.0625')
    .option('--json', 'JSON lines: {name, codes, n, bits, k, ms_per_query, ratio_vs_flat, cpu_ms_per_query, cpu_ratio_vs_flat}')
    .addHelpText('after', '\nms_per_query is the median over the queries; ratio_vs_flat = ms_per_query / flat ms_per_query (below 1: faster than the\nflat scan); the cpu_ fields use process CPU time\n(for bandwidth: the wall time again), which a busy machine disturbs less.\n\nExample:\n  cmhash bench search --n 1000000 --bits 64 --k 10 --json')
    .action((opts: Opts) => {
      const out = new Output(!!opts.json);
      const n = positiveInt(opts.n, 'n'), bits = positiveInt(opts.bits, 'bits'), k = positiveInt(opts.k, 'k');
      const nq = positiveInt(opts.queries, 'queries');
      const ands = Math.round(-Math.log2(Number(opts.flip)));
      if (!(ands >= 1 && ands <= 16 && Math.abs(2 ** -ands - Number(opts.flip)) < 1e-12)) throw new InputError(`bench search: --flip must be a power of 1/2 from 1/2 to 2^-16, got ${opts.flip}`);
      PackedCodes.alloc(bits, 0);
      const be = getBackend();
      be.setThreads(1);
      out.text(`backend ${be.name} (${be.variant}), 1 thread; ${n} × ${bits}-bit codes, ${k}-NN, ${nq} queries one at a time; clustered: 100 classes, flip ${opts.flip}`);
      const rows: Record<string, unknown>[] = [];
      for (const kind of ['random', 'clustered'] as const) {
        const rng = new Rng(Number(opts.seed) + (kind === 'random' ? 0 : 1000));
        const db = kind === 'random' ? randomCodes(rng, n, bits) : clusteredBenchCodes(rng, n, bits, 100, ands).codes;
        // queries: random codes, or noisy copies of database codes (a query near its class)
        const queries = kind === 'random' ? randomCodes(rng, nq, bits)
          : (() => { const q = db.select(Array.from({ length: nq }, () => rng.int(n))); for (let i = 0; i < q.data.length; i++) q.data[i] = (q.data[i]! ^ noiseWord(rng, ands)) >>> 0; clearPadding(q); return q; })();
        const ids = Array.from({ length: n }, (_, i) => String(i));
        const flat = new FlatIndex(bits);
        flat.addTrusted(ids, db);
        const f = timeQueries(flat, queries, k, nq);
        const multi = new MultiIndex(bits);
        multi.addTrusted(ids, db);
        const tb = process.hrtime.bigint();
        multi.build();
        const buildMs = Number(process.hrtime.bigint() - tb) / 1e6;
        const m = timeQueries(multi, queries, k, nq);
        let same = 0;
        m.hits.forEach((h, i) => { if (h.join() === f.hits[i]!.join()) same++; });
        const portable = new FlatIndex(bits, { backend: getJsBackend() });
        portable.addTrusted(ids, db);
        const pq = Math.max(5, Math.floor(nq / 10));
        const p = timeQueries(portable, queries, k, pq);
        const bw = streamingReadMs(db.data);
        out.text(`${kind}: multi-index m=${multi.m}, built in ${buildMs.toFixed(0)} ms, ${multi.fallbacks} scan fallbacks, same answers as flat on ${same}/${nq} queries`);
        for (const [name, ms, cpu] of [['flat', f.ms, f.cpuMs], ['multi', m.ms, m.cpuMs], ['portable', p.ms, p.cpuMs], ['bandwidth', bw, bw]] as const) {
          const rec = { name, codes: kind, n, bits, k, ms_per_query: round(ms), ratio_vs_flat: round(ms / f.ms), cpu_ms_per_query: round(cpu), cpu_ratio_vs_flat: round(cpu / f.cpuMs) };
          out.record(rec);
          rows.push(rec);
        }
      }
      out.table(rows);
    });
}

function round(v: number): number { return Math.round(v * 10000) / 10000; }
