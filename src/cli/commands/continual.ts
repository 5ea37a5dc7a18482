// `cmhash continual`: runs a continual method through class-incremental sessions and reports
// per-session mAP, the R matrix, final/average incremental mAP, BWT, forgetting, training time,
// memory size and code stability, each session next to its chance level (the expected mAP of a random
// ranking of the database so far for that session's queries, eval/chance.ts). Results (report.json +
// report.html) are rewritten after every session, so a failure later never loses the sessions already done.
import type { Command } from 'commander';
import { join } from 'node:path';
import { InputError } from '../../util/errors.js';
import { Output } from '../output.js';
import { makeFlagFolder } from '../flag-paths.js';
import { loadDataset } from '../../data/load.js';
import { addDataFlags, dataOptions } from './dataset-for-methods.js';
import { buildClassIncrementalStream, parseClassOrder } from '../../data/stream.js';
import { gatherRows } from '../../data/dataset.js';
import { planFromStream, runContinual, summarize, type ContinualDetail, type ContinualJson, type ContinualPlan } from '../../continual/runner.js';
import { chanceLevel } from '../../eval/chance.js';
import { continualMethodNames, createContinualHasher, methodEntry } from '../../methods/registry.js';
import { addMethodOptions, methodOptionsFromFlags } from '../method-options.js';
import { tuneContinual } from '../../continual/tune.js';
import { tunedRecord, type TunedRecord } from '../../methods/tune.js';
import { baselineFor } from '../baseline-choice.js';
import { writeReport } from '../../eval/report.js';
import { checkBits } from '../../methods/training-loop.js';
import type { ContinualHasher } from '../../methods/hasher.js';
import { writeFileAtomic } from '../../util/atomic-write.js';
import { optionalInt, optionalNumber } from '../options.js';
import { applyPrecisionOption } from '../../tensor/precision.js';

interface Opts {
  precision?: string;
  method: string; data: string; sessions: string; bits: string; seed: string; json?: boolean; out?: string;
  imageFeatures?: string; cacheDir?: string; imageKey?: string; textKey?: string; labelKey?: string; transpose?: boolean;
  epochs?: string; classOrder?: string; tune?: string | true; baseline?: string; dbCodes?: string; patience?: string; batchSize?: string; lr?: string; quiet?: boolean;
  /** Method options, one flag each (cli/method-options.ts). */
  [methodFlag: string]: unknown;
}

/** Every continual method and baseline once (the aliases finetune and joint are left out). */
const METHODS = continualMethodNames().filter((n) => methodEntry(n).name === n);


function writeJsonAtomic(path: string, obj: unknown): void {
  writeFileAtomic(path, JSON.stringify(obj, null, 1));
}

/** Fewest training items the base session may get: what the continual methods need (methods/parts/session-checks.ts). */
const MIN_BASE_ITEMS = 2;
/** Below this many items a session holds out no validation split (training-loop.ts sessionValidationSplit). */
const VALIDATION_MIN_ITEMS = 20;

/** Chance level per session, as the runner evaluates it: the queries whose classes have all arrived vs the database so far. */
export interface SessionChance {
  /** Expected mAP@all of a random ranking (the same for I→T and T→I). */
  map: number;
  /** R[t][j] of a random ranking: mean over the queries of session j (null where j has none). */
  R: (number | null)[];
}

export function chanceBySession(plan: ContinualPlan): SessionChance[] {
  const C = plan.numLabels, out: SessionChance[] = [];
  const db: number[] = [];
  for (let t = 0; t < plan.sessions.length; t++) {
    for (const r of plan.sessions[t]!.databaseRows) db.push(r);
    const qIdx: number[] = [];
    for (let q = 0; q < plan.queryRows.length; q++) { const qs = plan.querySession[q]!; if (qs >= 0 && qs <= t) qIdx.push(q); }
    const c = chanceLevel(gatherRows(plan.labels, C, qIdx.map((q) => plan.queryRows[q]!)), gatherRows(plan.labels, C, db), C);
    const R: (number | null)[] = [];
    for (let j = 0; j <= t; j++) {
      let sum = 0, k = 0;
      qIdx.forEach((q, i) => { if (plan.querySession[q] === j) { sum += c.perQuery[i]!; k++; } });
      R.push(k ? sum / k : null);
    }
    out.push({ map: c.mapAll, R });
  }
  return out;
}

/** The `--json` object with each session's chance level next to its mAP (the top-level keys stay the runner's). */
export function withChance(json: ContinualJson, chance: SessionChance[]): ContinualJson {
  return {
    ...json,
    sessions: json.sessions.map((s, t) => {
      const { map, ...rest } = s;
      return { map, chance_map: { i2t: chance[t]!.map, t2i: chance[t]!.map }, ...rest };
    }),
  };
}

/** Final average mAP of a random ranking over the sessions run so far (the runner's summary rule). */
export function chanceFinalAverage(chance: SessionChance[], sessionsRun: number): number {
  return sessionsRun ? summarize(chance.slice(0, sessionsRun).map((c) => c.R)).finalAverage : 0;
}

/** Runs `--tune` makes when given without a budget (each is a whole run of the stream). */
export const DEFAULT_CONTINUAL_TUNE_BUDGET = 6;

/** The reference run shown beside the method (`--baseline`). */
interface BaselineSummary { method: string; final_avg_map: { i2t: number; t2i: number }; sessions: { i2t: number; t2i: number }[] }

const DB_CODES: Record<string, string> = {
  learned: 'learned — the method\'s learned codes for items it trained on where it has them, net outputs elsewhere',
  encoded: 'encoded — net outputs for every item',
};

export function register(program: Command): void {
  const cmd = addDataFlags(program.command('continual'))
    .description('run a continual hashing method through class-incremental sessions and report mAP, R matrix, BWT, forgetting, time and code stability')
    .requiredOption('--method <m>', `method: ${continualMethodNames().join(' | ')}`)
    .requiredOption('--data <preset|path>', 'dataset preset (wikipedia, mirflickr25k-photos, …), path, or synthetic[:n[:classes]]')
    .requiredOption('--sessions <spec>', 'classes per session in class order, e.g. 4+3+3, 22+2, 6,6,6,6 or 4x6')
    .option('--bits <c>', 'code length (multiple of 8)', '64')
    .option('--seed <s>', 'random seed', '1')
    .option('--epochs <n>', 'epochs of the base session (and of joint retraining)')
    .option('--db-codes <kind>', 'database codes of trained items: learned (the method\'s learned codes where it has them) | encoded (net outputs)', 'learned')
    .option('--patience <n>', 'stop an increment after n epochs without validation improvement (methods with a validation split)')
    .option('--class-order <list>', 'comma-separated class order: label names and/or indices, mixed is fine (default 0..C-1)')
    .option('--batch-size <n>', 'batch size (default 128)')
    .option('--lr <x>', 'learning rate (default 1e-3)')
    .option('--tune [budget]', 'choose the method\'s settings first: each tried setting runs the whole stream without its queries and is scored by the validation mAP of held-out training items; at most budget runs (default 6); the chosen settings go into --json and report.json')
    .option('--baseline <name>', 'reference run on the same stream, shown beside the method: linear | cca | none (default linear; none for the baselines themselves)')
    .option('--out <dir>', 'write report.json and report.html here after every session')
    .option('--json', 'print one JSON object on stdout')
    .option('--quiet', 'no table or progress')
    .option('--precision <p>', 'GEMM precision: fp32 | bf16 (needs AVX512_BF16: GEMM inputs rounded to bfloat16, float32 accumulation; weights and everything else stay float32)', 'fp32')
    .addHelpText('after', '\nExample:\n  cmhash continual --method ccmh-gam --data wikipedia --sessions 4+3+3 --bits 32 --seed 1 --out runs/wiki\n  cmhash continual --method joint --data synthetic:4000:12 --sessions 4x3 --bits 32 --json');
  addMethodOptions(cmd, METHODS);
  cmd.action(async (o: Opts) => {
      const out = new Output(!!o.json, !!o.quiet);
      if (applyPrecisionOption(o.precision) === 'bf16') out.text('precision: bf16 GEMMs (inputs rounded to bfloat16, float32 accumulation)');
      const bits = checkBits(o.bits, '--bits');
      const seed = optionalInt(o.seed, 'seed', 0)!;
      // the run's seed drives generated data; presets keep their standard split
      const ds = await loadDataset(o.data, { ...dataOptions(o), ...(/^synthetic(:|$)/.test(o.data) ? { seed } : {}) });
      const classOrder = o.classOrder ? parseClassOrder(o.classOrder, ds.labelNames) : undefined;
      const stream = buildClassIncrementalStream(ds, { sessions: o.sessions, classOrder, seed, minBaseItems: MIN_BASE_ITEMS });
      const plan = planFromStream(ds, stream, o.data);
      const chance = chanceBySession(plan);
      let methodOptions = methodOptionsFromFlags(o.method, METHODS, o);
      createContinualHasher(o.method, { bits, ...methodOptions }); // refuses a bad option before any training
      const tuneBudget = o.tune === undefined ? undefined : o.tune === true ? DEFAULT_CONTINUAL_TUNE_BUDGET : optionalInt(o.tune as string, 'tune', 1);
      const baseline = baselineFor(o.method, o.baseline);
      if (o.dbCodes !== 'learned' && o.dbCodes !== 'encoded') throw new InputError(`--db-codes: expected learned or encoded, got ${o.dbCodes}`);
      const train: Record<string, unknown> = {};
      const setNum = (k: string, v: number | undefined) => { if (v !== undefined) train[k] = v; };
      setNum('epochs', optionalInt(o.epochs, 'epochs', 1)); setNum('batchSize', optionalInt(o.batchSize, 'batch-size', 1));
      setNum('patience', optionalInt(o.patience, 'patience', 1));
      const lr = optionalNumber(o.lr, 'lr', 0);
      if (lr === 0) throw new InputError('--lr: expected a positive number, got 0');
      setNum('learningRate', lr);
      let tuned: TunedRecord | undefined;
      if (tuneBudget !== undefined) {
        const bar = out.progress(tuneBudget, `${o.method} tune`);
        const t = await tuneContinual(o.method, plan, {
          bits, seed, budget: tuneBudget, options: methodOptions, train, databaseCodes: o.dbCodes as 'learned' | 'encoded',
          onTrial: (tr, i) => bar.update(i + 1, `val ${tr.score.toFixed(4)} ${JSON.stringify({ ...tr.setting.options, ...tr.setting.train })}`),
        }).finally(() => bar.stop());
        tuned = tunedRecord(t);
        methodOptions = t.best.options;
        Object.assign(train, t.best.train);
        out.text(`--tune: ${t.trials.length} settings tried on held-out training items (no queries); chose ${JSON.stringify({ ...t.best.options, ...t.best.train })} (validation mAP ${t.bestScore.toFixed(4)})`);
      }
      const hasher: ContinualHasher = createContinualHasher(o.method, { bits, ...methodOptions });
      if (o.out) makeFlagFolder('--out', o.out);
      out.text(`${o.method} on ${o.data}: ${ds.n} items, ${ds.numLabels} classes, sessions ${stream.sessionSizes.join('+')}, ${bits} bits, seed ${seed}`);
      if (o.classOrder) out.text(`class order: ${stream.classOrder.map((c) => ds.labelNames[c] ?? String(c)).join(', ')}`);
      const baseItems = stream.sessions[0]!.train.length;
      if (baseItems < VALIDATION_MIN_ITEMS) out.text(`note: the base session has ${baseItems} training items under this class order (fewer than ${VALIDATION_MIN_ITEMS}: no validation split is held out, the nets fit ${baseItems} items)`);
      const sessionsBar = out.progress(plan.sessions.length, 'sessions');
      let epochBar = out.progress(1, 'epochs  ');
      let lastSession = -1;
      const save = async (json: ContinualJson, detail: ContinualDetail) => {
        sessionsBar.update(json.sessions.length, detail.error ? `failed at session ${detail.error.session}` : `session ${json.sessions.length - 1} done`);
        if (!o.out) return;
        const run = json.sessions.length;
        const chanceReport = { final_avg_map: chanceFinalAverage(chance, run), R: chance.slice(0, run).map((c) => c.R) };
        writeJsonAtomic(join(o.out, 'report.json'), { ...withChance(json, chance), detail, command: process.argv.slice(2).join(' '), db_codes: o.dbCodes, chance: chanceReport, ...(tuned ? { tuned } : {}), ...(ref ? { baseline: ref } : {}) });
        if (run) {
          await writeReport(join(o.out, 'report.html'), {
            title: `cmhash continual — ${json.method} on ${json.data}`,
            continual: [{ ...withChance(json, chance), avg_incremental_map: detail.avg_incremental_map, R: { i2t: json.R.i2t.map((r) => r.map((v) => v ?? 0)), t2i: json.R.t2i.map((r) => r.map((v) => v ?? 0)) },
              chance_final_avg_map: chanceReport.final_avg_map, db_codes: DB_CODES[o.dbCodes!] }],
            notes: [`cmhash ${process.argv.slice(2).join(' ')}`, ...(detail.error ? [`stopped: session ${detail.error.session} failed: ${detail.error.message}`] : [])],
          });
        }
      };
      // the baseline first, so every report.json written during the method's run can show it
      let ref: BaselineSummary | undefined;
      if (baseline) {
        const b = await runContinual(createContinualHasher(baseline, { bits }), plan, { bits, seed, train: {}, databaseCodes: o.dbCodes as 'learned' | 'encoded' });
        ref = { method: baseline, final_avg_map: b.json.final_avg_map, sessions: b.json.sessions.map((x) => x.map) };
      }
      const { json, detail } = await runContinual(hasher, plan, {
        bits, seed, train, databaseCodes: o.dbCodes,
        onProgress: (t, p) => {
          if (t !== lastSession) { epochBar.stop(); epochBar = out.progress(p.epochs, `epochs s${t}`); lastSession = t; }
          epochBar.update(p.epoch, Object.entries(p.loss).slice(0, 2).map(([k, v]) => `${k} ${v.toFixed(4)}`).join(' '));
        },
        afterSession: save,
      }).finally(() => { epochBar.stop(); sessionsBar.stop(); });
      out.record({ ...withChance(json, chance), ...(tuned ? { tuned } : {}), ...(ref ? { baseline: ref } : {}) });
      out.text(`database codes (--db-codes ${DB_CODES[o.dbCodes]}); queries: net outputs`);
      out.text('chance: expected mAP of a random ranking of the database so far for the session\'s queries (the same both directions)');
      out.table(json.sessions.map((s, t) => ({
        session: t, new_classes: detail.per_session[t]!.new_classes.length, train_items: detail.per_session[t]!.train_items, db_items: detail.per_session[t]!.database_items,
        'mAP I→T': s.map.i2t, 'mAP T→I': s.map.t2i, ...(ref ? { [`${ref.method} I→T`]: ref.sessions[t]?.i2t, [`${ref.method} T→I`]: ref.sessions[t]?.t2i } : {}), chance: chance[t]!.map, train_s: s.train_seconds, memory: s.memory_items, stored_stab: s.stored_code_stability, reencode_stab: s.reencode_stability,
      })));
      out.text(`final average mAP  I→T ${json.final_avg_map.i2t.toFixed(4)}  T→I ${json.final_avg_map.t2i.toFixed(4)}   (chance ${chanceFinalAverage(chance, json.sessions.length).toFixed(4)})`);
      if (ref) out.text(`  ${ref.method} baseline, same stream (refit on all data each session): I→T ${ref.final_avg_map.i2t.toFixed(4)}  T→I ${ref.final_avg_map.t2i.toFixed(4)}`);
      out.text(`avg incremental    I→T ${detail.avg_incremental_map.i2t.toFixed(4)}  T→I ${detail.avg_incremental_map.t2i.toFixed(4)}`);
      out.text(`BWT ${json.bwt.toFixed(4)}   forgetting ${json.forgetting.toFixed(4)}`);
      const val = detail.per_session.at(-1)?.validation_map;
      if (val) out.text(`validation mAP (held-out training items of every session; selection score) I→T ${val.i2t.toFixed(4)}  T→I ${val.t2i.toFixed(4)}`);
      for (const dir of ['i2t', 't2i'] as const) {
        out.text(`R[t][j] ${dir}:`);
        for (const row of json.R[dir]) out.text('  ' + row.map((v) => (v === null ? '  -   ' : v.toFixed(4))).join(' '));
      }
      out.text('R[t][j] chance (random ranking, both directions):');
      for (const c of chance.slice(0, json.sessions.length)) out.text('  ' + c.R.map((v) => (v === null ? '  -   ' : v.toFixed(4))).join(' '));
      if (Array.isArray(detail.memory) && detail.memory.length) {
        out.text('memory (per session: items, last-layer matching bound, measured full-gradient error, random memory error):');
        for (const m of detail.memory as { session: number; items: number; bound: number; measured: number; randomMeasured: number }[]) {
          out.text(`  s${m.session}: ${m.items} items  bound ${m.bound.toFixed(4)}  measured ${m.measured.toFixed(4)}  random ${m.randomMeasured.toFixed(4)}`);
        }
      }
      if (o.out) out.text(`wrote ${join(o.out, 'report.json')} and ${join(o.out, 'report.html')}`);
    });
}
