// Child process for the crash tests: one collection write (scenario), or a loop of adds until
// killed. Usage: node crash-writer.child.js <scenario> <dir> [arg]. Without arguments it does
// nothing (the test runner may pick this file up).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Collection, type ItemInput } from '../../src/product/collection.js';
import { applySessionUpdate } from '../../src/product/session-update.js';
import { generateSynthetic } from '../../src/data/synthetic.js';

export const DATA = { n: 300, numLabels: 6, imageDim: 24, textDim: 20, seed: 5 };

/** Items of batch `b`: some with both modalities, some image-only, some text-only. */
export function batchItems(b: number, known: readonly string[], count = 12, pairsOnly = false, extraLabel?: string): ItemInput[] {
  const ds = generateSynthetic(DATA);
  return Array.from({ length: count }, (_, j) => {
    const row = (b * count + j) % ds.n;
    const labels = ds.labelNames.filter((name, c) => ds.labels[row * ds.numLabels + c] && known.includes(name));
    return {
      id: `b${b}-${j}`,
      image: !pairsOnly && j % 3 === 1 ? null : ds.imageRow(row),
      text: !pairsOnly && j % 3 === 2 ? null : ds.textRow(row),
      labels: extraLabel ? [...labels, extraLabel] : labels, metadata: { batch: b, j },
    };
  });
}

/** The write each scenario makes (the same one every time it runs on a copy of the same base). */
export async function runScenario(scenario: string, dir: string, arg?: string): Promise<void> {
  const c = Collection.open(dir);
  try {
    const names = c.snapshot().labelNames;
    if (scenario === 'add') await c.addItems(batchItems(100, names));
    else if (scenario === 'update' || scenario === 'update-worker') {
      const items = batchItems(200, names, 12, true, 'late-label');
      // update-worker: trained and committed in the training process, as the service does
      await applySessionUpdate(c, items, { epochs: 1, seed: 3, name: 'crash-session', inWorker: scenario === 'update-worker' });
    } else if (scenario === 'remove') await c.removeItems(['b1-0', 'b1-1', 'b2-4']);
    else if (scenario === 'compact') await c.compact();
    else if (scenario === 'loop') {
      // adds batch after batch from `arg` on, printing "ack <b>" after each commit, until killed;
      // CMHASH_CRASH_WRITER_PAUSE_MS waits between batches (a slow writer: fewer batches per crash)
      const pause = Number(process.env.CMHASH_CRASH_WRITER_PAUSE_MS ?? 0);
      process.stdout.write('ready\n');
      for (let b = Number(arg); ; b++) {
        await c.addItems(batchItems(b, names, 6));
        process.stdout.write(`ack ${b}\n`);
        if (pause > 0) await new Promise((r) => setTimeout(r, pause));
      }
    } else throw new Error(`unknown scenario ${scenario}`);
  } finally { c.close(); }
}

/** Runs this file as a child process (a write to crash): its exit code or killing signal and output. */
export function runChild(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; signal: string | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [fileURLToPath(import.meta.url), ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    p.on('exit', (code, signal) => resolve({ code, signal, out, err }));
  });
}

const [scenario, dir, arg] = process.argv.slice(2);
if (scenario && dir) {
  runScenario(scenario, dir, arg).catch((e) => { process.stderr.write(`${(e as Error).message}\n`); process.exit(2); });
}
