// `cmhash bench store`: what many small writes cost a collection, and what compaction buys back.
// Builds a collection (synthetic data, the demo's method) with --items items, then makes --adds
// single-item additions with automatic compaction off, and measures — before and after
// `compact` — the segment files and the time to open the collection and answer one search, both
// in this process (Collection.open + search) and as a fresh `cmhash search` process (node startup
// included; the same run's `node -e 0` is printed beside it as the floor).
//
// --backend postgresql (or both: the part above, then this one) compares the directory store with
// the PostgreSQL store in one run (../bench/store-backends.ts): ingest rate, single adds, open +
// first search, server-side search at --codes codes (../bench/pg-search.ts), and queries/s through
// 1 and 2 `cmhash serve --store` replicas with the delay until a write through one is seen by the other.
import type { Command } from 'commander';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Collection, type ItemInput } from '../../product/collection.js';
import { buildContinualCollection } from '../../product/build-collection.js';
import { createContinualHasher } from '../../methods/registry.js';
import { generateSynthetic } from '../../data/synthetic.js';
import { Output } from '../output.js';
import { loadAutocannon } from '../bench/load-client.js';
import { intOption } from '../options.js';
import { InputError } from '../../util/errors.js';
import { storeUrl } from '../store-option.js';
import { localClusterUnavailable } from '../../index/pg/local-cluster.js';
import { redactUrl } from '../../index/pg/sync-client.js';
import { benchStoreBackends, formatStoreBackends } from '../bench/store-backends.js';

interface Opts {
  items: string; adds: string; bits: string; hidden: string; repeats: string; keep?: boolean; json?: boolean;
  backend: string; store?: string; batches: string; batchSize: string; codes: string; serverSearch: boolean; duration: string; connections: string;
}

const BIN = fileURLToPath(new URL('../../../../bin/cmhash.js', import.meta.url));


const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Open + one text→image search in this process, and as a new `cmhash search` process (ms, medians). */
function openAndSearch(dir: string, probe: string, repeats: number): { inProcess: number; cli: number; segments: number } {
  const inProc: number[] = [], cli: number[] = [];
  let segments = 0;
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    const c = Collection.open(dir, { autoCompactSegments: 0 });
    const snap = c.snapshot();
    const q = Collection.storedCode(snap, 'text', probe);
    c.search(snap, q, { modality: 'text', k: 10 }, 100);
    inProc.push(performance.now() - t0);
    segments = c.segmentCount();
    c.close();
    const t1 = performance.now();
    const p = spawnSync(process.execPath, [BIN, 'search', dir, '--item', probe, '--modality', 'text', '--k', '10', '--json'], { encoding: 'utf8' });
    if (p.status !== 0) throw new Error(`bench store: cmhash search failed: ${p.stderr}`);
    cli.push(performance.now() - t1);
  }
  return { inProcess: median(inProc), cli: median(cli), segments };
}

export function register(bench: Command): void {
  bench.command('store')
    .description('segment files and open-and-first-search time after many single-item adds, before and after compaction')
    .option('--items <n>', 'items in the collection before the single adds', '300000')
    .option('--adds <n>', 'single-item additions', '500')
    .option('--bits <n>', 'code length', '64')
    .option('--hidden <n>', 'hidden width of the model (as in the demo)', '256')
    .option('--repeats <n>', 'timings per measurement (median)', '3')
    .option('--keep', 'keep the collection folder (printed)')
    .option('--json', 'one JSON line per measurement (--backend postgresql: one JSON object)')
    .option('--backend <b>', 'sqlite: the part above (the directory store); postgresql: directory store vs PostgreSQL (ingest, single adds, open + first search, server-side search, 1 and 2 serve replicas); both: the two parts in turn', 'sqlite')
    .option('--store <url>', 'PostgreSQL database for --backend postgresql|both (default: $CMHASH_STORE, else a throwaway local cluster)')
    .option('--batches <n>', 'postgresql part: 1,000-item batches added through addItems (ingest rate)', '20')
    .option('--batch-size <n>', 'postgresql part: items per batch', '1000')
    .option('--codes <n>', 'postgresql part: codes of the server-side search (bench pg-search)', '1000000')
    .option('--no-server-search', 'postgresql part: skip the server-side search (it loads --codes codes: a couple of minutes at 1M)')
    .option('--duration <s>', 'postgresql part: seconds of HTTP load per replica count (0: no replicas)', '10')
    .option('--connections <n>', 'postgresql part: HTTP connections of the load generator, spread over the replicas', '8')
    .addHelpText('after', `
Examples:
  cmhash bench store                                  # directory store: segments and open + search before/after compact (~1 min)
  cmhash bench store --backend postgresql             # directory store vs PostgreSQL on a local cluster: ~7 min on 2 busy cores,
                                                      # 4 of them the 1M-code server-side search (needs PostgreSQL 15 binaries)
  cmhash bench store --backend postgresql --no-server-search   # ~3 min
  cmhash bench store --backend postgresql --store postgresql://user@db-host/cmhash --json

--backend postgresql adds --adds single-item additions after the batches and times each (median, p95);
without --store it starts a throwaway PostgreSQL cluster on a loopback port and stops it afterwards.
Everything runs on this machine: PostgreSQL, the replicas and the load generator share its cores
(the output prints the core count and the load average beside the figures).`)
    .action(async (o: Opts) => {
      const out = new Output(!!o.json);
      if (!['sqlite', 'postgresql', 'both'].includes(o.backend)) throw new InputError(`--backend: expected sqlite, postgresql or both, got ${JSON.stringify(o.backend)}`);
      if (o.backend !== 'sqlite') {
        const url = storeUrl(o), why = url ? null : localClusterUnavailable();
        const batches = intOption(o.batches, 'batches', 1), batchSize = intOption(o.batchSize, 'batch-size', 1, 100_000), codes = intOption(o.codes, 'codes', 1000, 50_000_000);
        const duration = intOption(o.duration, 'duration', 0, 600), connections = intOption(o.connections, 'connections', 1, 1024);
        const addsPg = intOption(o.adds, 'adds', 1), bitsPg = intOption(o.bits, 'bits', 8), hiddenPg = intOption(o.hidden, 'hidden', 1), repeatsPg = intOption(o.repeats, 'repeats', 1);
        if (why) {
          out.text(`bench store: PostgreSQL part skipped — ${why}; give --store postgresql://… to use a running server`);
          out.record({ bench: 'store-backends', skipped: why });
        } else {
          if (duration > 0) await loadAutocannon('bench store');
          out.text(`PostgreSQL part: ${url ? redactUrl(url) : 'a local cluster'}; ${batches} × ${batchSize} items, ${addsPg} single adds${o.serverSearch ? `, server-side search at ${codes.toLocaleString('en-US')} codes` : ''}${duration > 0 ? `, ${duration} s of load per replica count` : ''}`);
          const r = await benchStoreBackends({
            url: url ?? undefined, batches, batchSize, singleAdds: addsPg, repeats: repeatsPg, bits: bitsPg, hidden: hiddenPg,
            codes: o.serverSearch ? codes : null, duration, connections, log: (l) => out.text(`  ${l}`),
          });
          if (o.json) out.record(r); else out.text('\n' + formatStoreBackends(r));
        }
        if (o.backend === 'postgresql') return;
        out.text('');
      }
      const n = intOption(o.items, 'items', 1), adds = intOption(o.adds, 'adds', 1), bits = intOption(o.bits, 'bits', 8), repeats = intOption(o.repeats, 'repeats', 1);
      const root = mkdtempSync(join(tmpdir(), 'cmhash-bench-store-'));
      try {
        const ds = generateSynthetic({ n: 2000, numLabels: 6, imageDim: 128, textDim: 64, seed: 1 });
        const dir = join(root, 'store');
        out.text(`building: ccmh-gam (hidden ${o.hidden}, ${bits} bits) on ${ds.n} synthetic pairs, then ${n} items in 50,000-item adds`);
        const built = await buildContinualCollection(ds, { dir, name: 'bench', hasher: createContinualHasher('ccmh-gam', { bits, hidden: intOption(o.hidden, 'hidden', 1) }), bits, sessions: '3,3', seed: 1, train: { epochs: 2 } });
        built.collection.close();
        const c = Collection.open(dir, { autoCompactSegments: 0 });
        const names = c.snapshot().labelNames;
        const item = (i: number): ItemInput => {
          const row = i % ds.n;
          return { id: `x${i}`, image: ds.imageRow(row), text: ds.textRow(row), labels: names.filter((nm) => ds.labels[row * ds.numLabels + ds.labelNames.indexOf(nm)]) };
        };
        for (let s = 0; s < n; s += 50_000) await c.addItems(Array.from({ length: Math.min(50_000, n - s) }, (_, j) => item(s + j)));
        const tAdds = performance.now();
        for (let i = 0; i < adds; i++) await c.addItems([item(n + i)]);
        const addMs = (performance.now() - tAdds) / adds;
        const total = c.info().items;
        c.close();
        const floor: number[] = [];
        for (let r = 0; r < repeats; r++) { const t = performance.now(); spawnSync(process.execPath, ['-e', '0']); floor.push(performance.now() - t); }
        const probe = `x${n + adds - 1}`;
        const before = openAndSearch(dir, probe, repeats);
        const cc = Collection.open(dir, { autoCompactSegments: 0 });
        const tc = performance.now();
        const comp = await cc.compact();
        const compactMs = performance.now() - tc;
        cc.close();
        const afterC = openAndSearch(dir, probe, repeats);
        const rows = [
          { state: `after ${adds} single adds`, items: total, segments: before.segments, open_search_ms: before.inProcess, cli_search_ms: before.cli, node_startup_ms: median(floor) },
          { state: 'after compact', items: total, segments: afterC.segments, open_search_ms: afterC.inProcess, cli_search_ms: afterC.cli, node_startup_ms: median(floor) },
        ];
        for (const r of rows) out.record({ bench: 'store', ...r });
        out.record({ bench: 'store', add_ms_per_single_item: addMs, compact_ms: compactMs, compaction: comp, ratio_open_search_after_before: afterC.inProcess / before.inProcess });
        out.table(rows);
        out.text(`single add: ${addMs.toFixed(1)} ms each; compact: ${compactMs.toFixed(0)} ms (${comp.merged} segments merged into ${comp.written}); open+search after/before compaction: ${(afterC.inProcess / before.inProcess).toFixed(2)}×`);
        if (o.keep) out.text(`collection kept at ${dir}`);
      } finally { if (!o.keep) rmSync(root, { recursive: true, force: true }); }
    });
}
