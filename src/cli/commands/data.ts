import type { Command } from 'commander';
import { addDataFlags } from './dataset-for-methods.js';
import { existsSync, unlinkSync } from 'node:fs';
import { resolve } from 'node:path';
import { Output } from '../output.js';
import { loadDataset } from '../../data/load.js';
import { validateDataset } from '../../data/validate.js';
import { defaultCacheDir, extractImages, extractionCacheFile } from '../../data/extract.js';
import { IMAGE_ENCODERS, imageEncoderEntry, imageEncoderNames } from '../../data/image-encoders/encoder.js';
import { writeNpy } from '../../data/npy.js';
import { PRESETS } from '../../data/presets/index.js';
import { InputError } from '../../util/errors.js';
import { writeFileAtomic } from '../../util/atomic-write.js';

interface InfoOpts { json?: boolean; seed?: string; source?: string; imageKey?: string; textKey?: string; labelKey?: string; transpose?: boolean; imageFeatures?: string; cacheDir?: string }

export function register(program: Command): void {
  const data = program.command('data').description('inspect datasets and extract features from raw inputs');

  addDataFlags(data.command('info <spec>'))
    .description('load a dataset (preset name or path) and print items, dims, labels with counts, splits')
    .option('--json', 'machine-readable output: {"items","image_dim","text_dim","labels":[{"name","count"}],"splits":{name:size}}')
    .option('--seed <n>', 'seed for the standard split', '0')
    .option('--source <which>', 'wikipedia: npy | mat | v73')
    .addHelpText('after', `\nPresets: ${PRESETS.map((p) => p.name).join(', ')}\nExamples:\n  cmhash data info wikipedia\n  cmhash data info mirflickr25k --json\n  cmhash data info ./FLICKR-25K.mat --image-key IAll --text-key YAll --label-key LAll\n  cmhash data info ./wiki.mat --image-key data.X1 --text-key data.X2 --label-key data.Y\n  cmhash data info ./my-npy-folder   (image/text/labels.npy, IAll/YAll/LAll.npy, X/Y/L.npy or I_tr/I_te…; optional splits.json or split.npy)`)
    .action(async (spec: string, o: InfoOpts) => {
      const out = new Output(!!o.json);
      const seed = Number(o.seed ?? 0);
      if (!Number.isInteger(seed)) throw new InputError(`--seed: expected an integer, got '${o.seed}'`);
      if (o.imageFeatures && o.imageFeatures !== 'shared' && o.imageFeatures !== 'extracted') throw new InputError(`--image-features: expected shared or extracted, got '${o.imageFeatures}'`);
      const bar = out.progress(1, 'extract');
      const ds = await loadDataset(spec, {
        seed, source: o.source, keys: { image: o.imageKey, text: o.textKey, labels: o.labelKey }, transpose: o.transpose,
        imageFeatures: o.imageFeatures as 'shared' | 'extracted' | undefined, cacheDir: o.cacheDir,
        onProgress: (d, t) => { bar.setTotal(t); bar.update(d); },
      });
      bar.stop();
      const s = ds.summary();
      const report = validateDataset(ds);
      out.record(s);
      out.text(`${ds.name}  (${ds.source})`);
      out.text(`items ${s.items}   image_dim ${s.image_dim}   text_dim ${s.text_dim}   labels ${ds.numLabels}` + (ds.hasImage ? `   with image ${ds.n - report.rowsWithoutImage}` : '') + (ds.hasText ? `   with text ${ds.n - report.rowsWithoutText}` : ''));
      out.text(`splits ${Object.entries(s.splits).map(([k, v]) => `${k}=${v}`).join('  ')}`);
      out.table(s.labels.map((l) => ({ label: l.name, count: l.count })));
      for (const e of report.errors) out.text(`error: ${e}`);
      for (const w of report.warnings) out.text(`warning: ${w}`);
    });

  data.command('extract <folder>')
    .description('encode every image of a folder with an image encoder (descriptor: 544-d colour + texture; centernet: 560-d deep features); resumable, cached outside the data folder')
    .option('--encoder <name>', `image encoder: ${imageEncoderNames().join(' | ')}`, 'descriptor')
    .option('--out <file.npy>', 'features as .npy (ids go to <file>.ids.txt); default: next to the cache')
    .option('--cache-dir <dir>', `where partial results are kept (resumable); never inside the data folder (default ${defaultCacheDir()}/extract)`)
    .option('--threads <n>', 'encoder threads (worker threads, one model copy each)', '1')
    .option('--no-resume', 'ignore partial results from an earlier run')
    .option('--keep-partial', 'keep the partial-results file after success')
    .option('--json', 'machine-readable summary: {"images","dim","encoder","version","resumed","failed","failures":[{"file","error"}],"out","ids","cache",…}')
    .addHelpText('after', `\nEncoders:\n${IMAGE_ENCODERS.map((e) => `  ${e.name.padEnd(11)} ${e.dim}-d  ${e.summary}`).join('\n')}\nAn image that cannot be decoded gets no row and no id: it is listed (path and reason; "failures" in --json), the other rows are written, and the exit status is 2.\nExample:\n  cmhash data extract ../shared/data/mirflickr25k/images --encoder centernet --out flickr-centernet.npy`)
    .action(async (folder: string, o: { out?: string; encoder: string; cacheDir?: string; threads: string; resume: boolean; keepPartial?: boolean; json?: boolean }) => {
      const out = new Output(!!o.json);
      const entry = imageEncoderEntry(o.encoder);
      const threads = Number(o.threads);
      if (!Number.isInteger(threads) || threads < 1) throw new InputError(`--threads: expected a positive integer, got '${o.threads}'`);
      const partial = extractionCacheFile(folder, entry.name, o.cacheDir);
      const target = o.out ?? partial.replace(/\.partial\.jsonl$/, '.npy');
      if (!o.resume && existsSync(partial)) unlinkSync(partial);
      const bar = out.progress(1, `extract ${entry.name}`);
      const t0 = Date.now();
      const res = await extractImages(folder, { partialFile: partial, resume: o.resume, encoder: entry.name, threads, onProgress: (d, t) => { bar.setTotal(t); bar.update(d); } });
      bar.stop();
      // Only real features are written: a failed image has no row (and no id), never a zero vector.
      const good = res.ids.flatMap((_, i) => (res.ok[i] ? [i] : []));
      const rows = new Float32Array(good.length * res.dim);
      good.forEach((i, k) => rows.set(res.features.subarray(i * res.dim, (i + 1) * res.dim), k * res.dim));
      writeNpy(target, { shape: [good.length, res.dim], dtype: 'float32', data: rows });
      const idsFile = `${target}.ids.txt`;
      writeFileAtomic(idsFile, good.map((i) => res.ids[i]!).join('\n') + (good.length ? '\n' : ''));
      if (!o.keepPartial && res.failed.length === 0 && existsSync(partial)) unlinkSync(partial);
      const seconds = (Date.now() - t0) / 1000;
      const failures = res.failed.map((f) => ({ file: resolve(folder, f.id), error: f.error }));
      const summary = { images: good.length, dim: res.dim, encoder: res.encoder, version: res.version, resumed: res.resumed, failed: failures.length, failures, seconds, images_per_second: (res.ids.length - res.resumed) / Math.max(seconds, 1e-9), out: target, ids: idsFile, cache: partial };
      out.record(summary);
      out.text(`${summary.images} images → ${target} [${summary.images}×${summary.dim}] ${res.encoder} (${summary.resumed} resumed, ${summary.failed} failed and left out) in ${seconds.toFixed(1)} s`);
      // the encoders' messages start with the file's path already
      const describeFailure = (f: { file: string; error: string }) => (f.error.startsWith(f.file) ? f.error : `${f.file}: ${f.error}`);
      for (const f of failures.slice(0, 20)) out.text(`failed: ${describeFailure(f)}`);
      if (failures.length > 20) out.text(`… and ${failures.length - 20} more${o.json ? '' : ' (all of them with --json)'}`);
      if (failures.length) {
        throw new InputError(`${failures.length} of ${res.ids.length} images in ${resolve(folder)} could not be encoded and were left out of ${target} (first: ${describeFailure(failures[0]!)}); `
          + `the other ${good.length} rows were written; partial results kept in ${partial}: fix or remove those files and rerun (only they are redone)`);
      }
    });
}
