// `cmhash bench serve`: the service under load on loopback. A codes-only collection of n random
// codes (generated in memory: no model, no disk) is served by the real HTTP service; autocannon
// (in its own worker thread, so client and server do not share an event loop) sends search
// requests for a bounded time; queries/s and latency percentiles are reported. autocannon runs in a
// child process (this same file, started with a marker argument) so the load generator and the
// service are scheduled as two processes; keep-alive connections with HTTP pipelining (the
// settings are reported) let a 2-core machine measure the service rather than the client.
// For a same-run reference on a shared machine the report also holds the raw kernel's queries/s
// (one query per call, no HTTP) and the load average before and after.
//
// Query mix: "near" (default) asks with stored codes with 0–`flips` random bits flipped — the
// near-neighbour regime of real queries, where multi-index hashing answers without a scan;
// "random" asks with uniformly random codes, the worst case (every answer lies far away, so each
// query is a full scan of n codes).
//
// autocannon is a dev dependency (nothing else uses it): it is imported only when this command
// runs, and when it is not installed the command stops at once with one line saying how to get it.
import type { Command } from 'commander';
import type autocannonModule from 'autocannon';
import { fork } from 'node:child_process';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CmhashError, InputError } from '../../util/errors.js';
import { Output } from '../output.js';
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

const CLIENT_FLAG = '--cmhash-bench-client';

interface ClientJob { url: string; connections: number; pipelining: number; duration: number; bodies: string[]; path: string }

type LoadResult = autocannonModule.Result & { cpuMs: number };

/** The load generator, imported on demand; a one-line error saying how to install it when absent. */
export async function loadAutocannon(): Promise<typeof autocannonModule> {
  try {
    return (await import('autocannon')).default;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ERR_MODULE_NOT_FOUND' && /['"]autocannon['"]/.test(err.message)) {
      throw new CmhashError('bench serve needs the load generator autocannon, which is not installed (it is a dev dependency): npm install --no-save autocannon');
    }
    throw e;
  }
}

/** Runs autocannon in a child process (this file, forked with CLIENT_FLAG) and returns its result. */
function runLoadInChild(job: ClientJob): Promise<LoadResult> {
  return new Promise((res, rej) => {
    const child = fork(fileURLToPath(import.meta.url), [CLIENT_FLAG], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], execArgv: [] });
    let result: LoadResult | null = null;
    child.on('message', (m) => { result = m as LoadResult; });
    child.on('error', rej);
    child.on('exit', (code) => (result ? res(result) : rej(new Error(`load generator exited with code ${code} and no result`))));
    child.send(job);
  });
}

/** The child side: one job from the parent, the autocannon result back. */
async function clientMain(): Promise<void> {
  const autocannon = await loadAutocannon();
  const job = await new Promise<ClientJob>((r) => process.once('message', (m) => r(m as ClientJob)));
  const headers = { 'content-type': 'application/json' };
  // warm-up so JIT and connections are hot before the clock starts
  await autocannon({ url: job.url + job.path, connections: 2, amount: 400, method: 'POST', headers, body: job.bodies[0] });
  const cpu0 = process.cpuUsage();
  const result = await autocannon({
    url: job.url + job.path, connections: job.connections, pipelining: job.pipelining, duration: job.duration,
    requests: job.bodies.map((body) => ({ method: 'POST' as const, path: job.path, headers, body })),
  });
  const cpu = process.cpuUsage(cpu0);
  process.send!({ ...result, cpuMs: (cpu.user + cpu.system) / 1000 }, () => process.exit(0));
}

if (process.argv[2] === CLIENT_FLAG && process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  clientMain().catch((e) => { console.error(e); process.exit(1); });
}

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
      await loadAutocannon(); // present? (the child process that drives the load imports it again)
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
        const result = await runLoadInChild({ url: started.url, path: '/api/collections/bench/search', connections, pipelining, duration, bodies });
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
