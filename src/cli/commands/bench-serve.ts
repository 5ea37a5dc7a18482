// `cmhash bench serve`: the service under load on loopback. A codes-only collection of n random
// codes (generated in memory: no model, no disk) is served by the real HTTP service; autocannon
// (in its own worker thread, so client and server do not share an event loop) sends search
// requests for a bounded time; queries/s and latency percentiles are reported.
//
// Query mix: "near" (default) asks with stored codes with 0–`flips` random bits flipped — the
// near-neighbour regime of real queries, where multi-index hashing answers without a scan;
// "random" asks with uniformly random codes, the worst case (every answer lies far away, so each
// query is a full scan of n codes).
import type { Command } from 'commander';
import autocannon from 'autocannon';
import { InputError } from '../../util/errors.js';
import { Output } from '../output.js';
import { Rng } from '../../util/rng.js';
import { PackedCodes, validateBits } from '../../index/codes.js';
import { Collection } from '../../product/collection.js';
import { CollectionRegistry } from '../../product/registry.js';
import { codeToHex } from '../../product/code-hex.js';
import { startService } from '../../product/serve.js';
import { getBackend } from '../../tensor/backends.js';

interface BenchServeOptions { threads: string; n: string; bits: string; duration: string; connections: string; k: string; queries: string; flips: string; index: string; seed: string; json?: boolean }

function int(v: string, name: string, min: number, max: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new InputError(`--${name}: expected an integer from ${min} to ${max}, got ${v}`);
  return n;
}

/** n random codes, fast: one 32-bit draw per word. */
export function randomCodes(n: number, bits: number, rng: Rng): PackedCodes {
  const codes = PackedCodes.alloc(bits, n);
  const d = codes.data, s = codes.stride, full = bits >>> 5, rest = bits & 31;
  for (let i = 0; i < n; i++) {
    const o = i * s;
    for (let w = 0; w < full; w++) d[o + w] = rng.nextU32();
    if (rest) d[o + full] = rng.nextU32() & ((1 << rest) - 1);
  }
  return codes;
}

export function register(bench: Command): void {
  bench.command('serve')
    .description('load-test the HTTP search service on loopback with n random codes (autocannon)')
    .option('--n <codes>', 'codes in the collection', '1000000')
    .option('--bits <b>', 'code length', '64')
    .option('--duration <s>', 'seconds of load', '10')
    .option('--connections <c>', 'concurrent HTTP connections', '16')
    .option('--k <k>', 'results per search', '10')
    .option('--queries <mix>', 'near (stored codes with a few bits flipped) | random (uniform codes: full scans)', 'near')
    .option('--flips <f>', 'near: at most this many bits flipped per query', '3')
    .option('--index <spec>', 'index: flat | multi | multi:m=<substrings>', 'flat')
    .option('--seed <s>', 'random seed', '1')
    .option('--json', 'print {"n","bits","qps","p50_ms","p99_ms","errors",…}')
    .addHelpText('after', `
Examples:
  cmhash bench serve                          # 1M 64-bit codes, 10 s
  cmhash bench serve --queries random --duration 5 --json`)
    .option('--threads <t>', 'kernel threads of the search scan (the load generator needs a core too)', '1')
    .action(async (o: BenchServeOptions) => {
      const out = new Output(!!o.json);
      const n = int(o.n, 'n', 1, 50_000_000), bits = Number(o.bits);
      validateBits(bits, '--bits');
      const duration = int(o.duration, 'duration', 1, 600), connections = int(o.connections, 'connections', 1, 1024), k = int(o.k, 'k', 1, 1000);
      const flips = int(o.flips, 'flips', 0, bits), seed = int(o.seed, 'seed', 0, 2 ** 31 - 1);
      if (o.queries !== 'near' && o.queries !== 'random') throw new InputError(`--queries: expected near or random, got ${o.queries}`);
      const rng = new Rng(seed);
      getBackend().setThreads(int(o.threads, 'threads', 1, 64));

      const t0 = performance.now();
      const text = randomCodes(n, bits, rng);
      const ids = new Array<string>(n);
      for (let i = 0; i < n; i++) ids[i] = String(i);
      const collection = Collection.fromCodes('bench', { ids, text }, o.index);
      const genSeconds = (performance.now() - t0) / 1000;
      // build the index tables before the clock starts (the first search after a change builds them)
      const t1 = performance.now();
      collection.search(collection.snapshot(), text.slice(0, 1), { modality: 'image', k }, 1000);
      const indexSeconds = (performance.now() - t1) / 1000;
      out.text(`${n.toLocaleString('en')} random ${bits}-bit codes generated in ${genSeconds.toFixed(2)} s; ${o.index} index built in ${indexSeconds.toFixed(2)} s (backend ${getBackend().name}/${getBackend().variant})`);

      const pool = 256;
      const bodies: string[] = [];
      for (let q = 0; q < pool; q++) {
        let code: PackedCodes;
        if (o.queries === 'random') code = randomCodes(1, bits, rng);
        else {
          const src = rng.int(n);
          code = text.slice(src, src + 1);
          const f = rng.int(flips + 1);
          for (let b = 0; b < f; b++) { const j = rng.int(bits); code.data[j >>> 5]! ^= 1 << (j & 31); }
        }
        bodies.push(JSON.stringify({ modality: 'image', query: { code: codeToHex(code, 0) }, k }));
      }

      const registry = new CollectionRegistry();
      registry.add(collection);
      const started = await startService({ collections: registry, host: '127.0.0.1', port: 0, processMetrics: false });
      try {
        // a short warm-up so JIT and index tables are hot
        await autocannon({ url: `${started.url}/api/collections/bench/search`, connections: 2, amount: 200, method: 'POST', headers: { 'content-type': 'application/json' }, body: bodies[0] });
        out.text(`driving ${started.url} with ${connections} connections for ${duration} s (${o.queries} queries, k = ${k})…`);
        const result = await autocannon({
          url: `${started.url}/api/collections/bench/search`, connections, duration, workers: 1,
          requests: bodies.map((body) => ({ method: 'POST' as const, path: '/api/collections/bench/search', headers: { 'content-type': 'application/json' }, body })),
        });
        const ok = result.requests.total - result.non2xx;
        const record = {
          n, bits, qps: Math.round(ok / duration), p50_ms: result.latency.p50, p99_ms: result.latency.p99, errors: result.errors + result.timeouts + result.non2xx,
          p90_ms: result.latency.p90, max_ms: result.latency.max, mean_ms: result.latency.mean, connections, duration_s: duration, k,
          queries: o.queries, index: o.index, backend: `${getBackend().name}/${getBackend().variant}`, generate_s: genSeconds, index_build_s: indexSeconds,
        };
        out.record(record);
        out.table([{ n, bits, 'queries/s': record.qps, 'p50 ms': record.p50_ms, 'p90 ms': record.p90_ms, 'p99 ms': record.p99_ms, 'max ms': record.max_ms, errors: record.errors }]);
      } finally {
        await started.app.close();
        registry.close();
      }
    });
}
