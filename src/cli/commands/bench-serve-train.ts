// `cmhash bench serve-train`: search latency while a session update trains. A CCMH-GAM collection
// is built from synthetic data (a base model fitted on part of the base items, all base items
// committed), the real HTTP service serves it in this process, and a search client in a child
// process (this same file, forked with a marker argument, so client and service are scheduled as
// two processes) sends feature searches over keep-alive connections at a paced rate. After a
// baseline window a session update (default 3,000 new items, 20 epochs, a new label) is POSTed
// through the API; searches continue until the job has finished and a little after. Each search
// is classed by when it ran: "during" when its request overlapped the update (from sending the
// update request to the job's end: parsing the session, training, loading and committing the
// model), "outside" otherwise. Reported: p50/p99/max of each class, the p99 ratio, the job's
// training time. --compare runs the same measurement twice from the same built collection: session
// training on the event loop (the behaviour before training workers) and off it (a training process).
//
// The client is closed-loop per connection (a connection sends its next search once the previous
// answer came back, then waits for its slot in the paced rate), so a stall of the event loop delays
// about one search per connection rather than every search that would have been sent meanwhile: the
// max column shows stalls that p99 hides when they are rare.
//
// Threads: --threads (default 1) is the service's native kernel-thread setting, which the training
// process is given too (see product/train-in-worker.ts): on a 2-core machine the event loop serves
// on one core and training runs on the other.
import type { Command } from 'commander';
import { fork, spawn } from 'node:child_process';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { Agent, request } from 'node:http';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CmhashError } from '../../util/errors.js';
import { Output } from '../output.js';
import { intOption } from '../options.js';
import { sessionEpochs } from '../session-epochs.js';
import { generateSynthetic } from '../../data/synthetic.js';
import { createContinualHasher } from '../../methods/registry.js';
import type { SessionData } from '../../methods/hasher.js';
import { datasetItems } from '../../product/build-collection.js';
import { Collection } from '../../product/collection.js';
import { CollectionRegistry } from '../../product/registry.js';
import { JobManager, type JobView } from '../../product/jobs.js';
import { prestartTrainingWorker, trainingProcessId } from '../../product/train-in-worker.js';
import { startService } from '../../server/serve.js';
import { getBackend } from '../../tensor/backends.js';

interface Opts {
  base: string; items: string; epochs: string; baseEpochs: string; hidden: string; bits: string; baseline: string; after: string;
  rate: string; connections: string; k: string; threads: string; seed: string; inThread?: boolean; compare?: boolean; samples?: string; json?: boolean; stalls?: string;
}

const CLIENT_FLAG = '--cmhash-bench-serve-train-client';
/** Wall-clock milliseconds with sub-millisecond resolution, comparable between the two processes. */
const now = () => performance.timeOrigin + performance.now();

interface ClientJob { url: string; path: string; bodies: string[]; connections: number; rate: number }
/** Per search: start and end times (ms, `now()`), and whether it failed. */
interface ClientResult { start: number[]; end: number[]; errors: number }

/** The child: searches until told to stop, then sends every search's start and end time back. */
async function clientMain(): Promise<void> {
  const job = await new Promise<ClientJob>((r) => process.once('message', (m) => r(m as ClientJob)));
  const agent = new Agent({ keepAlive: true, maxSockets: job.connections });
  const target = new URL(job.url);
  const send = (path: string, body: string | Buffer, agentFor: Agent | false) => new Promise<{ status: number; text: string }>((res) => {
    const req = request({ host: target.hostname, port: target.port, path, method: 'POST', agent: agentFor, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (r) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('end', () => res({ status: r.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
      r.on('error', (e) => res({ status: 0, text: e.message }));
    });
    req.on('error', (e) => res({ status: 0, text: e.message }));
    req.end(body);
  });
  const search = async (body: string) => (await send(job.path, body, agent)).status === 200;
  for (let i = 0; i < 200; i++) await search(job.bodies[i % job.bodies.length]!); // warm-up: JIT and connections
  const out: ClientResult = { start: [], end: [], errors: 0 };
  let running = true;
  process.on('message', (m: ClientCommand) => { if (m.cmd === 'stop') running = false; });
  const interval = job.rate > 0 ? (1000 * job.connections) / job.rate : 0;
  let q = 0;
  const loop = async (c: number) => {
    let next = now() + (interval * c) / job.connections;
    while (running) {
      const wait = next - now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      if (!running) break;
      const t0 = now();
      const ok = await search(job.bodies[q++ % job.bodies.length]!);
      const t1 = now();
      out.start.push(t0); out.end.push(t1);
      if (!ok) out.errors++;
      next = Math.max(t0 + interval, t1);
    }
  };
  process.send!({ ready: true });
  await Promise.all(Array.from({ length: job.connections }, (_, c) => loop(c)));
  process.send!(out, () => process.exit(0));
}

if (process.argv[2] === CLIENT_FLAG && process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  clientMain().catch((e) => { console.error(e); process.exit(1); });
}

type ClientCommand = { cmd: 'stop' };

interface Client {
  stop(): Promise<ClientResult>;
}

async function startClient(job: ClientJob): Promise<Client> {
  const child = fork(fileURLToPath(import.meta.url), [CLIENT_FLAG], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], execArgv: [] });
  const messages: unknown[] = [];
  let waiter: ((m: unknown) => void) | null = null;
  let exited: Error | null = null;
  child.on('message', (m) => { if (waiter) { const w = waiter; waiter = null; w(m); } else messages.push(m); });
  child.on('exit', (code) => { exited = new Error(`search client exited with code ${code}`); if (waiter) waiter(exited); });
  const next = () => new Promise<unknown>((res, rej) => {
    if (messages.length) return res(messages.shift());
    if (exited) return rej(exited);
    waiter = (m) => (m instanceof Error ? rej(m) : res(m));
  });
  const command = (c: ClientCommand) => child.send(c);
  child.send(job);
  await next(); // ready
  return {
    stop: async () => { command({ cmd: 'stop' }); return (await next()) as ClientResult; },
  };
}

/**
 * A process of its own that POSTs a file when told to: reading and writing a 5 MB body would
 * otherwise hold up the event loop of the search client (whose latencies are measured) or of the
 * service. It starts (and reads the file) before the baseline window, then waits on stdin.
 */
function startPoster(url: string, path: string, file: string): { post(): Promise<{ status: number; text: string }> } {
  const script = `const { request } = require('node:http'); const { readFileSync } = require('node:fs');
const [url, path, file] = process.argv.slice(1); const body = readFileSync(file); const t = new URL(url);
process.stdin.once('data', () => {
  const req = request({ host: t.hostname, port: t.port, path, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': body.length } }, (r) => {
    const chunks = []; r.on('data', (c) => chunks.push(c)); r.on('end', () => { process.stdout.write(JSON.stringify({ status: r.statusCode, text: Buffer.concat(chunks).toString() })); process.exit(0); });
  });
  req.on('error', (e) => { process.stdout.write(JSON.stringify({ status: 0, text: e.message })); process.exit(0); }); req.end(body);
});`;
  const p = spawn(process.execPath, ['-e', script, url, path, file], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  p.stdout.on('data', (d) => { out += d; });
  const exited = new Promise<{ status: number; text: string }>((resolve) => p.on('exit', () => {
    try { resolve(JSON.parse(out) as { status: number; text: string }); } catch { resolve({ status: 0, text: out }); }
  }));
  return { post: () => { p.stdin.end('go\n'); return exited; } };
}

function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

const r2 = (x: number | null) => (x === null ? null : Math.round(x * 100) / 100);
const r4 = (x: number) => Math.round(x * 1e4) / 1e4;

interface Stats { searches: number; qps: number; p50_ms: number | null; p99_ms: number | null; max_ms: number | null }

function stats(lat: number[], seconds: number): Stats {
  const s = lat.slice().sort((a, b) => a - b);
  return { searches: s.length, qps: Math.round(s.length / Math.max(1e-9, seconds)), p50_ms: r2(percentile(s, 0.5)), p99_ms: r2(percentile(s, 0.99)), max_ms: r2(s.length ? s[s.length - 1]! : null) };
}

// ---------------------------------------------------------------- where the serving thread's time goes
// (Linux: /proc/self/task/<tid>/{schedstat,stat}; elsewhere these report nothing)

/** One thread's counters: ms on a CPU, ms waiting for one (run queue), minor page faults, nice. */
interface ThreadTimes { name: string; nice: number; cpu_ms: number; runq_ms: number; minflt: number }

function threadTimes(tid: number | string, pid: number | 'self' = 'self'): ThreadTimes | null {
  try {
    const dir = `/proc/${pid}/task/${tid}`;
    const [cpu, runq] = readFileSync(`${dir}/schedstat`, 'utf8').split(' ').map(Number) as [number, number];
    const st = readFileSync(`${dir}/stat`, 'utf8');
    const f = st.slice(st.lastIndexOf(')') + 2).split(' '); // f[0] is field 3 (state)
    return { name: readFileSync(`${dir}/comm`, 'utf8').trim(), nice: Number(f[16]), cpu_ms: cpu / 1e6, runq_ms: runq / 1e6, minflt: Number(f[7]) };
  } catch { return null; }
}

/** Every thread of this process, and of the training process (keys "training:<tid>"). */
function allThreads(): Map<string, ThreadTimes> {
  const m = new Map<string, ThreadTimes>();
  try { for (const t of readdirSync('/proc/self/task')) { const x = threadTimes(t); if (x) m.set(t, x); } } catch { /* not Linux */ }
  const child = trainingProcessId();
  if (child !== null) {
    try { for (const t of readdirSync(`/proc/${child}/task`)) { const x = threadTimes(t, child); if (x) m.set(`training:${t}`, x); } } catch { /* gone, or not Linux */ }
  }
  return m;
}

/**
 * CPU, run-queue wait and minor faults between two allThreads() readings, grouped: the serving
 * thread (this one), the project's worker threads (nice > 0: session parsing, the training relay),
 * this process's V8/libuv helper threads (GC tasks of every isolate here, the thread pool), and
 * every thread of the training process (training, its GC, its kernel threads).
 */
function threadUse(a: Map<string, ThreadTimes>, b: Map<string, ThreadTimes>): Record<string, { threads: number; cpu_ms: number; runq_ms: number; minflt: number }> {
  const out: Record<string, { threads: number; cpu_ms: number; runq_ms: number; minflt: number }> = {};
  for (const [tid, x] of b) {
    const y = a.get(tid) ?? { cpu_ms: 0, runq_ms: 0, minflt: 0 };
    const group = tid === String(process.pid) ? 'serving' : tid.startsWith('training:') ? 'training process' : x.nice > 0 ? 'workers (low priority)' : 'helpers (V8, libuv)';
    const g = (out[group] ??= { threads: 0, cpu_ms: 0, runq_ms: 0, minflt: 0 });
    g.threads++; g.cpu_ms += x.cpu_ms - y.cpu_ms; g.runq_ms += x.runq_ms - y.runq_ms; g.minflt += x.minflt - y.minflt;
  }
  for (const g of Object.values(out)) { g.cpu_ms = Math.round(g.cpu_ms); g.runq_ms = Math.round(g.runq_ms); }
  return out;
}

/** An event-loop stall of the serving thread: when (s from the update request), how long, and what the thread did meanwhile. */
interface Stall { at_s: number; ms: number; cpu_ms: number; runq_ms: number; other_ms: number; minflt: number }

/**
 * --stalls: a 1 ms timer on the serving thread; a tick that comes more than `min` ms late is a stall,
 * split by the thread's own counters into on-CPU time (its own work: JS, GC, page faults), run-queue
 * wait (runnable, no core free) and the rest (blocked: locks, I/O). The timer and the /proc reads
 * cost the serving thread a little CPU, so it is off unless asked for.
 */
function stallWatch(min: number): { stop(origin: number): Stall[] } {
  const stalls: Stall[] = [];
  let last = now(), lastT = threadTimes(process.pid);
  const iv = setInterval(() => {
    const t = now(), x = threadTimes(process.pid);
    if (t - last > min && x && lastT) {
      const cpu = x.cpu_ms - lastT.cpu_ms, runq = x.runq_ms - lastT.runq_ms;
      stalls.push({ at_s: last, ms: r2(t - last)!, cpu_ms: r2(cpu)!, runq_ms: r2(runq)!, other_ms: r2(Math.max(0, t - last - cpu - runq))!, minflt: x.minflt - lastT.minflt });
    }
    last = t; lastT = x;
  }, 1);
  return { stop: (origin) => { clearInterval(iv); return stalls.map((x) => ({ ...x, at_s: r4((x.at_s - origin) / 1000) })); } };
}

const loopStats = (h: IntervalHistogram) => ({ p50_ms: r2(h.percentile(50) / 1e6), p99_ms: r2(h.percentile(99) / 1e6), max_ms: r2(h.max / 1e6) });

export function register(bench: Command): void {
  bench.command('serve-train')
    .description('search latency (p50/p99) while a session update trains through the HTTP service, against a baseline window')
    .option('--base <n>', 'items in the collection before the update', '20000')
    .option('--items <n>', 'items in the session update', '3000')
    .option('--epochs <n>', 'epochs of the session update', '20')
    .option('--base-epochs <n>', 'epochs of the base model (fitted on up to 3,000 base items)', '5')
    .option('--hidden <n>', 'hidden width of the image/text nets', '256')
    .option('--bits <b>', 'code length', '32')
    .option('--baseline <s>', 'seconds of searches before the update', '5')
    .option('--after <s>', 'seconds of searches after the update finished (counted as outside)', '2')
    .option('--rate <r>', 'searches per second across all connections (0: as fast as answers come)', '200')
    .option('--connections <c>', 'concurrent keep-alive connections of the search client', '4')
    .option('--k <k>', 'results per search', '10')
    .option('--threads <t>', 'native kernel threads of the process (searches and training share the setting)', '1')
    .option('--seed <s>', 'random seed', '1')
    .option('--in-thread', 'train the update on the event loop (the behaviour before training workers) instead of the training process')
    .option('--compare', 'run twice from the same collection: in-thread, then worker')
    .option('--samples <file>', 'write every search as a CSV row: mode, start (s from the update request), latency ms, class')
    .option('--stalls <ms>', 'also list the serving thread\'s event-loop stalls longer than ms (a 1 ms timer; Linux: on-CPU / run-queue / blocked time and page faults of each)')
    .option('--json', 'print one record per run {"mode","outside","during","p99_ratio","train_seconds",…}')
    .addHelpText('after', `
Examples:
  cmhash bench serve-train                     # worker training, 20,000 items + a 3,000-item 20-epoch update
  cmhash bench serve-train --compare --json    # before/after: in-thread and worker in one run`)
    .action(async (o: Opts) => {
      const out = new Output(!!o.json);
      const base = intOption(o.base, 'base', 100, 5_000_000), nItems = intOption(o.items, 'items', 1, 10_000), epochs = sessionEpochs(o.epochs)!;
      const baseEpochs = intOption(o.baseEpochs, 'base-epochs', 1, 1000), hidden = intOption(o.hidden, 'hidden', 1, 8192), bits = intOption(o.bits, 'bits', 8, 1024);
      const baselineS = intOption(o.baseline, 'baseline', 1, 600), afterS = intOption(o.after, 'after', 0, 600), rate = intOption(o.rate, 'rate', 0, 100_000);
      const connections = intOption(o.connections, 'connections', 1, 256), k = intOption(o.k, 'k', 1, 1000), seed = intOption(o.seed, 'seed', 0, 2 ** 31 - 1);
      const stallMs = o.stalls === undefined ? null : intOption(o.stalls, 'stalls', 1, 1000);
      const be = getBackend();
      be.setThreads(intOption(o.threads, 'threads', 1, 64));
      const modes: ('in-thread' | 'worker')[] = o.compare ? ['in-thread', 'worker'] : o.inThread ? ['in-thread'] : ['worker'];

      // the collection: a base model fitted on up to 3,000 base items, every base item committed
      const t0 = performance.now();
      const numLabels = 12;
      const ds = generateSynthetic({ n: base + nItems + 256, numLabels, imageDim: 128, textDim: 256, seed });
      const root = mkdtempSync(join(tmpdir(), 'cmhash-bench-serve-train-'));
      try {
        const template = join(root, 'template');
        const hasher = createContinualHasher('ccmh-gam', { bits, hidden });
        const fitN = Math.min(base, 3000);
        const fitData: SessionData = {
          index: 0, newClasses: Array.from({ length: numLabels }, (_, c) => c), n: fitN, numClasses: numLabels, imageDim: ds.imageDim, textDim: ds.textDim,
          image: ds.image.slice(0, fitN * ds.imageDim), text: ds.text.slice(0, fitN * ds.textDim), labels: ds.labels.slice(0, fitN * numLabels),
        };
        await hasher.fit(fitData, { bits, epochs: baseEpochs, seed });
        const c = Collection.create(template, { name: 'bench', bits, method: hasher.method, imageDim: ds.imageDim, textDim: ds.textDim });
        try {
          await c.commitModel(hasher, datasetItems(ds, Int32Array.from({ length: base }, (_, i) => i), null), {
            labelNames: ds.labelNames, inherit: false, session: { name: 'base', newClasses: ds.labelNames },
          });
        } finally { c.close(); }
        const buildSeconds = (performance.now() - t0) / 1000;
        out.text(`collection: ${base.toLocaleString('en')} items (CCMH-GAM, ${bits} bits, hidden ${hidden}, image 128-d, text 256-d) built in ${buildSeconds.toFixed(1)} s; backend ${be.name}/${be.variant}, ${be.getThreads()} kernel thread(s)`);

        // the session: the next nItems rows under new ids, every third with a new label
        const sessionFile = join(root, 'session.json');
        const sessionBody = JSON.stringify({
          name: 'bench-session', epochs, seed,
          items: Array.from({ length: nItems }, (_, i) => {
            const r = base + i;
            const labels = ds.labelNames.filter((_, c) => ds.labels[r * numLabels + c] === 1);
            if (i % 3 === 0) labels.push('fresh');
            return { id: `session-${i}`, image: Array.from(ds.imageRow(r), r6), text: Array.from(ds.textRow(r), r6), labels };
          }),
        });
        writeFileSync(sessionFile, sessionBody);
        // searches: image features of rows no item has, against the text codes
        const bodies = Array.from({ length: 256 }, (_, q) => JSON.stringify({ modality: 'image', query: { features: Array.from(ds.imageRow(base + nItems + q), r6) }, k }));

        const records: Record<string, unknown>[] = [];
        const samples: string[] = ['mode,start_s,latency_ms,class'];
        for (const mode of modes) {
          const dir = join(root, mode);
          cpSync(template, dir, { recursive: true });
          const registry = new CollectionRegistry();
          registry.openDir(dir);
          const jobs = new JobManager({ trainInWorker: mode === 'worker' });
          const started = await startService({ collections: registry, jobs, host: '127.0.0.1', port: 0, processMetrics: false, limits: { itemsBodyBytes: 256 << 20 } });
          // the training process starts with the service; the baseline window begins once it is up
          if (mode === 'worker') await prestartTrainingWorker();
          try {
            out.text(`${mode}: searching at ${rate > 0 ? `${rate}/s` : 'full speed'} over ${connections} connections; ${baselineS} s baseline, then a ${nItems.toLocaleString('en')}-item ${epochs}-epoch update (${(sessionBody.length / 1e6).toFixed(1)} MB of JSON)…`);
            const load0 = loadavg()[0]!;
            const poster = startPoster(started.url, '/api/collections/bench/sessions', sessionFile);
            const client = await startClient({ url: started.url, path: '/api/collections/bench/search', bodies, connections, rate });
            const tBase = now();
            // the serving thread's event-loop delay (a histogram per window) and its threads' counters
            const loopOut = monitorEventLoopDelay({ resolution: 1 }), loopDuring = monitorEventLoopDelay({ resolution: 1 });
            loopOut.enable();
            const th0 = allThreads();
            const watch = stallMs === null ? null : stallWatch(stallMs);
            await sleep(baselineS * 1000);
            let jobId = '', tJob = 0, tCommit = 0;
            const finished = new Promise<{ at: number; job: JobView }>((res) => jobs.onChange((j) => {
              if (j.status === 'running' && !tJob) tJob = now();
              if (j.progress?.message === 'committing' && !tCommit) tCommit = now();
              if (j.id === jobId && (j.status === 'succeeded' || j.status === 'failed')) res({ at: now(), job: j });
            }));
            const th1 = allThreads();
            loopOut.disable(); loopDuring.enable();
            const tPost = now();
            const resp = await poster.post();
            if (resp.status !== 202) throw new CmhashError(`session update refused (${resp.status}): ${resp.text}`);
            jobId = (JSON.parse(resp.text) as JobView).id;
            const current = jobs.get(jobId);
            const done = current.status === 'succeeded' || current.status === 'failed' ? { at: now(), job: current } : await finished;
            const tEnd = done.at;
            loopDuring.disable();
            const th2 = allThreads();
            await sleep(afterS * 1000);
            const stalls = watch?.stop(tPost) ?? [];
            const tStop = now();
            const res = await client.stop();
            const load1 = loadavg()[0]!;
            if (done.job.status !== 'succeeded') throw new CmhashError(`the session update failed: ${done.job.error}`);
            // during: the request overlapped the update, from sending its request to the job's end.
            // Its parts: upload (the service receives, parses and checks the session), training,
            // commit (the trained model is loaded, the items encoded and the version written)
            const outside: number[] = [], during: number[] = [], training: number[] = [];
            for (let i = 0; i < res.start.length; i++) {
              const s = res.start[i]!, e = res.end[i]!;
              if (s < tBase) continue;
              // a search is classed by the part in which it ended (a stalled search ends when the stall does)
              const cls = e < tPost || s > tEnd ? 'outside' : e < tJob ? 'upload' : e < tCommit ? 'training' : 'commit';
              if (cls === 'outside') outside.push(e - s); else { during.push(e - s); if (cls === 'training') training.push(e - s); }
              samples.push(`${mode},${((s - tPost) / 1000).toFixed(4)},${(e - s).toFixed(3)},${cls}`);
            }
            samples.push(...[['job-start', tJob], ['commit-start', tCommit], ['job-end', tEnd]].map(([what, t]) => `${mode},${(((t as number) - tPost) / 1000).toFixed(4)},,${what}`));
            const out1 = stats(outside, (tPost - tBase + tStop - tEnd) / 1000), dur = stats(during, (tEnd - tPost) / 1000), trn = stats(training, (tCommit - tJob) / 1000);
            const result = done.job.result as { train_seconds: number; model_version: number; items: number };
            const ratioOf = (x: Stats) => (out1.p99_ms && x.p99_ms !== null ? Math.round((x.p99_ms / out1.p99_ms) * 100) / 100 : null);
            const ratio = ratioOf(dur);
            const meets = (x: Stats) => { const q = ratioOf(x); return q !== null && q <= 2 && x.p99_ms !== null && x.p99_ms <= 250; };
            const record = {
              mode, outside: out1, during: dur, during_training: trn, p99_ratio: ratio, p99_ratio_training: ratioOf(trn),
              upload_seconds: r2((tJob - tPost) / 1000), commit_seconds: r2((tEnd - tCommit) / 1000),
              // the target: p99 during ≤ 2 × p99 outside and ≤ 250 ms (the whole update; its training part)
              target_met: meets(dur), target_met_training: meets(trn),
              train_seconds: r2(result.train_seconds), job_seconds: r2((tEnd - tPost) / 1000), model_version: result.model_version,
              errors: res.errors, items: nItems, epochs, base, bits, hidden, rate, connections, k, threads: be.getThreads(), backend: `${be.name}/${be.variant}`,
              load_avg_before: load0, load_avg_after: load1, build_seconds: r2(buildSeconds),
              // the serving thread's event-loop delay in the baseline window and during the update
              loop_delay: { baseline: loopStats(loopOut), during: loopStats(loopDuring) },
              // CPU, run-queue wait and page faults of the process's threads (Linux), baseline window and update
              thread_use: { baseline: threadUse(th0, th1), during: threadUse(th1, th2) },
              ...(stallMs === null ? {} : { stalls }),
            };
            records.push(record);
            out.record(record);
            if (stallMs !== null) {
              out.text(`${mode}: serving-thread stalls > ${stallMs} ms (s from the update request; job ${r2((tJob - tPost) / 1000)}–${r2((tEnd - tPost) / 1000)} s, committing from ${r2((tCommit - tPost) / 1000)} s):`);
              for (const x of stalls) out.text(`  ${x.at_s.toFixed(4)} s  ${x.ms} ms: on CPU ${x.cpu_ms}, run queue ${x.runq_ms}, blocked ${x.other_ms}; ${x.minflt} page faults`);
              for (const [w, use] of Object.entries(record.thread_use)) for (const [g, u] of Object.entries(use)) out.text(`  ${w} ${g}: ${u.threads} thread(s), CPU ${u.cpu_ms} ms, run queue ${u.runq_ms} ms, ${u.minflt} page faults`);
              const l = record.loop_delay;
              out.text(`  event-loop delay p99/max: baseline ${l.baseline.p99_ms}/${l.baseline.max_ms} ms, during ${l.during.p99_ms}/${l.during.max_ms} ms`);
            }
          } finally {
            await started.app.close();
            await jobs.idle();
            registry.close();
          }
        }
        if (o.samples) writeFileSync(o.samples, samples.join('\n') + '\n');
        out.table(records.map((r) => {
          const a = r.outside as Stats, d = r.during as Stats, j = r.during_training as Stats;
          return {
            mode: r.mode, 'p50 out ms': a.p50_ms, 'p99 out ms': a.p99_ms, 'max out ms': a.max_ms, 'p50 during ms': d.p50_ms, 'p99 during ms': d.p99_ms, 'max during ms': d.max_ms,
            'p99 ratio': r.p99_ratio, 'p99 training ms': j.p99_ms, 'ratio training': r.p99_ratio_training, 'searches out/during': `${a.searches}/${d.searches}`,
            'train s': r.train_seconds, 'job s': r.job_seconds, 'target (≤2×, ≤250 ms) during/training': `${r.target_met ? 'met' : 'missed'}/${r.target_met_training ? 'met' : 'missed'}`,
          };
        }));
      } finally { rmSync(root, { recursive: true, force: true }); }
    });
}

const r6 = (x: number) => Math.round(x * 1e6) / 1e6;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
