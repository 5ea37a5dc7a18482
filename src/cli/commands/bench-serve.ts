// `cmhash bench serve`: the service under load on loopback. A codes-only collection of n random
// codes (generated in memory: no model, no disk) is served by the real HTTP service; autocannon
// (in its own worker thread, so client and server do not share an event loop) sends search
// requests for a bounded time; queries/s and latency percentiles are reported. autocannon runs in a
// child process (bench/load-client.ts) so the load generator and the
// service are scheduled as two processes; keep-alive connections with HTTP pipelining (the
// settings are reported) let a 2-core machine measure the service rather than the client.
// For a same-run reference on a shared machine the report also holds the raw kernel's queries/s
// (one query per call, no HTTP) and the load average before and after.
//
// Query mix: "near" (default) asks with stored codes with 0–`flips` random bits flipped — the
// near-neighbour regime of real queries, where multi-index hashing answers without a scan;
// "random" asks with uniformly random codes, the worst case (every answer lies far away, so each
// query is a full scan of n codes).

import type { Command } from 'commander';
import { loadavg } from 'node:os';
import { InputError } from '../../util/errors.js';
import { Output } from '../output.js';
import { loadAutocannon, runLoadInChild } from '../bench/load-client.js';
import { Rng } from '../../util/rng.js';
import { PackedCodes, validateBits } from '../../codes/packed-codes.js';
import { randomCodes } from '../../index/random-codes.js';
import { Collection } from '../../product/collection.js';
import { CollectionRegistry } from '../../product/registry.js';
import { codeToHex } from '../../product/code-hex.js';
import { startService } from '../../server/serve.js';
import { getBackend } from '../../tensor/backends.js';
import { cpus } from 'node:os';
import { intOption } from '../options.js';

interface BenchServeOptions { scanWorker?: boolean; threads: string; pipelining: string; n: string; bits: string; duration: string; connections: string; k: string; queries: string; flips: string; index: string; seed: string; json?: boolean }

/** Raw kernel queries/s (one query per call, as a lone request would run) for `seconds`. */
function kernelQps(codes: PackedCodes, k: number, seconds: number): number {
  const be = getBackend(), n = codes.count, s = codes.stride, kk = Math.min(k, n);
  const ids = new Int32Array(kk), dist = new Int32Array(kk);
  const t0 = performance.now();
  let q = 0;
  while (performance.now() - t0 < seconds * 1000) {
    for (let i = 0; i < 16; i++, q++) { const p = (q * 7919) % n; be.hammingKnn(codes.data.subarray(p * s, (p + 1) * s), 1, codes.data, n, codes.words64, kk, ids, dist); }
  }
  return Math.round(q / ((performance.now() - t0) / 1000));
}

export function register(bench: Command): void {
  bench.command('serve')
    .description('load-test the HTTP search service on loopback with n random codes (autocannon)')
    .option('--n <codes>', 'codes in the collection', '1000000')
    .option('--bits <b>', 'code length', '64')
    .option('--duration <s>', 'seconds of load', '10')
    .option('--connections <c>', 'concurrent HTTP connections (keep-alive)', '8')
    .option('--pipelining <p>', 'HTTP requests in flight per connection', '2')
    .option('--k <k>', 'results per search', '10')
    .option('--queries <mix>', 'near (stored codes with a few bits flipped) | random (uniform codes: full scans)', 'near')
    .option('--flips <f>', 'near: at most this many bits flipped per query', '3')
    .option('--index <spec>', 'index: flat | multi | multi:m=<substrings>', 'flat')
    .option('--seed <s>', 'random seed', '1')
    .option('--scan-worker', 'scan on a worker thread instead of the event loop (batches either way)')
    .option('--json', 'print {"n","bits","qps","p50_ms","p99_ms","errors",…}')
    .addHelpText('after', `
Examples:
  cmhash bench serve                          # 1M 64-bit codes, 10 s
  cmhash bench serve --queries random --duration 5 --json
  cmhash bench serve --n 1000 --duration 5        # HTTP path only (same-run reference on a shared machine)`)
    .option('--threads <t>', 'kernel threads of the search scan: a batch of concurrent queries is split across them (the load generator takes little CPU)', String(cpus().length))
    .action(async (o: BenchServeOptions) => {
      await loadAutocannon('bench serve'); // present? (the child process that drives the load imports it again)
      const out = new Output(!!o.json);
      const n = intOption(o.n, 'n', 1, 50_000_000), bits = Number(o.bits);
      validateBits(bits, '--bits');
      const duration = intOption(o.duration, 'duration', 1, 600), connections = intOption(o.connections, 'connections', 1, 1024), k = intOption(o.k, 'k', 1, 1000);
      const flips = intOption(o.flips, 'flips', 0, bits), seed = intOption(o.seed, 'seed', 0, 2 ** 31 - 1);
      if (o.queries !== 'near' && o.queries !== 'random') throw new InputError(`--queries: expected near or random, got ${o.queries}`);
      const rng = new Rng(seed);
      getBackend().setThreads(intOption(o.threads, 'threads', 1, 64));

      const t0 = performance.now();
      const text = randomCodes(rng, n, bits);
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
        if (o.queries === 'random') code = randomCodes(rng, 1, bits);
        else {
          const src = rng.int(n);
          code = text.slice(src, src + 1);
          const f = rng.int(flips + 1);
          for (let b = 0; b < f; b++) { const j = rng.int(bits); code.data[j >>> 5]! ^= 1 << (j & 31); }
        }
        bodies.push(JSON.stringify({ modality: 'image', query: { code: codeToHex(code, 0) }, k }));
      }

      const pipelining = intOption(o.pipelining, 'pipelining', 1, 64);
      const kernel = kernelQps(text, k, 1);
      out.text(`raw kernel (one query per call, ${getBackend().getThreads()} threads): ${kernel.toLocaleString('en')} queries/s`);
      const registry = new CollectionRegistry();
      registry.add(collection);
      const started = await startService({ collections: registry, host: '127.0.0.1', port: 0, processMetrics: false, scanWorker: !!o.scanWorker });
      try {
        out.text(`driving ${started.url} with ${connections} connections × pipelining ${pipelining} for ${duration} s (${o.queries} queries, k = ${k})…`);
        const loadBefore = loadavg()[0]!, cpu0 = process.cpuUsage(), elu0 = performance.eventLoopUtilization();
        const result = await runLoadInChild({ urls: [started.url], path: '/api/collections/bench/search', connections, pipelining, duration, bodies, warmup: 400 });
        const loadAfter = loadavg()[0]!, cpu = process.cpuUsage(cpu0), elu = performance.eventLoopUtilization(elu0);
        const ok = result.requests.total - result.non2xx;
        // CPU time of the service process per answered search (all its threads; warm-up included):
        // a figure that other jobs on a shared machine disturb much less than queries/s
        const serverCpuMs = Math.round(((cpu.user + cpu.system) / 1000 / Math.max(1, ok)) * 1000) / 1000;
        // busy time of the service's event loop per search: 1000 / this is what one loop can serve
        const loopMs = Math.round((elu.active / Math.max(1, ok)) * 1000) / 1000;
        const record = {
          n, bits, qps: Math.round(ok / duration), p50_ms: result.latency.p50, p99_ms: result.latency.p99, errors: result.errors + result.timeouts + result.non2xx,
          p90_ms: result.latency.p90, max_ms: result.latency.max, mean_ms: result.latency.mean, connections, pipelining, duration_s: duration, k,
          queries: o.queries, index: o.index, scan_worker: !!o.scanWorker, threads: getBackend().getThreads(), backend: `${getBackend().name}/${getBackend().variant}`,
          kernel_qps: kernel, server_cpu_ms_per_query: serverCpuMs, event_loop_ms_per_query: loopMs, client_cpu_ms_per_query: Math.round((result.cpuMs / Math.max(1, ok)) * 1000) / 1000, load_avg_before: loadBefore, load_avg_after: loadAfter, generate_s: genSeconds, index_build_s: indexSeconds,
        };
        out.record(record);
        out.table([{ n, bits, 'queries/s': record.qps, 'p50 ms': record.p50_ms, 'p90 ms': record.p90_ms, 'p99 ms': record.p99_ms, 'max ms': record.max_ms, errors: record.errors, 'conn×pipe': `${connections}×${pipelining}`, 'kernel q/s': kernel, 'server cpu ms/q': serverCpuMs, load: `${loadBefore.toFixed(1)}→${loadAfter.toFixed(1)}` }]);
      } finally {
        await started.app.close();
        registry.close();
      }
    });
}
