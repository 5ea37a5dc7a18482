// `cmhash search <collection-dir>`: cross-modal search from the command line, by a feature file,
// raw text/tags, an image file, a stored item or a hex code.
import type { Command } from 'commander';
import { STORE_HELP, collectionSource } from '../store-option.js';
import { InputError } from '../../util/errors.js';
import { Output } from '../output.js';
import { checkFlagFile, readFlagFile } from '../flag-paths.js';
import { Collection, type SearchAnswer } from '../../product/collection.js';
import { featureRow, readFeatureFile } from '../../product/feature-file.js';
import { checkFeatures, imageToFeatures } from '../../product/featurize.js';
import { queryCode } from '../../product/query.js';
import type { Modality } from '../../methods/hasher.js';

interface SearchOptions { store?: string; search?: string; modality?: string; features?: string; text?: string; image?: string; item?: string; code?: string; k?: string; radius?: string; json?: boolean }

export function register(program: Command): void {
  program.command('search')
    .description('search a collection across modalities: the query of --modality against the other modality')
    .argument('<collection>', 'collection directory (or name, with --store)')
    .option('--store <url>', STORE_HELP)
    .option('--search <where>', 'with --store: memory (load the codes, then search; default) | server (search inside PostgreSQL, nothing loaded)')
    .option('--modality <m>', "the query's modality: image | text (default: text for --text, image for --image)")
    .option('--features <file>', 'query features (.npy or .json; several rows = several queries)')
    .option('--text <words>', 'raw text or tags (through the collection vocabulary)')
    .option('--image <file>', 'an image file, encoded with the encoder the collection records (descriptor or centernet)')
    .option('--item <id>', "a stored item's code of --modality")
    .option('--code <hex>', 'a packed code as hex')
    .option('--k <n>', 'results per query (default 10)')
    .option('--radius <r>', 'only results within this Hamming distance')
    .option('--json', 'one JSON object per query: {"query","model_version","results":[{"id","distance","labels","metadata"}]}')
    .addHelpText('after', `
Examples:
  cmhash search cmhash-demo/synthetic --text "w3 w17" --k 5
  cmhash search cmhash-demo/synthetic --modality image --item s12 --radius 4
  cmhash search cmhash-demo/mirflickr25k-photos --image photo.jpg --json`)
    .action(async (dir: string, o: SearchOptions) => {
      const out = new Output(!!o.json);
      const given = (['features', 'text', 'image', 'item', 'code'] as const).filter((key) => o[key] !== undefined);
      if (given.length !== 1) throw new InputError(`give exactly one query: --features, --text, --image, --item or --code (got ${given.length ? given.map((g) => '--' + g).join(', ') : 'none'})`);
      const modality = (o.modality ?? (o.text !== undefined ? 'text' : o.image !== undefined ? 'image' : undefined)) as Modality | undefined;
      if (modality !== 'image' && modality !== 'text') throw new InputError(`--modality: expected image or text, got ${o.modality ?? 'nothing'}`);
      if (o.image !== undefined && modality !== 'image') throw new InputError('--image is an image query: use --modality image');
      const k = o.k === undefined ? undefined : Number(o.k), radius = o.radius === undefined ? undefined : Number(o.radius);
      if (k !== undefined && !(Number.isInteger(k) && k >= 1 && k <= 100_000)) throw new InputError(`--k: expected an integer from 1 to 100000, got ${o.k}`);
      if (radius !== undefined && !(Number.isInteger(radius) && radius >= 0)) throw new InputError(`--radius: expected a non-negative integer, got ${o.radius}`);
      if (o.search !== undefined && o.search !== 'memory' && o.search !== 'server') throw new InputError(`--search: expected memory or server, got ${JSON.stringify(o.search)}`);
      if (o.features !== undefined) checkFlagFile('--features', o.features);
      const imageBytes = o.image !== undefined ? readFlagFile('--image', o.image) : null;
      const c = Collection.open(collectionSource(dir, o), o.search === 'server' ? { search: 'server' } : {});
      try {
        const snap = c.snapshot();
        const pending: { query: string; answer: Promise<SearchAnswer> | SearchAnswer }[] = [];
        const run = (label: string, code: ReturnType<typeof queryCode>) => {
          const q = { modality, k: k ?? (radius === undefined ? 10 : undefined), radius };
          pending.push({ query: label, answer: snap.codesOnServer ? c.searchOnDatabase(snap, code, q, 100_000) : c.search(snap, code, q, 100_000) });
        };
        if (o.features !== undefined) {
          const f = readFeatureFile(o.features);
          for (let i = 0; i < f.rows; i++) run(`${o.features}[${i}]`, Collection.encodeQuery(snap, modality, checkFeatures(featureRow(f, i), c.config, modality, `${o.features} row ${i}`)));
        } else if (o.image !== undefined) {
          const features = await imageToFeatures(imageBytes!, c.config);
          run(o.image, Collection.encodeQuery(snap, 'image', features));
        } else {
          run(o.text ?? o.item ?? o.code!, queryCode(c, snap, modality, o.text !== undefined ? { text: o.text } : o.item !== undefined ? { itemId: o.item } : { code: o.code }));
        }
        for (const p of pending) {
          const query = p.query, answer = await p.answer;
          out.record({ query, modality, target: answer.target, model_version: answer.model_version, results: answer.results });
          out.text(`${modality} query ${JSON.stringify(query)} → ${answer.target}s (model version ${answer.model_version}):`);
          out.table(answer.results.map((h, r) => ({ rank: r + 1, id: h.id, distance: h.distance, labels: h.labels.join(' '), metadata: h.metadata === null ? '' : JSON.stringify(h.metadata).slice(0, 60) })));
          if (answer.results.length === 0) out.text('  (no results)');
        }
      } finally { c.close(); }
    });
}
