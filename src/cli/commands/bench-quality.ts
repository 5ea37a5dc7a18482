// `cmhash bench quality`: the cross-dataset results table — every method and its baseline, on every
// data set the machine has, over several seeds — from `cmhash train` and `cmhash continual` runs
// (each a child process of this CLI, so the numbers are exactly what those commands print). One
// Markdown table per protocol, mean ± sd over seeds, with the chance level and the baseline of the
// same runs beside each method. Data sets that are not present are listed as skipped.
import type { Command } from 'commander';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { writeFileSync } from 'node:fs';
import { Output } from '../output.js';
import { InputError } from '../../util/errors.js';
import { findDataDir } from '../../data/presets/common.js';
import { formatMeanSd } from '../mean-sd.js';

/** A `train` data set (query/retrieval/train splits). */
interface TrainCase { data: string; label: string; needs?: string }
/** A `continual` stream. */
interface StreamCase { data: string; sessions: string; classOrder?: string; label: string; needs?: string }

/** MIRFlickr's classes by descending frequency on the photo rows (the order of the quality issue's study). */
const MIRFLICKR_FREQUENCY_ORDER = '13,19,14,18,9,6,4,11,22,23,0,12,15,20,7,21,17,3,8,2,16,5,1,10';

const TRAIN_CASES: TrainCase[] = [
  { data: 'wikipedia', label: 'Wikipedia (SIFT/LDA)', needs: 'wikipedia' },
  { data: 'mirflickr25k-photos', label: 'MIRFlickr photo rows (GIST+HSV / tags)', needs: 'mirflickr25k' },
  { data: 'synthetic:4000:12', label: 'synthetic 4k, 12 classes' },
];
const STREAM_CASES: StreamCase[] = [
  { data: 'wikipedia', sessions: '4+3+3', label: 'Wikipedia 4+3+3', needs: 'wikipedia' },
  { data: 'mirflickr25k-photos', sessions: '22+2', label: 'MIRFlickr photos 22+2', needs: 'mirflickr25k' },
  { data: 'mirflickr25k-photos', sessions: '6,6,6,6', classOrder: MIRFLICKR_FREQUENCY_ORDER, label: 'MIRFlickr photos 6,6,6,6 by frequency', needs: 'mirflickr25k' },
  { data: 'synthetic:40000:24', sessions: '8x3', label: 'synthetic 40k, 8 sessions', needs: undefined },
];
const TRAIN_METHODS = ['dcmh', 'dbrc', 'ccmh-gam'];
const CONTINUAL_METHODS = ['ccmh-gam', 'dlcmh', 'finetune:ccmh-gam', 'joint:ccmh-gam', 'finetune:dlcmh', 'joint:dlcmh'];

interface Dir { i2t: number; t2i: number }

function runCli(args: string[]): Promise<Record<string, unknown>[]> {
  const bin = fileURLToPath(new URL('../../../../bin/cmhash.js', import.meta.url));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    child.on('close', (code) => {
      if (code !== 0) { reject(new InputError(`cmhash ${args.join(' ')} exited ${code}: ${err.trim().split('\n').at(-1) ?? ''}`)); return; }
      resolve(out.trim().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>));
    });
  });
}

const meanSd = (xs: number[]) => formatMeanSd(xs, 3);
const cell = (ds: Dir[]) => (ds.length ? `${meanSd(ds.map((d) => d.i2t))} / ${meanSd(ds.map((d) => d.t2i))}` : '—');

function present(needs: string | undefined): boolean {
  return !needs || findDataDir(needs) !== null;
}

function parseList(v: string | undefined, all: readonly string[], what: string): string[] {
  if (!v) return all.slice();
  const got = v.split(',').map((s) => s.trim()).filter(Boolean);
  for (const g of got) if (!all.includes(g)) throw new InputError(`--${what}: "${g}" is not one of ${all.join(', ')}`);
  return got;
}

export function register(bench: Command): void {
  bench.command('quality')
    .description('the cross-dataset results table: methods and their baselines × data sets × seeds (mean ± sd), with chance, from train and continual runs')
    .option('--protocol <p>', 'train | continual | both', 'both')
    .option('--seeds <list>', 'seeds', '1,2,3')
    .option('--bits <list>', 'code lengths of the train table', '32,64')
    .option('--continual-bits <c>', 'code length of the continual table', '32')
    .option('--methods <list>', `train methods (${TRAIN_METHODS.join(',')})`)
    .option('--continual-methods <list>', `continual methods (${CONTINUAL_METHODS.join(',')})`)
    .option('--cases <list>', 'data sets / streams by label index, e.g. 0,1 (default all present)')
    .option('--tune [budget]', 'pass --tune to every run (the table then says so)')
    .option('--extra <args>', 'extra arguments for every run, e.g. "--epochs 20"')
    .option('--out <file.md>', 'write the tables as Markdown here')
    .option('--json', 'JSON lines: one per run')
    .addHelpText('after', '\nEach run is `cmhash train|continual … --json` in a child process; seeds run one after another.\n\nExample:\n  cmhash bench quality --protocol continual --seeds 1,2,3 --out docs/results-quality.md')
    .action(async (o: { protocol: string; seeds: string; bits: string; continualBits: string; methods?: string; continualMethods?: string; cases?: string; tune?: string | true; extra?: string; out?: string; json?: boolean }) => {
      const out = new Output(!!o.json);
      if (!['train', 'continual', 'both'].includes(o.protocol)) throw new InputError(`--protocol: expected train, continual or both, got ${o.protocol}`);
      const seeds = o.seeds.split(',').map((s) => s.trim());
      const extra = o.extra ? o.extra.split(/\s+/).filter(Boolean) : [];
      const tune = o.tune === undefined ? [] : o.tune === true ? ['--tune'] : ['--tune', String(o.tune)];
      const caseSel = o.cases ? new Set(o.cases.split(',').map((s) => Number(s.trim()))) : null;
      const md: string[] = [`Produced by \`cmhash bench quality ${process.argv.slice(4).map((a) => (/\s/.test(a) ? `"${a}"` : a)).join(' ')}\`. Cells: mAP@all I→T / T→I, mean ± sd over seeds ${seeds.join(', ')}${tune.length ? '; every run with --tune' : '; default settings'}.`, ''];
      const skipped: string[] = [];

      if (o.protocol !== 'continual') {
        const methods = parseList(o.methods, TRAIN_METHODS, 'methods');
        for (const bits of o.bits.split(',').map((s) => s.trim())) {
          const rows = new Map<string, Map<string, Dir[]>>(); // method → case → runs
          const chance = new Map<string, Dir>();
          const cases = TRAIN_CASES.filter((c, i) => (!caseSel || caseSel.has(i)));
          for (const c of cases) {
            if (!present(c.needs)) { skipped.push(`${c.label} (data not found)`); continue; }
            for (const m of methods) for (const seed of seeds) {
              out.text(`train ${m} ${c.data} ${bits} bits seed ${seed}`);
              const recs = await runCli(['train', '--method', m, '--data', c.data, '--bits', bits, '--seed', seed, ...tune, ...extra]);
              for (const r of recs) {
                out.record({ protocol: 'train', case: c.label, ...r });
                const name = r.method === m ? m : `${String(r.method)} (beside ${m})`;
                if (!rows.has(name)) rows.set(name, new Map());
                const per = rows.get(name)!;
                per.set(c.label, [...(per.get(c.label) ?? []), r.map_all as Dir]);
                if (r.chance_map) chance.set(c.label, r.chance_map as Dir);
              }
            }
          }
          const labels = cases.filter((c) => present(c.needs)).map((c) => c.label);
          md.push(`### train, ${bits} bits`, '', `| method | ${labels.join(' | ')} |`, `|---|${labels.map(() => '---').join('|')}|`);
          for (const [name, per] of rows) md.push(`| ${name} | ${labels.map((l) => cell(per.get(l) ?? [])).join(' | ')} |`);
          md.push(`| chance | ${labels.map((l) => { const ch = chance.get(l); return ch ? `${ch.i2t.toFixed(3)} / ${ch.t2i.toFixed(3)}` : '—'; }).join(' | ')} |`, '');
        }
      }

      if (o.protocol !== 'train') {
        const methods = parseList(o.continualMethods, CONTINUAL_METHODS, 'continual-methods');
        const bits = o.continualBits;
        const cases = STREAM_CASES.filter((c, i) => (!caseSel || caseSel.has(i)));
        md.push(`### continual, ${bits} bits: final average mAP, re-encode stability of old items after the last session, stored-code stability (minimum over sessions), training seconds of the last increment and its ratio to joint retraining's`, '');
        for (const c of cases) {
          if (!present(c.needs)) { skipped.push(`${c.label} (data not found)`); continue; }
          const res = new Map<string, { map: Dir; stab: number; last: number; stored: number; tuned?: string }[]>();
          let baseline: Dir[] = []; let chance = 0;
          for (const m of methods) for (const seed of seeds) {
            out.text(`continual ${m} ${c.label} seed ${seed}`);
            const args = ['continual', '--method', m, '--data', c.data, '--sessions', c.sessions, '--bits', bits, '--seed', seed, ...(c.classOrder ? ['--class-order', c.classOrder] : []),
              // the linear baseline runs once per seed (beside the first method)
              ...(m === methods[0] ? [] : ['--baseline', 'none']), ...tune, ...extra];
            const [r] = await runCli(args);
            if (!r) throw new InputError(`cmhash ${args.join(' ')} printed no JSON`);
            out.record({ protocol: 'continual', case: c.label, ...r });
            const sessions = r.sessions as { train_seconds: number; reencode_stability: number; stored_code_stability: number; chance_map?: Dir }[];
            const last = sessions.at(-1)!;
            const t = r.tuned as { options: Record<string, unknown>; train: Record<string, unknown> } | undefined;
            res.set(m, [...(res.get(m) ?? []), { map: r.final_avg_map as Dir, stab: last.reencode_stability, last: last.train_seconds, stored: Math.min(...sessions.map((s) => s.stored_code_stability)), ...(t ? { tuned: JSON.stringify({ ...t.options, ...t.train }) } : {}) }]);
            const b = r.baseline as { final_avg_map: Dir } | undefined;
            if (b) baseline = [...baseline, b.final_avg_map];
            chance = sessions.reduce((a, s) => a + (s.chance_map?.i2t ?? 0), 0) / sessions.length;
          }
          const tunedCol = tune.length > 0;
          md.push(`**${c.label}** (\`--data ${c.data} --sessions ${c.sessions}${c.classOrder ? ` --class-order ${c.classOrder}` : ''}\`)`, '',
            `| method | final avg mAP I→T / T→I | re-encode stability | stored-code stability | last increment train s (÷ joint) |${tunedCol ? ' settings --tune chose, per seed |' : ''}`, `|---|---|---|---|---|${tunedCol ? '---|' : ''}`);
          const jointOf = (m: string) => res.get(m.endsWith('dlcmh') ? 'joint:dlcmh' : 'joint:ccmh-gam');
          for (const [m, runs] of res) {
            const j = jointOf(m);
            const lastS = runs.reduce((a, x) => a + x.last, 0) / runs.length;
            const ratio = j && j.length ? ` (${(lastS / (j.reduce((a, x) => a + x.last, 0) / j.length)).toFixed(2)})` : '';
            md.push(`| ${m} | ${cell(runs.map((x) => x.map))} | ${meanSd(runs.map((x) => x.stab))} | ${meanSd(runs.map((x) => x.stored))} | ${lastS.toFixed(2)}${ratio} |${tunedCol ? ` ${runs.map((x) => x.tuned ?? '—').join('; ')} |` : ''}`);
          }
          md.push(`| linear baseline (refit on all data, label codes in the database) | ${cell(baseline)} | — | — | — |`, `| chance (mean over sessions) | ${chance.toFixed(3)} / ${chance.toFixed(3)} | | | |`, '');
        }
      }
      if (skipped.length) md.push(`Skipped: ${skipped.join('; ')}.`, '');
      const text = md.join('\n');
      if (o.out) { writeFileSync(o.out, text); out.text(`wrote ${o.out}`); }
      if (!o.json) out.text(`\n${text}`);
    });
}
