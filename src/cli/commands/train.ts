// `cmhash train --method dcmh|dbrc --data <preset|path> --bits 16,32,64,128 [--seed 1,2,3] [--out dir]`:
// trains one model per (bit length, seed) on the data's train split (minus a validation split carved
// from it for model selection), evaluates the query split against the retrieval split (mAP@all and
// mAP@50, I→T and T→I), prints a table (mean ± sd over seeds, and the split's chance level: the
// expected mAP of a random ranking, eval/chance.ts) or JSON lines, and saves the models.
// `--ablation` (DBRC) runs the ATanh-linear / ATanh-nonlinear / plain-tanh comparison instead.
import type { Command } from 'commander';
import { join, resolve } from 'node:path';
import { InputError } from '../../util/errors.js';
import { getBackend } from '../../tensor/backends.js';
import { applyPrecisionOption } from '../../tensor/precision.js';
import type { Dataset } from '../../data/dataset.js';
import { createHasher, methodEntry, methodNames } from '../../methods/registry.js';
import { tuneFit, tunedRecord, type TunedRecord } from '../../methods/tune.js';
import { formatMeanSd } from '../mean-sd.js';
import { baselineFor } from '../baseline-choice.js';
import { addCheckpointMeta } from '../../nn/checkpoint.js';
import type { Hasher, TrainingData, TrainOptions } from '../../methods/hasher.js';
import { checkBits } from '../../methods/training-loop.js';
import { evaluateCrossModal } from '../../methods/evaluate.js';
import { runDbrcAblation, type AblationRow } from '../../methods/ablation-dbrc.js';
import type { DbrcTrainOptions } from '../../methods/dbrc.js';
import { chanceLevel } from '../../eval/chance.js';
import { Output } from '../output.js';
import { checkLabelsForTraining } from '../unlabelled-data.js';
import { checkOutputFile, makeFlagFolder } from '../flag-paths.js';
import { addDataFlags, dataOptions, loadDataForMethods, splitItems } from './dataset-for-methods.js';
import { optionalInt, optionalNumber } from '../options.js';
import { addMethodOptions, methodOptionsFromFlags } from '../method-options.js';

/** Every registered method once (aliases left out), in registration order. */
const METHODS = methodNames().filter((n) => methodEntry(n).name === n);

/** One (method, data, bits, seed) result: the JSON record of `train` and `eval`. */
export interface RunResult {
  method: string; data: string; bits: number; seed: number;
  map_all: { i2t: number; t2i: number }; map_50: { i2t: number; t2i: number };
  train_seconds: number;
  best_epoch?: number; epochs_run?: number; model?: string;
  /** Validation-split score of the kept epoch (mAP@all, validation items query the training items). */
  validation?: { epoch: number; i2t: number; t2i: number; score: number };
  /** The settings `--tune` chose, their validation score and how many were tried. */
  tuned?: TunedRecord;
  /** Chance level of the query/retrieval split: expected mAP@all / mAP@50 of a uniformly random ranking (eval/chance.ts). */
  chance_map?: { i2t: number; t2i: number };
  chance_map_50?: { i2t: number; t2i: number };
  pr?: { i2t: { precision: number[]; recall: number[] }; t2i: { precision: number[]; recall: number[] } };
  pAtN?: { n: number[]; i2t: number[]; t2i: number[] };
}

/** The chance level of a data set's query split against its retrieval split (the same in both directions: both rank the same items by the same labels). */
export interface SplitChance { map_all: { i2t: number; t2i: number }; map_50: { i2t: number; t2i: number }; queries: number; database: number }

export function splitChance(ds: Dataset, query = 'query', database = 'retrieval'): SplitChance {
  const q = ds.split(query), d = ds.split(database), C = ds.numLabels;
  const gather = (rows: Int32Array) => { const out = new Uint8Array(rows.length * C); rows.forEach((r, i) => out.set(ds.labels.subarray(r * C, (r + 1) * C), i * C)); return out; };
  const c = chanceLevel(gather(q), gather(d), C, { topK: [50] });
  const at50 = c.mapAtK[0]!.map;
  return { map_all: { i2t: c.mapAll, t2i: c.mapAll }, map_50: { i2t: at50, t2i: at50 }, queries: q.length, database: d.length };
}

/** One line saying what the chance row is. */
export function chanceLine(c: SplitChance): string {
  return `chance level (expected mAP of a random ranking of the ${c.database} retrieval items for the ${c.queries} queries; the same both directions): mAP@all ${fmt(c.map_all.i2t)}, mAP@50 ${fmt(c.map_50.i2t)}`;
}

export function parseList(v: string, name: string, check: (x: number) => number): number[] {
  const parts = String(v).split(',').map((s) => s.trim()).filter(Boolean);
  if (parts.length === 0) throw new InputError(`${name}: expected a comma-separated list, got "${v}"`);
  return parts.map((p) => {
    const n = Number(p);
    if (!Number.isFinite(n)) throw new InputError(`${name}: "${p}" is not a number`);
    return check(n);
  });
}

const fmt = (x: number) => x.toFixed(4);
const meanSd = (xs: number[]) => formatMeanSd(xs, 4);

/** Table rows: one per run, then mean ± sd per (method, bits) when there are several seeds. */
export function resultTable(results: RunResult[]): Record<string, unknown>[] {
  const rows: Record<string, unknown>[] = results.map((r) => ({
    method: r.method, bits: r.bits, seed: r.seed,
    'mAP@all I→T': fmt(r.map_all.i2t), 'mAP@all T→I': fmt(r.map_all.t2i), 'mAP@50 I→T': fmt(r.map_50.i2t), 'mAP@50 T→I': fmt(r.map_50.t2i),
    'train s': r.train_seconds.toFixed(1),
  }));
  const groups = new Map<string, RunResult[]>();
  for (const r of results) { const k = `${r.method}|${r.bits}`; groups.set(k, [...(groups.get(k) ?? []), r]); }
  if ([...groups.values()].some((g) => g.length > 1)) {
    for (const g of groups.values()) {
      rows.push({
        method: g[0]!.method, bits: g[0]!.bits, seed: `mean of ${g.length}`,
        'mAP@all I→T': meanSd(g.map((r) => r.map_all.i2t)), 'mAP@all T→I': meanSd(g.map((r) => r.map_all.t2i)),
        'mAP@50 I→T': meanSd(g.map((r) => r.map_50.i2t)), 'mAP@50 T→I': meanSd(g.map((r) => r.map_50.t2i)),
        'train s': (g.reduce((a, r) => a + r.train_seconds, 0) / g.length).toFixed(1),
      });
    }
  }
  // one chance row per data set (records that carry it: train computes it, eval may)
  const byData = new Map<string, RunResult>();
  for (const r of results) if (r.chance_map && !byData.has(r.data)) byData.set(r.data, r);
  for (const r of byData.values()) {
    rows.push({
      method: byData.size > 1 ? `chance (${r.data})` : 'chance', bits: '—', seed: '—',
      'mAP@all I→T': fmt(r.chance_map!.i2t), 'mAP@all T→I': fmt(r.chance_map!.t2i),
      'mAP@50 I→T': r.chance_map_50 ? fmt(r.chance_map_50.i2t) : '—', 'mAP@50 T→I': r.chance_map_50 ? fmt(r.chance_map_50.t2i) : '—',
      'train s': '—',
    });
  }
  return rows;
}

/** The JSON record (the fields the issue fixes, plus where the model went and which epoch was kept). */
export function jsonRecord(r: RunResult): Record<string, unknown> {
  const { pr: _pr, pAtN: _p, ...rest } = r;
  return rest;
}

/** Writes the HTML report through eval/report.ts when that module is present. */
export async function maybeWriteReport(path: string | undefined, results: RunResult[], notes: string[], out: Output): Promise<void> {
  if (!path) return;
  let mod: { writeReport?: (p: string, input: never) => Promise<string> };
  const reportModule = '../../eval/report.js'; // resolved at run time: the report module is optional
  try { mod = await import(reportModule) as typeof mod; } catch { out.text('report: eval/report.ts is not part of this build; no HTML written'); return; }
  if (!mod.writeReport) { out.text('report: eval/report.ts has no writeReport; no HTML written'); return; }
  const written = await mod.writeReport(resolve(path), ({ title: `cmhash: ${[...new Set(results.map((r) => r.method))].join(', ')} on ${results[0]?.data ?? ''}`, eval: results, notes }) as never);
  out.text(`report written to ${written}`);
}

interface TrainCliOptions {
  method: string; data: string; bits: string; seed: string; out?: string; epochs?: string; batchSize?: string; lr?: string;
  validation: string; patience?: string; threads: string; precision?: string; ablation?: boolean; tune?: string | true; baseline?: string; report?: string; json?: boolean; imageFeatures?: string; cacheDir?: string;
  /** Method options, one flag each (cli/method-options.ts). */
  [methodFlag: string]: unknown;
}

export function register(program: Command): void {
  const cmd = addDataFlags(program.command('train'))
    .description('train hashing models per bit length and seed, then evaluate (mAP@all, mAP@50, I→T and T→I)')
    .requiredOption('--method <name>', `method: ${methodNames().join(' | ')}`)
    .requiredOption('--data <preset|path>', 'wikipedia | mirflickr25k | mirflickr25k-photos (the 730 rows with photos) | a data folder or file')
    .option('--bits <list>', 'code lengths, multiples of 8', '16,32,64,128')
    .option('--seed <list>', 'seeds (several give mean ± sd)', '1')
    .option('--out <dir>', 'save each model as <dir>/<method>-<data>-<bits>b-s<seed>.ckpt')
    .option('--epochs <n>', 'epochs (default: the method\'s)')
    .option('--batch-size <n>', 'batch size (default 128)')
    .option('--lr <x>', 'learning rate (default: the method\'s)')
    .option('--validation <fraction>', 'share of the train split held out for model selection / early stopping (0 = none)', '0.1')
    .option('--patience <n>', 'stop after n epochs without a validation improvement')
    .option('--threads <n>', 'kernel threads', '1')
    .option('--precision <p>', 'GEMM precision: fp32 | bf16 (needs AVX512_BF16: GEMM inputs rounded to bfloat16, float32 accumulation; weights and everything else stay float32)', 'fp32')
    .option('--tune [budget]', 'search the method\'s settings (learning rate and the options its schema marks) on the validation split, at most budget fits (default 8); the chosen settings go into the JSON record and the checkpoint')
    .option('--baseline <name>', 'baseline trained in the same run and shown beside the method: linear | cca | none (default: linear for supervised methods, cca for unsupervised)')
    .option('--ablation', 'dbrc: compare ATanh-linear, ATanh-nonlinear and plain tanh (mAP, quantization error, bit flips)')
    .option('--report <file.html>', 'also write an HTML report')
    .option('--json', 'one JSON object per line: {"method","data","bits","seed","map_all":{"i2t","t2i"},"map_50":{"i2t","t2i"},"chance_map":{"i2t","t2i"},"chance_map_50":{"i2t","t2i"},"train_seconds",...}')
    .addHelpText('after', `
Examples:
  cmhash train --method dbrc --data wikipedia --bits 16,32,64,128 --seed 1,2,3 --out models
  cmhash train --method dcmh --data mirflickr25k-photos --bits 64 --json
  cmhash train --method dbrc --data wikipedia --bits 32 --ablation`);
  addMethodOptions(cmd, METHODS);
  cmd.action(async (o: TrainCliOptions) => {
      const out = new Output(!!o.json);
      if (!methodNames().includes(o.method)) throw new InputError(`--method: unknown method "${o.method}" (known: ${methodNames().join(', ')})`);
      const bitsList = parseList(o.bits, '--bits', (b) => checkBits(b, '--bits'));
      const seeds = parseList(o.seed, '--seed', (s) => { if (!Number.isInteger(s)) throw new InputError(`--seed: ${s} is not an integer`); return s; });
      const valFraction = Number(o.validation);
      if (!(valFraction >= 0 && valFraction < 1)) throw new InputError(`--validation must be a fraction in [0, 1), got ${o.validation}`);
      if (o.ablation && o.method !== 'dbrc') throw new InputError('--ablation compares DBRC code layers; use it with --method dbrc');
      const methodOptions = methodOptionsFromFlags(o.method, METHODS, o);
      const tuneBudget = o.tune === undefined ? undefined : o.tune === true ? DEFAULT_TUNE_BUDGET : optionalInt(o.tune as string, 'tune', 1);
      if (tuneBudget !== undefined && !(valFraction > 0)) throw new InputError('--tune chooses settings on the validation split: give --validation a fraction above 0');
      const baseline = baselineFor(o.method, o.baseline);
      createHasher(o.method, { bits: bitsList[0]!, ...methodOptions }); // refuses a bad option before any data is loaded
      const threads = optionalInt(o.threads, 'threads', 1)!;
      getBackend().setThreads(threads);
      if (applyPrecisionOption(o.precision) === 'bf16') out.text('precision: bf16 GEMMs (inputs rounded to bfloat16, float32 accumulation)');
      const trainOpts: Omit<TrainOptions, 'bits'> = { threads };
      const common = { epochs: optionalInt(o.epochs, 'epochs', 1), batchSize: optionalInt(o.batchSize, 'batch-size', 1), learningRate: optionalNumber(o.lr, 'lr', 0), patience: optionalInt(o.patience, 'patience', 0) };
      for (const [k, v] of Object.entries(common)) if (v !== undefined) Object.assign(trainOpts, { [k]: v });
      const outDir = o.out ? resolve(o.out) : undefined;
      if (o.out) makeFlagFolder('--out', o.out);
      if (o.report !== undefined) checkOutputFile('--report', o.report);

      const loaded = await loadDataForMethods(o.data, out, dataOptions(o));
      const ds = loaded.dataset;
      checkLabelsForTraining(ds, loaded.name, o.method, baseline);
      out.text(`${loaded.name}: ${ds.n} items, image ${ds.imageDim}-d, text ${ds.textDim}-d, ${ds.numLabels} labels; query ${ds.split('query').length}, retrieval ${ds.split('retrieval').length}, train ${ds.split('train').length}${valFraction > 0 ? ` (${Math.round(valFraction * 100)}% held out for validation)` : ''}`);
      const chance = splitChance(ds);
      const chanceFields = { chance_map: chance.map_all, chance_map_50: chance.map_50 };
      const tableHeader = () => {
        out.text(`codes: queries and retrieval items both encoded by the trained nets (I→T: image queries vs the retrieval items' text codes; T→I: text vs image)`);
        out.text(chanceLine(chance));
      };
      if (o.ablation) {
        const rows: AblationRow[] = [];
        for (const bits of bitsList) for (const seed of seeds) {
          const { train, validation } = trainAndValidation(ds, valFraction, seed);
          const bar = out.progress(3 * (trainOpts.epochs ?? methodEntry('dbrc').defaults.epochs), `ablation ${bits}b s${seed}`);
          let done = 0;
          const r = await runDbrcAblation({
            train, validation, query: splitItems(ds, 'query'), database: splitItems(ds, 'retrieval'), bits, seed, hidden: methodOptions.hidden as number | undefined,
            trainOptions: { ...trainOpts, ...methodOptions, hidden: undefined, codeLayer: undefined } as Partial<DbrcTrainOptions>, onVariant: (v, e) => { void e; bar.update(++done, v); },
          });
          bar.stop();
          for (const row of r) { rows.push(row); out.record({ data: loaded.name, ...row, ...chanceFields }); }
        }
        tableHeader();
        out.table([...rows.map((r) => ({
          variant: r.variant, bits: r.bits, seed: r.seed,
          'mAP@all I→T': fmt(r.map_all.i2t), 'mAP@all T→I': fmt(r.map_all.t2i), 'mAP@50 I→T': fmt(r.map_50.i2t), 'mAP@50 T→I': fmt(r.map_50.t2i),
          'quant err': r.quantization_error.toExponential(2), 'bits flipped': `${(100 * r.flip_share).toFixed(2)}%`, 'mean α': r.alpha_mean.toFixed(2),
          'best epoch': r.best_epoch,
        })), { variant: 'chance', bits: '—', seed: '—', 'mAP@all I→T': fmt(chance.map_all.i2t), 'mAP@all T→I': fmt(chance.map_all.t2i),
          'mAP@50 I→T': fmt(chance.map_50.i2t), 'mAP@50 T→I': fmt(chance.map_50.t2i), 'quant err': '—', 'bits flipped': '—', 'mean α': '—', 'best epoch': '—' }]);
        return;
      }

      const results: RunResult[] = [];
      for (const bits of bitsList) {
        for (const seed of seeds) {
          const { train, validation } = trainAndValidation(ds, valFraction, seed);
          for (const method of baseline ? [o.method, baseline] : [o.method]) {
            const own = method === o.method ? methodOptions : {};
            let model: Hasher;
            let tuned: RunResult['tuned'];
            if (tuneBudget !== undefined) {
              const bar = out.progress(tuneBudget, `${method} ${bits}b seed ${seed} tune`);
              const t = await tuneFit(method, train, validation!, {
                bits, seed, budget: tuneBudget, options: own, trainOptions: trainOpts,
                onTrial: (tr, i) => bar.update(i + 1, `val ${fmt(tr.score)} ${JSON.stringify({ ...tr.setting.options, ...tr.setting.train })}`),
              });
              bar.stop();
              model = t.model;
              tuned = tunedRecord(t.result);
            } else {
              model = createHasher(method, { bits, ...own });
              const epochs = trainOpts.epochs ?? methodEntry(method).defaults.epochs;
              const bar = out.progress(epochs, `${method} ${bits}b seed ${seed}`);
              await model.fit(train, {
                ...trainOpts, bits, seed, validation,
                onProgress: (p) => bar.update(p.epoch, p.validation ? `val mAP ${fmt(p.validation.i2t)}/${fmt(p.validation.t2i)}` : ''),
              });
              bar.stop();
            }
            const ev = evaluateCrossModal(model, splitItems(ds, 'query'), splitItems(ds, 'retrieval'), [50]);
            let modelPath: string | undefined;
            if (outDir) {
              modelPath = join(outDir, `${method}-${loaded.name}-${bits}b-s${seed}.ckpt`);
              model.save(modelPath);
              if (tuned) addCheckpointMeta(modelPath, { tuned });
            }
            const kept = model.lastFit?.history.find((h) => h.epoch === model.lastFit?.bestEpoch)?.validation;
            const r: RunResult = {
              method, data: loaded.name, bits, seed, map_all: ev.map_all, map_50: ev.map_at[50]!, ...chanceFields,
              train_seconds: model.lastFit?.trainSeconds ?? 0, best_epoch: model.lastFit?.bestEpoch, epochs_run: model.lastFit?.epochsRun,
              ...(modelPath ? { model: modelPath } : {}),
              ...(kept ? { validation: { epoch: model.lastFit!.bestEpoch, i2t: kept.i2t, t2i: kept.t2i, score: (kept.i2t + kept.t2i) / 2 } } : {}),
              ...(tuned ? { tuned } : {}),
              pr: ev.pr, pAtN: ev.pAtN,
            };
            results.push(r);
            out.record(jsonRecord(r));
            if (!o.json) out.text(`  ${method} ${bits} bits seed ${seed}: mAP@50 I→T ${fmt(r.map_50.i2t)} T→I ${fmt(r.map_50.t2i)} (epoch ${r.best_epoch} of ${r.epochs_run}, ${r.train_seconds.toFixed(1)} s)`);
          }
        }
      }
      tableHeader();
      out.table(resultTable(results));
      await maybeWriteReport(o.report, results, [`cmhash train --method ${o.method} --data ${o.data} --bits ${o.bits} --seed ${o.seed}`], out);
    });
}

/** Fits `--tune` makes when given without a budget. */
export const DEFAULT_TUNE_BUDGET = 8;


/** The train split as TrainingData, minus a seeded validation split carved from it (never from query). */
export function trainAndValidation(ds: Dataset, fraction: number, seed: number): { train: TrainingData; validation?: TrainingData } {
  if (fraction <= 0) return { train: splitItems(ds, 'train') };
  const carved = ds.withValidation(fraction, seed);
  return { train: splitItems(carved, 'train'), validation: splitItems(carved, 'validation') };
}

