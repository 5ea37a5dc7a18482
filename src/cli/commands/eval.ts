// `cmhash eval --model <ckpt>[,<ckpt>…] --data <preset|path>`: loads trained models (any method;
// the checkpoint says which), encodes the query split and the retrieval split, and prints mAP@all
// and mAP@50 for I→T and T→I per model — the same table and JSON records as `cmhash train`.
import type { Command } from 'commander';
import { InputError } from '../../util/errors.js';
import { getBackend } from '../../tensor/backends.js';
import { loadHasher } from '../../methods/registry.js';
import { evaluateCrossModal } from '../../methods/evaluate.js';
import { checkBits } from '../../methods/training-loop.js';
import { Output } from '../output.js';
import { checkpointOf } from '../checkpoint-of.js';
import { checkOutputFile } from '../flag-paths.js';
import { anyLabelled, warnUnmeasurable } from '../unlabelled-data.js';
import { addDataFlags, dataOptions, loadDataForMethods, splitItems } from './dataset-for-methods.js';
import { jsonRecord, maybeWriteReport, parseList, resultTable, type RunResult } from './train.js';

interface EvalCliOptions { model: string[]; data: string; method?: string; bits?: string; threads: string; report?: string; json?: boolean; imageFeatures?: string; cacheDir?: string }

export function register(program: Command): void {
  addDataFlags(program.command('eval'))
    .description('evaluate trained models: mAP@all and mAP@50, I→T and T→I, query split vs retrieval split')
    .requiredOption('--model <paths...>', 'checkpoint file(s) written by `cmhash train --out`, or collection folders (their current model); space- or comma-separated')
    .requiredOption('--data <preset|path>', 'the data the models were trained for (wikipedia | mirflickr25k-photos | path)')
    .option('--method <name>', 'refuse checkpoints of another method')
    .option('--bits <n>', 'refuse checkpoints of another code length')
    .option('--threads <n>', 'kernel threads', '1')
    .option('--report <file.html>', 'also write an HTML report (PR by radius, P@N, mAP vs bits)')
    .option('--json', 'one JSON object per model: {"method","data","bits","seed","map_all":{"i2t","t2i"},"map_50":{"i2t","t2i"},"train_seconds"}')
    .addHelpText('after', `
Example:
  cmhash train --method dbrc --data wikipedia --bits 16,32 --out models
  cmhash eval --model models/dbrc-wikipedia-16b-s1.ckpt models/dbrc-wikipedia-32b-s1.ckpt --data wikipedia --report wiki.html`)
    .action(async (o: EvalCliOptions) => {
      const out = new Output(!!o.json);
      const threads = Number(o.threads);
      if (!Number.isInteger(threads) || threads < 1) throw new InputError(`--threads must be a positive integer, got ${o.threads}`);
      getBackend().setThreads(threads);
      const bits = o.bits !== undefined ? parseList(o.bits, '--bits', (b) => checkBits(b, '--bits'))[0] : undefined;
      const paths = o.model.flatMap((m) => m.split(',')).map((s) => s.trim()).filter(Boolean);
      if (paths.length === 0) throw new InputError('--model: no checkpoint given');
      if (o.report !== undefined) checkOutputFile('--report', o.report);
      const models = paths.map((p) => ({ path: p, model: loadHasher(checkpointOf(p), { method: o.method, bits }) }));
      const loaded = await loadDataForMethods(o.data, out, dataOptions(o));
      const ds = loaded.dataset;
      const query = splitItems(ds, 'query'), database = splitItems(ds, 'retrieval');
      const results: RunResult[] = [];
      for (const { path, model } of models) {
        if (model.imageDim !== undefined && (model.imageDim !== ds.imageDim || model.textDim !== ds.textDim)) {
          throw new InputError(`${path}: the model takes image ${model.imageDim}-d / text ${model.textDim}-d features, but ${o.data} has image ${ds.imageDim}-d / text ${ds.textDim}-d`);
        }
        const ev = evaluateCrossModal(model, query, database, [50]);
        const r: RunResult = {
          method: model.method, data: loaded.name, bits: model.bits, seed: model.trainInfo?.seed ?? 0,
          map_all: ev.map_all, map_50: ev.map_at[50]!, train_seconds: model.trainInfo?.trainSeconds ?? 0,
          model: path, pr: ev.pr, pAtN: ev.pAtN,
        };
        results.push(r);
        out.record(jsonRecord(r));
      }
      if (!anyLabelled(ds)) warnUnmeasurable(loaded.name);
      out.table(resultTable(results));
      await maybeWriteReport(o.report, results, [`cmhash eval --model ${paths.join(' ')} --data ${o.data}`], out);
    });
}
