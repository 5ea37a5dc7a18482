// `cmhash bench concepts`: do deep image features find the photos a concept query asks for? Two
// photo collections of the same data, built by `cmhash demo` (a child process of this CLI, so the
// build is exactly the demo's) with the same settings and seed except the image encoder
// (centernet vs descriptor), are served in-process by the real HTTP service; each concept name
// (and a few phrases) goes to POST /api/collections/<name>/search as raw text, and P@10 is the share
// of the top-10 photos whose labels carry the concept. The chance level (the share of the
// collection's photos carrying it) is printed beside each row. Queries whose words the collection's
// vocabulary does not know are listed, not scored.
import type { Command } from 'commander';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Output } from '../output.js';
import { InputError } from '../../util/errors.js';
import { intOption } from '../options.js';
import { tokenize } from '../../data/text-features.js';
import { CollectionRegistry } from '../../product/registry.js';
import { startService } from '../../server/serve.js';
import type { Collection, ItemInput } from '../../product/collection.js';
import { imageToFeatures, textToFeatures } from '../../product/featurize.js';
import { loadDataset } from '../../data/load.js';

const ENCODERS = ['centernet', 'descriptor'] as const;
type Encoder = (typeof ENCODERS)[number];
/** The phrases of the issue; single concept names among them are also rows of the concept list. */
const PHRASES = ['sunset sea', 'dog', 'car', 'flower', 'night'];

interface Opts { data: string; dir?: string; rebuild?: boolean; seed: string; k: string; cacheDir?: string; encoderThreads?: string; heldOut?: boolean; json?: boolean }

const HELD = 'held-';

function runDemo(args: string[]): Promise<void> {
  const bin = fileURLToPath(new URL('../../../../bin/cmhash.js', import.meta.url));
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, [bin, 'demo', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); if (err.length > 20_000) err = err.slice(-10_000); });
    child.on('close', (code) => code === 0 ? res() : rej(new InputError(`cmhash demo ${args.join(' ')} exited ${code}: ${err.trim().split(/[\r\n]/).at(-1) ?? ''}`)));
  });
}

/** The concepts a query asks for: a label name itself, or the label names among its words. */
/**
 * Adds the data set's query-split photos to a collection as new items ("held-…"), encoded by the
 * collection's own image encoder from the photo files and its text features from the tags — what
 * `POST …/items/upload` does for a new photo; returns how many (0 when they are there already).
 */
async function addHeldOut(c: Collection, data: string): Promise<number> {
  const ds = await loadDataset(data);
  const rows = ds.split('query');
  const ids = Array.from(rows, (r) => `${HELD}${ds.ids[r]}`);
  if (c.snapshot().image.has(ids[0]!)) return 0;
  const known = new Set(c.info().labels);
  const items: ItemInput[] = [];
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!, raw = ds.raw?.[r];
    if (!raw?.image) throw new InputError(`${data}: row ${r} has no photo file`);
    const labels = ds.labelNames.filter((nm, j) => ds.labels[r * ds.numLabels + j] === 1 && known.has(nm));
    items.push({ id: ids[i]!, image: await imageToFeatures(readFileSync(raw.image), c.config), text: textToFeatures(raw.text ?? '', c.vocabulary, c.config), labels });
  }
  await c.addItems(items);
  return items.length;
}

function conceptsOf(query: string, labels: readonly string[]): string[] {
  if (labels.includes(query)) return [query];
  return query.split(/\s+/).filter((w) => labels.includes(w));
}

interface Row {
  query: string; concepts: string[]; named: boolean;
  /** The query's words the vocabulary knows / does not know (what the service encodes). */
  known: string[]; unknown: string[];
  encodable: boolean;
  p10: Record<Encoder, number | null>;
  /** Phrases of several concepts: share of the top-k carrying all of them. */
  p10_all: Record<Encoder, number | null>;
  /** Expected P@k if ties at the k-th Hamming distance were broken at random. */
  p10_tie_aware: Record<Encoder, number | null>;
  ids: Record<Encoder, string[]>;
  chance: number; chance_all: number;
}

export function register(bench: Command): void {
  bench.command('concepts')
    .description('P@10 of concept-name text queries through the served API: a centernet photo collection vs a descriptor one (same demo build, same seed)')
    .option('--data <preset>', 'photo data set (built with `cmhash demo --data`)', 'mirflickr25k-photos')
    .option('--dir <dir>', 'where the two collections live (<dir>/centernet, <dir>/descriptor); existing ones are reused', join(tmpdir(), 'cmhash-bench-concepts'))
    .option('--rebuild', 'rebuild the collections even if --dir has them')
    .option('--seed <n>', 'random seed of both builds', '1')
    .option('--k <n>', 'results per query', '10')
    .option('--cache-dir <dir>', 'image feature cache passed to the demo (default $CMHASH_CACHE or ~/.cache/cmhash)')
    .option('--encoder-threads <n>', 'threads encoding photos on a first run')
    .option('--held-out', "add the data's query-split photos (never trained on) to both collections, each encoded by the collection's own encoder, and score P@k among those photos only — the catalogue-grows case, where the image encoder, not the training, makes the photo's code")
    .option('--json', 'one JSON object per query, then a summary')
    .action(async (o: Opts) => {
      const out = new Output(!!o.json);
      const seed = intOption(o.seed, 'seed', 0), k = intOption(o.k, 'k', 1);
      const root = resolve(o.dir ?? join(tmpdir(), 'cmhash-bench-concepts'));
      const registry = new CollectionRegistry();
      const names: Record<Encoder, string> = { centernet: 'photos-centernet', descriptor: 'photos-descriptor' };
      const t0 = performance.now();
      try {
        for (const enc of ENCODERS) {
          const dir = join(root, enc);
          const cfgFile = join(dir, 'collection.json');
          let reuse = !o.rebuild && existsSync(cfgFile);
          if (reuse) {
            const cfg = JSON.parse(readFileSync(cfgFile, 'utf8')) as { imageEncoderVersion?: string };
            if (!cfg.imageEncoderVersion?.startsWith(enc === 'centernet' ? 'centernet' : 'cmhash-')) reuse = false;
          }
          if (!reuse) {
            const args = ['--data', o.data, '--image-encoder', enc, '--seed', String(seed), '--no-serve', '--json', '--dir', dir];
            if (o.cacheDir) args.push('--cache-dir', o.cacheDir);
            if (o.encoderThreads) args.push('--encoder-threads', o.encoderThreads);
            out.text(`building ${dir}: cmhash demo ${args.join(' ')}`);
            const t = performance.now();
            await runDemo(args);
            out.text(`  built in ${((performance.now() - t) / 1000).toFixed(1)} s`);
          } else out.text(`reusing ${dir}`);
          registry.openDir(dir, names[enc]);
        }
        const cn = registry.get(names.centernet), de = registry.get(names.descriptor);
        if (o.heldOut) {
          for (const c of [cn, de]) {
            const n = await addHeldOut(c, o.data);
            out.text(n ? `${c.name}: added ${n} held-out photos (query split), encoded by ${c.config.imageDescriptor}` : `${c.name}: held-out photos already added`);
          }
        }
        const labels = cn.info().labels;
        if (de.info().labels.join() !== labels.join()) throw new InputError('the two collections have different label lists');
        const vocab = cn.vocabulary;
        if (!vocab) throw new InputError(`${o.data}: the collection has no vocabulary for raw-text queries`);
        const terms = new Set(vocab.terms);
        // the database each query runs against (the same photos in both: same data, same seed)
        const dbIds = cn.snapshot().image.ids().filter((id) => !o.heldOut || id.startsWith(HELD));
        const dbItems = cn.items(dbIds);
        const deIds = new Set(de.snapshot().image.ids().filter((id) => !o.heldOut || id.startsWith(HELD)));
        if (deIds.size !== dbIds.length || dbIds.some((id) => !deIds.has(id))) throw new InputError('the two collections hold different photos');
        const share = (f: (ls: string[]) => boolean) => dbItems.filter((it) => f(it.labels)).length / dbItems.length;

        const started = await startService({ collections: registry, host: '127.0.0.1', port: 0, processMetrics: false });
        const rows: Row[] = [];
        try {
          const search = async (name: string, text: string, kk: number) => {
            const ask = o.heldOut ? 1000 : kk;
            const r = await fetch(`${started.url}/api/collections/${name}/search`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ modality: 'text', query: { text }, k: ask }) });
            if (!r.ok) throw new InputError(`search ${name} "${text}": HTTP ${r.status} ${await r.text()}`);
            const all = ((await r.json()) as { results: { id: string; distance: number; labels: string[] }[] }).results;
            // held out: the ranking among the held-out photos only (the search asks for enough to hold them)
            return o.heldOut ? all.filter((h) => h.id.startsWith(HELD)).slice(0, kk) : all;
          };
          const queries = [...labels, ...PHRASES.filter((p) => !labels.includes(p))];
          for (const q of queries) {
            const concepts = conceptsOf(q, labels);
            const words = tokenize(q);
            const known = words.filter((w) => terms.has(w)), unknown = words.filter((w) => !terms.has(w));
            const row: Row = {
              query: q, concepts, named: PHRASES.includes(q), known, unknown, encodable: known.length > 0,
              p10: { centernet: null, descriptor: null }, p10_all: { centernet: null, descriptor: null }, p10_tie_aware: { centernet: null, descriptor: null },
              ids: { centernet: [], descriptor: [] },
              chance: share((ls) => concepts.some((c) => ls.includes(c))), chance_all: share((ls) => concepts.every((c) => ls.includes(c))),
            };
            if (row.encodable) {
              for (const enc of ENCODERS) {
                const top = await search(names[enc], q, k);
                const hit = (ls: string[]) => concepts.some((c) => ls.includes(c));
                row.ids[enc] = top.map((r) => r.id);
                row.p10[enc] = top.filter((r) => hit(r.labels)).length / k;
                row.p10_all[enc] = top.filter((r) => concepts.every((c) => r.labels.includes(c))).length / k;
                // ties at the k-th distance: the served order is one of many; the expectation over them
                const dk = top.at(-1)?.distance;
                if (dk !== undefined) {
                  const wide = await search(names[enc], q, Math.min(1000, dbIds.length));
                  const below = wide.filter((r) => r.distance < dk), at = wide.filter((r) => r.distance === dk);
                  const need = k - below.length;
                  row.p10_tie_aware[enc] = (below.filter((r) => hit(r.labels)).length + need * (at.filter((r) => hit(r.labels)).length / at.length)) / k;
                }
              }
            }
            rows.push(row);
            out.record({ ...row });
          }
        } finally {
          await started.app.close();
        }

        const f = (x: number | null) => (x === null ? '—' : x.toFixed(2));
        const diff = (r: Row) => (r.p10.centernet === null || r.p10.descriptor === null ? null : r.p10.centernet - r.p10.descriptor);
        out.text('');
        out.text(`| query | words the vocabulary encodes | centernet P@${k} | descriptor P@${k} | difference | tie-aware cn / de | chance |`);
        out.text('|---|---|---|---|---|---|---|');
        for (const r of rows) {
          const d = diff(r);
          const enc = r.encodable ? (r.unknown.length ? `${r.known.join(' ')} (not: ${r.unknown.join(' ')})` : r.known.join(' ')) : `none (not a tag: ${r.unknown.join(' ')})`;
          const both = r.concepts.length > 1 ? ` (both: ${f(r.p10_all.centernet)})` : '';
          const bothD = r.concepts.length > 1 ? ` (both: ${f(r.p10_all.descriptor)})` : '';
          const chance = r.concepts.length > 1 ? `${f(r.chance)} (both: ${f(r.chance_all)})` : f(r.chance);
          out.text(`| ${r.named ? `**${r.query}**` : r.query} | ${enc} | ${f(r.p10.centernet)}${both} | ${f(r.p10.descriptor)}${bothD} | ${d === null ? '—' : (d >= 0 ? '+' : '') + d.toFixed(2)} | ${f(r.p10_tie_aware.centernet)} / ${f(r.p10_tie_aware.descriptor)} | ${chance} |`);
        }
        const scored = rows.filter((r) => r.encodable);
        const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
        const summarize = (rs: Row[]) => {
          const ds = rs.map((r) => diff(r)!);
          return {
            queries: rs.length,
            mean: { centernet: mean(rs.map((r) => r.p10.centernet!)), descriptor: mean(rs.map((r) => r.p10.descriptor!)), chance: mean(rs.map((r) => r.chance)) },
            mean_tie_aware: { centernet: mean(rs.map((r) => r.p10_tie_aware.centernet!)), descriptor: mean(rs.map((r) => r.p10_tie_aware.descriptor!)) },
            centernet_wins: ds.filter((d) => d > 1e-9).length, ties: ds.filter((d) => Math.abs(d) <= 1e-9).length, centernet_loses: ds.filter((d) => d < -1e-9).length,
          };
        };
        const concepts = summarize(scored.filter((r) => labels.includes(r.query)));
        const named = summarize(scored.filter((r) => r.named));
        const line = (what: string, s: ReturnType<typeof summarize>) =>
          `${what}: mean P@${k} centernet ${s.mean.centernet.toFixed(3)}, descriptor ${s.mean.descriptor.toFixed(3)} (tie-aware ${s.mean_tie_aware.centernet.toFixed(3)} / ${s.mean_tie_aware.descriptor.toFixed(3)}), chance ${s.mean.chance.toFixed(3)}; centernet wins ${s.centernet_wins}, ties ${s.ties}, loses ${s.centernet_loses} of ${s.queries}`;
        out.text('');
        out.text(line('concept names (encodable)', concepts));
        out.text(line('the issue\'s queries (sunset sea, dog, car, flower, night)', named));
        const notEncodable = rows.filter((r) => !r.encodable).map((r) => r.query);
        const partly = rows.filter((r) => r.encodable && r.unknown.length).map((r) => `${r.query} (as: ${r.known.join(' ')})`);
        out.text(`not encodable (no word among the ${vocab.terms.length} tags), not scored: ${notEncodable.join(', ') || 'none'}`);
        if (partly.length) out.text(`encoded through some of their words only: ${partly.join(', ')}`);
        out.text(`${dbIds.length} ${o.heldOut ? 'held-out photos scored (never trained on)' : 'photos in each collection'}; done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
        out.record({ summary: true, data: o.data, seed, k, dir: root, photos: dbIds.length, held_out: !!o.heldOut, concepts, named, not_encodable: notEncodable, partly_encoded: partly });
      } finally {
        registry.close();
      }
    });
}
