// `cmhash bench extract`: feature-extraction speed (images/s, decode included) of each image encoder
// at 1 and 2 threads on real photos, with the hand-crafted descriptor measured in the same run as the
// reference. Model loading is timed apart (it happens once per process or worker); each thread
// encodes one image first (WebAssembly compilation, first-call allocation) before the clock starts.
// Nothing is cached: every image is decoded and encoded.
import type { Command } from 'commander';
import { availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';
import { InputError, NotFoundError } from '../../util/errors.js';
import { listImages } from '../../data/extract.js';
import { imageEncoderEntry, imageEncoderNames } from '../../data/image-encoders/encoder.js';
import { EncoderPool } from '../../data/image-encoders/pool.js';
import { findDataDir } from '../../data/presets/common.js';
import { Output } from '../output.js';
import { intOption } from '../options.js';

export interface ExtractBenchRow {
  encoder: string; dim: number; threads: number; images: number;
  /** Images per second over the timed images (decode + encode), and milliseconds per image per thread. */
  images_per_second: number; ms_per_image: number;
  /** Seconds to load the encoder (all threads), before the timed part. */
  load_seconds: number;
  /** images_per_second ÷ the descriptor's at the same thread count (same run). */
  vs_descriptor: number | null;
}

export async function benchExtract(files: string[], encoders: string[], threadsList: number[], onRow?: (r: ExtractBenchRow) => void): Promise<ExtractBenchRow[]> {
  const rows: ExtractBenchRow[] = [];
  for (const threads of threadsList) {
    let ref: number | null = null;
    for (const name of encoders) {
      const t0 = performance.now();
      const pool = await EncoderPool.open(name, threads);
      try {
        await Promise.all(Array.from({ length: threads }, (_, k) => pool.encodeFile(files[k % files.length]!))); // warm-up per thread
        const load = (performance.now() - t0) / 1000;
        const t1 = performance.now();
        let next = 0;
        await Promise.all(Array.from({ length: threads }, async () => { while (next < files.length) await pool.encodeFile(files[next++]!); }));
        const sec = (performance.now() - t1) / 1000;
        const ips = files.length / sec;
        if (name === 'descriptor') ref = ips;
        const row: ExtractBenchRow = { encoder: name, dim: pool.dim, threads, images: files.length, images_per_second: ips, ms_per_image: (1000 * sec * threads) / files.length, load_seconds: load, vs_descriptor: ref !== null ? ips / ref : null };
        rows.push(row); onRow?.(row);
      } finally { await pool.close(); }
    }
  }
  return rows;
}

export function register(bench: Command): void {
  bench.command('extract')
    .description('image feature extraction speed (images/s, decode included) per encoder at 1 and 2 threads, the descriptor as the same-run reference')
    .option('--folder <dir>', 'folder of photos (default: the MIRFlickr photos, mirflickr25k/images)')
    .option('--images <n>', 'photos timed per (encoder, threads)', '40')
    .option('--encoders <list>', `encoders: ${imageEncoderNames().join(',')}`, 'descriptor,centernet')
    .option('--threads <list>', 'thread counts (worker threads, one encoder copy each)', '1,2')
    .option('--json', 'one JSON object per line: {"encoder","dim","threads","images","images_per_second","ms_per_image","load_seconds","vs_descriptor"}')
    .action(async (o: { folder?: string; images: string; encoders: string; threads: string; json?: boolean }) => {
      const out = new Output(!!o.json);
      const n = intOption(o.images, 'images', 1);
      const encoders = o.encoders.split(',').map((s) => imageEncoderEntry(s.trim()).name);
      if (encoders.includes('descriptor')) encoders.sort((a, b) => (a === 'descriptor' ? -1 : b === 'descriptor' ? 1 : 0));
      const threadsList = o.threads.split(',').map((s) => Number(s.trim()));
      for (const t of threadsList) if (!Number.isInteger(t) || t < 1) throw new InputError(`--threads: expected positive integers, got '${o.threads}'`);
      const folder = o.folder ?? (findDataDir('mirflickr25k') ? join(findDataDir('mirflickr25k')!, 'images') : null);
      if (!folder) throw new NotFoundError('no --folder given and the MIRFlickr photos were not found (mirflickr25k/images under $CMHASH_DATA or ../shared/data)');
      const files = listImages(folder).slice(0, n).map((f) => join(folder, f));
      if (files.length === 0) throw new InputError(`${folder}: no images`);
      out.text(`bench extract: ${files.length} photos from ${folder}; ${cpus()[0]?.model ?? 'cpu'} × ${availableParallelism()}; load average ${(await import('node:os')).loadavg().map((x) => x.toFixed(1)).join(' ')}`);
      const rows = await benchExtract(files, encoders, threadsList, (r) => out.record(r));
      out.table(rows.map((r) => ({
        encoder: r.encoder, dim: r.dim, threads: r.threads, images: r.images, 'images/s': r.images_per_second.toFixed(1),
        'ms/image/thread': r.ms_per_image.toFixed(0), 'load s': r.load_seconds.toFixed(2), '÷ descriptor': r.vs_descriptor === null ? '—' : r.vs_descriptor.toFixed(3),
      })));
    });
}
