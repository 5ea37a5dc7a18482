// `cmhash bench store --backend postgresql|both`: the directory (embedded) store against the
// PostgreSQL store, in one run on one machine.
//
//  1. ingest: the same trained collection (ccmh-gam on synthetic pairs, as the demo builds it) in a
//     directory and in PostgreSQL; then `batches` × `batchSize` items through Collection.addItems
//     (items/s, encoding included — the same work for both) and `singleAdds` one-item additions
//     (ms per add);
//  2. open + first search at that size: Collection.open + one text→image search in this process,
//     and a fresh `cmhash search` process (node startup included);
//  3. server-side search: benchPgSearch (pg-search.ts) at `codes` codes — the in-process scan, the
//     server scan, MIH radius and k-NN in SQL, sharded over postgres_fdw;
//  4. replicas: as the reference one `cmhash serve <dir>` on the directory copy, then 1 and 2
//     `cmhash serve --store URL` child processes on the PostgreSQL collection,
//     driven for `duration` s by autocannon (in a child process; connections spread round-robin
//     over the replicas, the same query mix: stored items of either modality, k = 10); q/s and
//     latency percentiles; then items added through replica 1 and the delay until replica 2 can
//     search them (LISTEN/NOTIFY → refresh).
//
// Everything runs on this machine: PostgreSQL, the replicas and the load generator share its
// cores, which the result records (cores, load average before and after each part).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { Collection, type ItemInput } from '../../product/collection.js';
import { buildContinualCollection } from '../../product/build-collection.js';
import { createContinualHasher } from '../../methods/registry.js';
import { generateSynthetic } from '../../data/synthetic.js';
import { PgStore } from '../../index/pg/pg-store.js';
import { redactUrl } from '../../index/pg/sync-client.js';
import { startLocalCluster, localClusterUnavailable, type LocalCluster } from '../../index/pg/local-cluster.js';
import { Rng } from '../../util/rng.js';
import { runLoadInChild } from './load-client.js';
import { benchPgSearch, formatPgSearchBench, type PgSearchBenchResult } from './pg-search.js';

const BIN = fileURLToPath(new URL('../../../../bin/cmhash.js', import.meta.url));

export interface StoreBackendsOptions {
  /** PostgreSQL database (postgresql://…); default: a throwaway local cluster. */
  url?: string;
  /** Batches of `batchSize` items added through Collection.addItems (default 20 × 1,000). */
  batches?: number;
  batchSize?: number;
  /** One-item additions after the batches (default 200). */
  singleAdds?: number;
  /** Timings of open + first search (median; default 3). */
  repeats?: number;
  bits?: number;
  hidden?: number;
  /** Codes of the server-side search part (default 1,000,000); null skips that part. */
  codes?: number | null;
  /** Seconds of HTTP load per replica count (default 10; 0 skips the replica part). */
  duration?: number;
  /** HTTP connections of the load generator, spread over the replicas (default 8). */
  connections?: number;
  /** Items added through replica 1 to time their arrival at replica 2 (default 5). */
  visibilitySamples?: number;
  log?: (line: string) => void;
}

export interface BackendFigures {
  /** Items in the collection when opened and searched. */
  items: number;
  /** Items/s over all batches (Collection.addItems, encoding included). */
  batchItemsPerSec: number;
  /** Median ms per batch. */
  batchMsMedian: number;
  singleAddMsMedian: number;
  singleAddMsP95: number;
  /** Collection.open + one search in this process (median ms). */
  openSearchMs: number;
  /** A fresh `cmhash search` process (median ms, node startup included). */
  cliSearchMs: number;
}

export interface ReplicaFigures {
  /** 0: the reference, one `cmhash serve <dir>` on the directory store's copy of the collection. */
  replicas: number;
  qps: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  requests: number;
  loadavgBefore: number;
  loadavgAfter: number;
}

export interface StoreBackendsResult {
  bench: 'store-backends';
  date: string;
  cores: number;
  cpu: string;
  node: string;
  postgres: string;
  /** Where the PostgreSQL store ran: "local cluster" or the redacted URL. */
  database: string;
  bits: number;
  /** Seconds of HTTP load per row and connections of the load generator. */
  duration: number;
  connections: number;
  batchSize: number;
  batches: number;
  singleAdds: number;
  loadavgBefore: number[];
  loadavgAfter: number[];
  embedded: BackendFigures;
  postgresql: BackendFigures;
  /** Load average (1 min) before and after the ingest and open parts. */
  loadavgIngest: [number, number];
  replicas: ReplicaFigures[] | null;
  /** ms from replica 1's answer to an item addition until replica 2 finds the item by search. */
  visibility: { samplesMs: number[]; medianMs: number; maxMs: number; addMsMedian: number } | null;
  serverSearch: Omit<PgSearchBenchResult, 'explain'> | null;
  serverSearchSeconds: number | null;
}

const median = (xs: number[]): number => { const s = xs.slice().sort((a, b) => a - b); return s[Math.floor(s.length / 2)]!; };
const p95 = (xs: number[]): number => { const s = xs.slice().sort((a, b) => a - b); return s[Math.max(0, Math.ceil(0.95 * s.length) - 1)]!; };
const load1 = (): number => loadavg()[0]!;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// ------------------------------------------------------------------ the load generator (child)

// ------------------------------------------------------------------ replicas

interface Replica { url: string; child: ChildProcess }

/** `cmhash serve <what>` (e.g. --store URL) on a free loopback port; resolves once it prints its URL. */
function startReplica(what: string[]): Promise<Replica> {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, [BIN, 'serve', ...what, '--host', '127.0.0.1', '--port', '0', '--rate-limit', '0', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    const fail = (why: string): void => { child.kill('SIGKILL'); rej(new Error(`bench store: cmhash serve ${why}: ${err.trim().slice(-500)}`)); };
    const timer = setTimeout(() => fail('did not start within 60 s'), 60_000);
    child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (!line || !out.includes('\n')) return;
      clearTimeout(timer);
      child.stdout!.removeAllListeners('data');
      child.stdout!.resume();
      res({ url: (JSON.parse(line) as { local_url: string }).local_url, child });
    });
    child.on('exit', (code) => { clearTimeout(timer); if (!out.includes('\n')) fail(`exited with code ${code}`); });
  });
}

async function stopReplica(r: Replica): Promise<void> {
  if (r.child.exitCode !== null || r.child.signalCode !== null) return;
  const exited = new Promise<void>((res) => r.child.once('exit', () => res()));
  r.child.kill('SIGTERM');
  const t = setTimeout(() => r.child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(t);
}

async function post(url: string, body: unknown): Promise<{ status: number; json: unknown }> {
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: r.status, json: await r.json().catch(() => null) };
}

// ------------------------------------------------------------------ the benchmark

async function serverVersion(url: string): Promise<string> {
  const c = new pg.Client(url);
  await c.connect();
  try { return (await c.query('SHOW server_version')).rows[0].server_version as string; } finally { await c.end(); }
}

export async function benchStoreBackends(o: StoreBackendsOptions = {}): Promise<StoreBackendsResult> {
  const log = o.log ?? (() => undefined);
  const bits = o.bits ?? 64, hidden = o.hidden ?? 256, batchSize = o.batchSize ?? 1000, batches = o.batches ?? 20;
  const singleAdds = o.singleAdds ?? 200, repeats = o.repeats ?? 3, duration = o.duration ?? 10, connections = o.connections ?? 8;
  const samples = o.visibilitySamples ?? 5, codes = o.codes === undefined ? 1_000_000 : o.codes;
  const loadavgBefore = loadavg();
  const root = mkdtempSync(join(tmpdir(), 'cmhash-bench-backends-'));
  let cluster: LocalCluster | null = null;
  const replicas: Replica[] = [];
  const name = `bench-store-${process.pid}`;
  let url = o.url ?? null, created = false;
  try {
    if (!url) {
      const why = localClusterUnavailable();
      if (why) throw new Error(`cannot start a local PostgreSQL cluster: ${why}`);
      log('starting a local PostgreSQL 15 cluster');
      cluster = await startLocalCluster();
      url = cluster.url;
    }
    const pgUrl = url;
    const postgres = await serverVersion(pgUrl);

    // ---- the same trained collection in both stores ----
    const ds = generateSynthetic({ n: 2000, numLabels: 6, imageDim: 128, textDim: 64, seed: 1 });
    const dirSource = join(root, 'store'), pgSource = `${pgUrl}#${encodeURIComponent(name)}`;
    const sources = { embedded: dirSource, postgresql: pgSource } as const;
    for (const [backend, source] of Object.entries(sources)) {
      log(`building: ccmh-gam (hidden ${hidden}, ${bits} bits) on ${ds.n} synthetic pairs in the ${backend} store`);
      const built = await buildContinualCollection(ds, { dir: source, name, hasher: createContinualHasher('ccmh-gam', { bits, hidden }), bits, sessions: '3,3', seed: 1, train: { epochs: 2 } });
      built.collection.close();
      if (backend === 'postgresql') created = true;
    }
    const names = (() => { const c = Collection.open(dirSource); try { return c.snapshot().labelNames; } finally { c.close(); } })();
    const item = (i: number): ItemInput => {
      const row = i % ds.n;
      return { id: `x${i}`, image: ds.imageRow(row), text: ds.textRow(row), labels: names.filter((nm) => ds.labels[row * ds.numLabels + ds.labelNames.indexOf(nm)]) };
    };
    const total = batches * batchSize + singleAdds;

    // ---- ingest, then open + first search, per backend ----
    const l0 = load1();
    const figures = {} as Record<keyof typeof sources, BackendFigures>;
    for (const [backend, source] of Object.entries(sources) as [keyof typeof sources, string][]) {
      log(`${backend}: ${batches} × ${batchSize}-item additions, then ${singleAdds} single additions`);
      const c = Collection.open(source);
      const batchMs: number[] = [];
      const t0 = performance.now();
      for (let b = 0; b < batches; b++) {
        const items = Array.from({ length: batchSize }, (_, j) => item(b * batchSize + j));
        const t = performance.now();
        await c.addItems(items);
        batchMs.push(performance.now() - t);
      }
      const batchSeconds = (performance.now() - t0) / 1000;
      const singleMs: number[] = [];
      for (let i = 0; i < singleAdds; i++) {
        const it = item(batches * batchSize + i);
        const t = performance.now();
        await c.addItems([it]);
        singleMs.push(performance.now() - t);
      }
      const items = c.info().items;
      c.close();
      const probe = `x${total - 1}`;
      log(`${backend}: open + first search (${items} items)`);
      const inProc: number[] = [], cli: number[] = [];
      for (let r = 0; r < repeats; r++) {
        const t = performance.now();
        const oc = Collection.open(source);
        const snap = oc.snapshot();
        oc.search(snap, Collection.storedCode(snap, 'text', probe), { modality: 'text', k: 10 }, 100);
        inProc.push(performance.now() - t);
        oc.close();
        const args = backend === 'embedded' ? [BIN, 'search', source, '--item', probe, '--modality', 'text', '--k', '10', '--json']
          : [BIN, 'search', name, '--store', pgUrl, '--item', probe, '--modality', 'text', '--k', '10', '--json'];
        const t1 = performance.now();
        const p = spawnSync(process.execPath, args, { encoding: 'utf8' });
        if (p.status !== 0) throw new Error(`bench store: cmhash search (${backend}) failed: ${p.stderr}`);
        cli.push(performance.now() - t1);
      }
      figures[backend] = {
        items, batchItemsPerSec: (batches * batchSize) / batchSeconds, batchMsMedian: median(batchMs),
        singleAddMsMedian: median(singleMs), singleAddMsP95: p95(singleMs), openSearchMs: median(inProc), cliSearchMs: median(cli),
      };
    }
    const loadavgIngest: [number, number] = [l0, load1()];

    // ---- replicas: q/s with 1 and 2 `cmhash serve --store` processes ----
    let replicaRows: ReplicaFigures[] | null = null;
    let visibility: StoreBackendsResult['visibility'] = null;
    if (duration > 0) {
      const rng = new Rng(7);
      const bodies = Array.from({ length: 256 }, (_, q) => JSON.stringify({ modality: q % 2 ? 'image' : 'text', query: { itemId: `x${rng.int(total)}` }, k: 10 }));
      const path = `/api/collections/${encodeURIComponent(name)}/search`;
      replicaRows = [];
      const drive = async (count: number, urls: string[]): Promise<void> => {
        log(`driving ${count ? `${count} replica(s)` : 'the directory-store reference'}: ${connections} connections for ${duration} s`);
        const before = load1();
        const r = await runLoadInChild({ urls, path, connections, duration, bodies, warmup: 300 });
        const ok = r.requests.total - r.non2xx;
        replicaRows!.push({ replicas: count, qps: ok / duration, p50Ms: r.latency.p50, p99Ms: r.latency.p99, errors: r.errors + r.timeouts + r.non2xx, requests: r.requests.total, loadavgBefore: before, loadavgAfter: load1() });
      };
      const reference = await startReplica([dirSource]);
      replicas.push(reference);
      await drive(0, [reference.url]);
      await stopReplica(replicas.pop()!);
      for (const count of [1, 2]) {
        while (replicas.length < count) { replicas.push(await startReplica(['--store', pgUrl])); log(`replica ${replicas.length} at ${replicas.at(-1)!.url}`); }
        await drive(count, replicas.map((x) => x.url));
      }
      // ---- a write through replica 1, seen by replica 2 ----
      log(`${samples} additions through replica 1, polling replica 2`);
      const delays: number[] = [], addMs: number[] = [];
      for (let s = 0; s < samples; s++) {
        const it = item(total + s), id = `v${s}`;
        const t0 = performance.now();
        const w = await post(`${replicas[0]!.url}/api/collections/${encodeURIComponent(name)}/items`, {
          items: [{ id, image: Array.from(it.image!), text: Array.from(it.text!), labels: it.labels }],
        });
        const t1 = performance.now();
        if (w.status !== 200) throw new Error(`bench store: adding through replica 1 answered ${w.status}: ${JSON.stringify(w.json)}`);
        addMs.push(t1 - t0);
        for (;;) {
          const r = await post(`${replicas[1]!.url}${path}`, { modality: 'text', query: { itemId: id }, k: 1 });
          if (r.status === 200) break;
          if (r.status !== 404) throw new Error(`bench store: replica 2 answered ${r.status}: ${JSON.stringify(r.json)}`);
          if (performance.now() - t1 > 30_000) throw new Error('bench store: replica 2 did not see the addition within 30 s');
          await sleep(1);
        }
        delays.push(performance.now() - t1);
        await sleep(200);
      }
      visibility = { samplesMs: delays, medianMs: median(delays), maxMs: Math.max(...delays), addMsMedian: median(addMs) };
      for (const r of replicas.splice(0)) await stopReplica(r);
    }

    // ---- server-side search ----
    let serverSearch: StoreBackendsResult['serverSearch'] = null, serverSearchSeconds: number | null = null;
    if (codes !== null) {
      log(`server-side search at ${codes.toLocaleString('en-US')} codes (bench pg-search; loads the codes, starts 2 shard clusters)`);
      const t = performance.now();
      const { explain: _explain, ...rest } = await benchPgSearch({ n: codes, url: pgUrl, log: (l) => log(`  pg-search: ${l}`) });
      serverSearch = rest;
      serverSearchSeconds = (performance.now() - t) / 1000;
    }

    return {
      bench: 'store-backends', date: new Date().toISOString(), cores: availableParallelism(), cpu: cpus()[0]?.model ?? 'unknown', node: process.version,
      postgres, database: o.url ? redactUrl(o.url) : 'local cluster', bits, duration, connections, batchSize, batches, singleAdds,
      loadavgBefore, loadavgAfter: loadavg(), embedded: figures.embedded, postgresql: figures.postgresql, loadavgIngest,
      replicas: replicaRows, visibility, serverSearch, serverSearchSeconds,
    };
  } finally {
    for (const r of replicas) await stopReplica(r).catch(() => undefined);
    if (created && url && !cluster) { try { PgStore.drop(url, name); } catch { /* left behind: reported by nobody */ } }
    cluster?.stop();
    rmSync(root, { recursive: true, force: true });
  }
}

// ------------------------------------------------------------------ report

const f = (x: number, digits = 1): string => (x >= 100 ? x.toFixed(0) : x.toFixed(digits));
const ratio = (a: number, b: number): string => `${(a / b).toFixed(a / b >= 10 ? 0 : 2)}×`;

/** The result as Markdown: conditions, the backends table, replicas, and the server-side search table. */
export function formatStoreBackends(r: StoreBackendsResult): string {
  const e = r.embedded, p = r.postgresql, la = (xs: number[]): string => xs.map((x) => x.toFixed(2)).join(' ');
  const lines = [
    `bench store (backends) ${r.date}: ${r.cores} cores (${r.cpu}), Node ${r.node}, PostgreSQL ${r.postgres} (${r.database}) on the same machine`,
    `load average before ${la(r.loadavgBefore)}, after ${la(r.loadavgAfter)}; ${r.bits}-bit ccmh-gam codes of synthetic items (128 + 64 features)`,
    '',
    `| measurement (${e.items.toLocaleString('en-US')} items) | directory store | PostgreSQL | PostgreSQL / directory |`,
    '|---|---:|---:|---:|',
    `| ingest, ${r.batches} × ${r.batchSize.toLocaleString('en-US')}-item addItems (items/s) | ${f(e.batchItemsPerSec)} | ${f(p.batchItemsPerSec)} | ${ratio(p.batchItemsPerSec, e.batchItemsPerSec)} |`,
    `| ms per ${r.batchSize.toLocaleString('en-US')}-item batch (median) | ${f(e.batchMsMedian)} | ${f(p.batchMsMedian)} | ${ratio(p.batchMsMedian, e.batchMsMedian)} |`,
    `| single-item add, ms (median of ${r.singleAdds}) | ${f(e.singleAddMsMedian, 2)} | ${f(p.singleAddMsMedian, 2)} | ${ratio(p.singleAddMsMedian, e.singleAddMsMedian)} |`,
    `| single-item add, ms (p95) | ${f(e.singleAddMsP95, 2)} | ${f(p.singleAddMsP95, 2)} | ${ratio(p.singleAddMsP95, e.singleAddMsP95)} |`,
    `| open + first search in process, ms | ${f(e.openSearchMs)} | ${f(p.openSearchMs)} | ${ratio(p.openSearchMs, e.openSearchMs)} |`,
    `| \`cmhash search\` as a new process, ms | ${f(e.cliSearchMs)} | ${f(p.cliSearchMs)} | ${ratio(p.cliSearchMs, e.cliSearchMs)} |`,
    '',
    `(ingest and open: load average ${r.loadavgIngest[0].toFixed(2)} → ${r.loadavgIngest[1].toFixed(2)})`,
  ];
  if (r.replicas) {
    const ref = r.replicas.find((x) => x.replicas === 0), one = r.replicas.find((x) => x.replicas === 1)!;
    const label = (n: number): string => (n === 0 ? '`cmhash serve <dir>` (directory store, reference)' : `${n} × \`cmhash serve --store\``);
    lines.push('', `HTTP search, ${r.duration} s per row (stored items of either modality as queries, k = 10; autocannon with ${r.connections} connections, round-robin over the replicas; the replicas, PostgreSQL and the load generator share the ${r.cores} cores):`, '',
      '| served by | q/s | × directory | × 1 replica | p50 ms | p99 ms | errors | load avg (1 min) |', '|---|---:|---:|---:|---:|---:|---:|---|',
      ...r.replicas.map((x) => `| ${label(x.replicas)} | ${f(x.qps)} | ${ref ? ratio(x.qps, ref.qps) : '—'} | ${ratio(x.qps, one.qps)} | ${x.p50Ms} | ${x.p99Ms} | ${x.errors} | ${x.loadavgBefore.toFixed(2)} → ${x.loadavgAfter.toFixed(2)} |`));
  }
  if (r.visibility) {
    const v = r.visibility;
    lines.push('', `write through replica 1 seen by replica 2 (search by the new item's id answers): median ${f(v.medianMs)} ms, max ${f(v.maxMs)} ms over ${v.samplesMs.length} additions (${v.samplesMs.map((x) => x.toFixed(1)).join(', ')}); the addition itself ${f(v.addMsMedian)} ms (median, HTTP included)`);
  }
  if (r.serverSearch) {
    lines.push('', `server-side search (${(r.serverSearchSeconds ?? 0).toFixed(0)} s):`, '', formatPgSearchBench({ ...r.serverSearch, explain: { mih: '', scan: '' } }));
  }
  return lines.join('\n');
}
