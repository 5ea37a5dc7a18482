// `cmhash bench eval`: wall time of exact mAP@all at the MIRFlickr-25K protocol size
// (2,000 × 18,015) and a NUS-WIDE-size one (2,100 × 190,000), 64-bit codes, 24 labels; also the
// process CPU time, since wall time on a shared machine mostly measures the other processes.
import type { Command } from 'commander';
import { getBackend } from '../../tensor/backends.js';
import { meanAveragePrecision } from '../../eval/metrics.js';
import { Rng } from '../../util/rng.js';
import { Output } from '../output.js';
import { InputError } from '../../util/errors.js';
import { randomCodes } from '../../index/random-codes.js';

const SIZES = [[2000, 18015], [2100, 190000]] as const;

/** Multi-label rows: each row gets 1–3 of `classes` labels. */
function randomLabels(rng: Rng, rows: number, classes: number): Uint8Array {
  const out = new Uint8Array(rows * classes);
  for (let i = 0; i < rows; i++) { const m = 1 + rng.int(3); for (let j = 0; j < m; j++) out[i * classes + rng.int(classes)] = 1; }
  return out;
}

export function register(bench: Command): void {
  bench.command('eval')
    .description('time exact mAP@all at 2,000 × 18,015 and 2,100 × 190,000 (64-bit codes, 24 labels)')
    .option('--threads <t>', 'kernel threads (default: all cores, or CMHASH_THREADS)')
    .option('--json', 'JSON lines: {name, queries, database, seconds, cpu_seconds, threads}')
    .addHelpText('after', '\nseconds is wall time; cpu_seconds the process CPU time (summed over threads), which a busy machine disturbs less.\n\nExample:\n  cmhash bench eval --threads 2 --json')
    .action((opts: { json?: boolean; threads?: string }) => {
      const out = new Output(!!opts.json);
      const be = getBackend();
      if (opts.threads !== undefined) {
        const t = Number(opts.threads);
        if (!Number.isInteger(t) || t < 1) throw new InputError(`bench eval: --threads must be a positive integer, got ${opts.threads}`);
        be.setThreads(t);
      }
      const threads = be.getThreads();
      out.text(`backend ${be.name} (${be.variant}), ${threads} thread${threads > 1 ? 's' : ''}`);
      const rows: Record<string, unknown>[] = [];
      const rng = new Rng(7);
      for (const [nq, n] of SIZES) {
        const input = {
          queries: randomCodes(rng, nq, 64), database: randomCodes(rng, n, 64),
          queryLabels: randomLabels(rng, nq, 24), databaseLabels: randomLabels(rng, n, 24), classes: 24,
        };
        const c = process.cpuUsage(), t = process.hrtime.bigint();
        const map = meanAveragePrecision(input);
        const seconds = Number(process.hrtime.bigint() - t) / 1e9, cpu = process.cpuUsage(c);
        const rec = { name: 'map_all', queries: nq, database: n, seconds: Math.round(seconds * 1000) / 1000,
          cpu_seconds: Math.round((cpu.user + cpu.system) / 1000) / 1000, threads };
        out.record(rec);
        rows.push({ ...rec, map });
      }
      out.table(rows);
    });
}
