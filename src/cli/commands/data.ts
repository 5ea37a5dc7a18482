import type { Command } from 'commander';
import { existsSync, unlinkSync } from 'node:fs';
import { Output } from '../output.js';
import { loadDataset } from '../../data/load.js';
import { validateDataset } from '../../data/validate.js';
import { extractImages } from '../../data/extract.js';
import { writeNpy } from '../../data/npy.js';
import { PRESETS } from '../../data/presets/index.js';
import { InputError } from '../../util/errors.js';
import { writeFileAtomic } from '../../util/atomic-write.js';

interface InfoOpts { json?: boolean; seed?: string; source?: string; imageKey?: string; textKey?: string; labelKey?: string; imageFeatures?: string; cacheDir?: string }

export function register(program: Command): void {
  const data = program.command('data').description('inspect datasets and extract features from raw inputs');

  data.command('info <spec>')
    .description('load a dataset (preset name or path) and print items, dims, labels with counts, splits')
    .option('--json', 'machine-readable output: {"items","image_dim","text_dim","labels":[{"name","count"}],"splits":{name:size}}')
    .option('--seed <n>', 'seed for the standard split', '0')
    .option('--source <which>', 'wikipedia: npy | mat | v73')
    .option('--image-key <name>', 'variable holding image features')
    .option('--text-key <name>', 'variable holding text features')
    .option('--label-key <name>', 'variable holding labels')
    .option('--image-features <kind>', 'mirflickr25k: shared | extracted')
    .option('--cache-dir <dir>', 'where extracted features are cached')
    .addHelpText('after', `\nPresets: ${PRESETS.map((p) => p.name).join(', ')}\nExamples:\n  cmhash data info wikipedia\n  cmhash data info mirflickr25k --json\n  cmhash data info ./FLICKR-25K.mat --image-key IAll --text-key YAll --label-key LAll`)
    .action(async (spec: string, o: InfoOpts) => {
      const out = new Output(!!o.json);
      const seed = Number(o.seed ?? 0);
      if (!Number.isInteger(seed)) throw new InputError(`--seed: expected an integer, got '${o.seed}'`);
      if (o.imageFeatures && o.imageFeatures !== 'shared' && o.imageFeatures !== 'extracted') throw new InputError(`--image-features: expected shared or extracted, got '${o.imageFeatures}'`);
      const bar = out.progress(1, 'extract');
      const ds = await loadDataset(spec, {
        seed, source: o.source, keys: { image: o.imageKey, text: o.textKey, labels: o.labelKey },
        imageFeatures: o.imageFeatures as 'shared' | 'extracted' | undefined, cacheDir: o.cacheDir,
        onProgress: (d, t) => { bar.setTotal(t); bar.update(d); },
      });
      bar.stop();
      const s = ds.summary();
      const report = validateDataset(ds);
      out.record(s);
      out.text(`${ds.name}  (${ds.source})`);
      out.text(`items ${s.items}   image_dim ${s.image_dim}   text_dim ${s.text_dim}   labels ${ds.numLabels}` + (ds.hasImage ? `   with image ${ds.n - report.rowsWithoutImage}` : ''));
      out.text(`splits ${Object.entries(s.splits).map(([k, v]) => `${k}=${v}`).join('  ')}`);
      out.table(s.labels.map((l) => ({ label: l.name, count: l.count })));
      for (const e of report.errors) out.text(`error: ${e}`);
      for (const w of report.warnings) out.text(`warning: ${w}`);
    });

  data.command('extract <folder>')
    .description('describe every image of a folder (544-d HSV colour histogram + HOG-like texture, L2-normalised); resumable')
    .requiredOption('--out <file.npy>', 'features as .npy (ids go to <file>.ids.txt)')
    .option('--no-resume', 'ignore partial results from an earlier run')
    .option('--keep-partial', 'keep the partial-results file after success')
    .option('--json', 'machine-readable summary')
    .addHelpText('after', '\nExample:\n  cmhash data extract ../shared/data/mirflickr25k/images --out flickr-img.npy')
    .action(async (folder: string, o: { out: string; resume: boolean; keepPartial?: boolean; json?: boolean }) => {
      const out = new Output(!!o.json);
      const partial = `${o.out}.partial.jsonl`;
      if (!o.resume && existsSync(partial)) unlinkSync(partial);
      const bar = out.progress(1, 'extract');
      const t0 = Date.now();
      const res = await extractImages(folder, { partialFile: partial, resume: o.resume, onProgress: (d, t) => { bar.setTotal(t); bar.update(d); } });
      bar.stop();
      writeNpy(o.out, { shape: [res.ids.length, res.dim], dtype: 'float32', data: res.features });
      const idsFile = `${o.out}.ids.txt`;
      writeFileAtomic(idsFile, res.ids.join('\n') + '\n');
      if (!o.keepPartial && res.failed.length === 0) unlinkSync(partial);
      const summary = { images: res.ids.length, dim: res.dim, resumed: res.resumed, failed: res.failed.length, seconds: (Date.now() - t0) / 1000, out: o.out, ids: idsFile };
      out.record(summary);
      out.text(`${summary.images} images → ${o.out} [${summary.images}×${summary.dim}] (${summary.resumed} resumed, ${summary.failed} failed) in ${summary.seconds.toFixed(1)} s`);
      for (const f of res.failed.slice(0, 10)) out.text(`failed: ${f.id}: ${f.error}`);
    });
}
