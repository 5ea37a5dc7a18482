// A collection = a store (items, labels, metadata, model versions, codes) + the current model + an
// index per modality, behind one object the CLI and the HTTP service share.
//
// Model versions come in pairs in the store: one version holds the items' image codes, its partner
// the text codes (both made by the same checkpoint). The image version is the collection's
// "model version"; its metadata names the text partner and the label names of that version. Committing
// a pair commits the text version first (not current), then the image version as current: the
// switch is one SQLite transaction. In memory, a complete new snapshot is built and swapped in with
// one assignment (see snapshot.ts), so searches see the old version or the new one, never a mix.
//
// Writes are serialised per collection (an async lock) and validated before anything is written.
// Each write — adding items, committing a model version with its items, codes, session record and
// checkpoint, removing items — is one unit of work of the store (Store.write): all of it is stored
// or none of it, at any crash point (test/product/crash-points.test.ts).
import { existsSync, mkdirSync, readdirSync, realpathSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { AUTO_COMPACT_SEGMENTS, Store } from '../index/store.js';
import type { CollectionStore, CompactionResult, Item, ModelVersion } from '../index/store-types.js';
import { PgStore, splitPgLocation } from '../index/pg/pg-store.js';
import { isPostgresUrl } from '../index/pg/sync-client.js';
import { serverKnn } from '../index/pg/server-search.js';
import pg from 'pg';
import { PackedCodes } from '../codes/packed-codes.js';
import type { SearchHits } from '../index/code-index.js';
import { checkVocabulary, loadVocabulary, saveVocabulary, type Vocabulary } from '../data/text-features.js';
import type { Hasher, Modality } from '../methods/hasher.js';
import { CorruptDataError, InputError, NotFoundError } from '../util/errors.js';
import { COLLECTION_FORMAT, checkConfigWidths, readConfig, writeConfig, type CollectionConfig } from './collection-config.js';
import { codesOf, type CollectionSnapshot } from './snapshot.js';
import { SnapshotIndex } from '../index/snapshot-index.js';
import { loadHasher } from '../methods/registry.js';
import { checkCollectionName } from './names.js';
import { checkItemId } from '../index/item-id.js';

/** One item to add: features per modality it has (at least one), label names, free metadata. */
export interface ItemInput {
  id: string;
  image?: Float32Array | null;
  text?: Float32Array | null;
  labels?: readonly string[];
  /** JSON-serialisable; `image` (a path relative to the collection's image root) enables thumbnails. */
  metadata?: unknown;
}

export interface OpenOptions {
  /** The collection's name (PostgreSQL: which collection of the database; a directory: overrides its config's). */
  name?: string;
  autoCompactSegments?: number;
  /**
   * 'memory' (default): the codes are loaded into an in-process index. 'server' (PostgreSQL only):
   * they stay in the database and searches run there (exact, same answers, slower per query).
   */
  search?: 'memory' | 'server';
}

export interface CollectionInit {
  name?: string;
  bits: number;
  method: string | null;
  imageDim: number;
  textDim: number;
  vocabulary?: Vocabulary | null;
  imageDescriptor?: string | null;
  imageRoot?: string | null;
  index?: string;
}

export interface CommitOptions {
  /** Label names of the new version (the old names first, new ones appended). */
  labelNames: readonly string[];
  /** Keep the stored codes of the current version (continual methods keep old codes valid). */
  inherit: boolean;
  /** Session record stored with the version. */
  session?: { name: string; newClasses: readonly string[]; meta?: unknown };
  /** Stored in the version's metadata. */
  meta?: Record<string, unknown>;
}

/** The resolved query: a code of the query's modality, searched against the other modality. */
export interface CodeQuery {
  modality: Modality;
  k?: number;
  radius?: number;
}

export interface SearchHit { id: string; distance: number; labels: string[]; metadata: unknown; thumbnail_url?: string }
export interface SearchPlan { space: SnapshotIndex; k: number; maxDistance: number | undefined; target: Modality }
export interface SearchAnswer { results: SearchHit[]; model_version: number | null; modality: Modality; target: Modality }

export interface CollectionInfo {
  name: string; items: number; bits: number; model_version: number | null; method: string | null;
  image_codes: number; text_codes: number; labels: readonly string[]; image_dim: number; text_dim: number;
  raw_text: boolean; image_upload: boolean; thumbnails: boolean; committed: string | null; persistent: boolean;
}

export const VOCABULARY_FILE = 'vocabulary.json';
/** Items a PostgreSQL collection keeps described in memory before it starts over. */
const ITEM_CACHE_LIMIT = 200_000;

/** What a commit stored (versions, checkpoint, the new items' codes): enough to adopt it without re-reading the store. */
export interface CommitRecord {
  imageVersion: number;
  textVersion: number;
  /** The image version it inherited codes from (null: none). */
  parent: number | null;
  checkpoint: string;
  labelNames: string[];
  created: string;
  image: { ids: string[]; codes: PackedCodes };
  text: { ids: string[]; codes: PackedCodes };
  /** PostgreSQL: the store generation the committing snapshot reflected, the one after, and the commits made. */
  generation?: { before: number; after: number; commits: number } | null;
  /**
   * The committed model, when the committer hands over a copy nobody else holds (else it is loaded
   * from the checkpoint). Never the trainer's own object: it would keep changing under the snapshot.
   */
  model?: Hasher;
}

/** A write found that another replica committed since this collection's snapshot was loaded. */
class StaleSnapshot extends Error {}

interface VersionMeta { modality: 'image' | 'text'; partner: number; labelNames: string[]; [k: string]: unknown }

export class Collection {
  private snap: CollectionSnapshot;
  private lock: Promise<unknown> = Promise.resolve();
  private vocab: Vocabulary | null;
  private imageRootReal: string | null = null;
  private closed = false;
  /** Segments a version may have before a write compacts it (0: never automatically). */
  autoCompactSegments = AUTO_COMPACT_SEGMENTS;
  /**
   * PostgreSQL: the store generation (bumped by every committed write, on any replica) the
   * in-memory snapshot reflects. A write checks it inside its transaction, so no replica builds
   * on a snapshot another has overtaken; refresh() reloads when it has moved.
   */
  private loadedGeneration: number | null = null;
  /**
   * PostgreSQL: what the in-memory codes cover — every code with ord below `nextOrd`, as of
   * `removals` removals — so a refresh can append what other replicas added instead of reloading.
   */
  private pgCursor: { removals: number; nextOrd: string } | null = null;
  /**
   * PostgreSQL: items already described in an answer (labels, metadata never change; a removal
   * clears it), so a search does not wait on a database round trip for hits it has seen.
   */
  private itemCache = new Map<string, Item>();
  /** PostgreSQL, --search server: codes are searched in the database, not loaded (see OpenOptions.search). */
  private searchOnServer = false;
  private serverPool: pg.Pool | null = null;

  /**
   * `dir`: the collection directory (embedded store) or null; `source`: what open() takes to open
   * it again — the directory, or `postgresql://…#name` (with credentials: never shown; see location).
   */
  private constructor(readonly dir: string | null, readonly config: CollectionConfig, private store: CollectionStore | null, snap: CollectionSnapshot,
    vocab: Vocabulary | null, readonly source: string | null = dir) {
    this.snap = snap;
    this.vocab = vocab;
  }

  /** Where the collection is stored, for messages (a PostgreSQL URL without its password). */
  get location(): string | null { return this.store?.location ?? null; }
  /** 'sqlite' (a directory), 'postgresql', or null (in memory). */
  get backend(): 'sqlite' | 'postgresql' | null { return this.store?.kind ?? null; }

  get name(): string { return this.config.name; }
  get persistent(): boolean { return this.store !== null; }
  get vocabulary(): Vocabulary | null { return this.vocab; }

  /**
   * Creates a collection: a directory (must not hold one already), or, for a PostgreSQL URL
   * (`postgresql://…/db`, the name from init.name or a `#name` suffix), a collection in that database.
   */
  static create(dir: string, init: CollectionInit): Collection {
    if (isPostgresUrl(dir)) return Collection.createInPostgres(dir, init);
    const name = checkCollectionName(init.name ?? dir.split(/[\\/]/).filter(Boolean).pop() ?? '');
    if (existsSync(join(dir, 'collection.json'))) throw new InputError(`${dir}: a collection already exists here`);
    if (init.vocabulary && init.vocabulary.terms.length !== init.textDim) {
      throw new InputError(`vocabulary has ${init.vocabulary.terms.length} terms, text features are ${init.textDim}-d`);
    }
    PackedCodes.alloc(init.bits, 0); // validates bits before anything is written
    mkdirSync(join(dir, 'models'), { recursive: true });
    const store = Store.open(dir, { create: true });
    if (init.vocabulary) saveVocabulary(join(dir, VOCABULARY_FILE), init.vocabulary);
    const config: CollectionConfig = {
      format: COLLECTION_FORMAT, name, bits: init.bits, method: init.method, imageDim: init.imageDim, textDim: init.textDim,
      vocabulary: init.vocabulary ? VOCABULARY_FILE : null, imageDescriptor: init.imageDescriptor ?? null,
      imageRoot: init.imageRoot ? resolve(init.imageRoot) : null, ...(init.index ? { index: init.index } : {}), created: new Date().toISOString(),
    };
    writeConfig(dir, config);
    return new Collection(resolve(dir), config, store, emptySnapshot(init.bits), init.vocabulary ?? null);
  }

  private static createInPostgres(where: string, init: CollectionInit): Collection {
    const { url, name: fromUrl } = splitPgLocation(where);
    const name = checkCollectionName(init.name ?? fromUrl ?? '', 'collection name (give one for a PostgreSQL store)');
    if (init.vocabulary && init.vocabulary.terms.length !== init.textDim) {
      throw new InputError(`vocabulary has ${init.vocabulary.terms.length} terms, text features are ${init.textDim}-d`);
    }
    PackedCodes.alloc(init.bits, 0);
    const config: CollectionConfig = {
      format: COLLECTION_FORMAT, name, bits: init.bits, method: init.method, imageDim: init.imageDim, textDim: init.textDim,
      vocabulary: init.vocabulary ? VOCABULARY_FILE : null, imageDescriptor: init.imageDescriptor ?? null,
      imageRoot: init.imageRoot ? resolve(init.imageRoot) : null, ...(init.index ? { index: init.index } : {}), created: new Date().toISOString(),
    };
    checkConfigWidths(config);
    const store = PgStore.create(url, name, init.bits, config as unknown as Record<string, unknown>, init.vocabulary ? { [VOCABULARY_FILE]: init.vocabulary } : {});
    const c = new Collection(null, config, store, emptySnapshot(init.bits), init.vocabulary ?? null, `${url}#${encodeURIComponent(name)}`);
    const st = store.readState();
    c.loadedGeneration = st.generation;
    c.pgCursor = { removals: st.removals, nextOrd: st.nextOrd };
    return c;
  }

  /**
   * Opens a collection and loads its current model version: a directory, or a PostgreSQL URL with
   * the collection's name as `#name` or opts.name.
   */
  static open(dir: string, opts: OpenOptions = {}): Collection {
    if (isPostgresUrl(dir)) return Collection.openInPostgres(dir, opts);
    if (opts.search === 'server') throw new InputError(`${dir}: server-side search needs a PostgreSQL collection (--store postgresql://…)`);
    const config = readConfig(dir);
    if (opts.name) config.name = checkCollectionName(opts.name);
    const store = Store.open(dir);
    try {
      const vocab = config.vocabulary ? loadVocabulary(join(dir, config.vocabulary)) : null;
      const c = new Collection(resolve(dir), config, store, emptySnapshot(config.bits), vocab);
      if (opts.autoCompactSegments !== undefined) c.autoCompactSegments = opts.autoCompactSegments;
      c.snap = c.loadSnapshot();
      return c;
    } catch (e) { store.close(); throw e; }
  }

  private static openInPostgres(where: string, opts: OpenOptions): Collection {
    const { url, name: fromUrl } = splitPgLocation(where);
    const name = checkCollectionName(opts.name ?? fromUrl ?? '', 'collection name (give one for a PostgreSQL store)');
    const store = PgStore.open(url, name);
    try {
      const config = store.collection.config as unknown as CollectionConfig;
      if (typeof config?.bits !== 'number') throw new CorruptDataError(`collection "${name}" in ${store.location}: catalog config without bits`);
      if (config.format > COLLECTION_FORMAT) throw new CorruptDataError(`collection "${name}": written by a newer cmhash (format ${config.format}; this version reads ${COLLECTION_FORMAT})`);
      const vocabDoc = config.vocabulary ? store.collection.documents[config.vocabulary] : null;
      const vocab = config.vocabulary ? checkVocabulary(vocabDoc, `collection "${name}" vocabulary`) : null;
      const c = new Collection(null, config, store, emptySnapshot(config.bits), vocab, `${url}#${encodeURIComponent(name)}`);
      if (opts.autoCompactSegments !== undefined) c.autoCompactSegments = opts.autoCompactSegments;
      c.searchOnServer = opts.search === 'server';
      c.reloadNow();
      return c;
    } catch (e) { store.close(); throw e; }
  }

  /** Stores changes to `config` (collection.json in a directory, the catalog row in PostgreSQL). */
  saveConfig(): void {
    const store = this.requireStore('saving the config');
    if (store instanceof PgStore) store.writeConfig(this.config as unknown as Record<string, unknown>);
    else writeConfig(this.dir!, this.config);
  }

  /** The file of a checkpoint reference of this collection's store (valid while it is open). */
  checkpointPath(ref: string): string { return this.requireStore('reading a checkpoint').checkpointPath(ref); }

  /** A read-only, in-memory collection over given codes (no model, no store): benchmarks and tests. */
  static fromCodes(name: string, codes: { ids: string[]; image?: PackedCodes; text?: PackedCodes; imageIds?: string[]; textIds?: string[] }, index?: string): Collection {
    const bits = (codes.image ?? codes.text)?.bits;
    if (!bits) throw new InputError('fromCodes: give image or text codes');
    const config: CollectionConfig = {
      format: COLLECTION_FORMAT, name: checkCollectionName(name), bits, method: null, imageDim: 0, textDim: 0, vocabulary: null,
      imageDescriptor: null, imageRoot: null, created: new Date().toISOString(),
    };
    const snap: CollectionSnapshot = {
      modelVersion: null, versions: { image: null, text: null }, hasher: null, labelNames: [], bits, committed: null,
      image: codes.image ? SnapshotIndex.build(codes.imageIds ?? codes.ids, codes.image, index) : SnapshotIndex.empty(bits),
      text: codes.text ? SnapshotIndex.build(codes.textIds ?? codes.ids, codes.text, index) : SnapshotIndex.empty(bits),
    };
    return new Collection(null, config, null, snap, null);
  }

  /** The current snapshot (take it once per request). */
  snapshot(): CollectionSnapshot { return this.snap; }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.store?.close();
    void this.serverPool?.end().catch(() => undefined);
  }

  /** Runs `fn` after every earlier write of this collection finished (one writer at a time). */
  exclusive<T>(fn: () => Promise<T> | T): Promise<T> {
    const run = this.lock.then(() => fn());
    this.lock = run.catch(() => undefined);
    return run;
  }

  private requireStore(what: string): CollectionStore {
    if (!this.store || this.closed) throw new InputError(`collection "${this.name}" is read-only (${what} needs a collection directory)`);
    return this.store;
  }

  private pgStore(): PgStore | null { return this.store instanceof PgStore ? this.store : null; }

  /** Inside a write's transaction: refuses to build on a snapshot another replica's commit overtook. */
  private assertCurrent(): void {
    const pg = this.pgStore();
    if (pg && pg.generation() !== this.loadedGeneration) throw new StaleSnapshot();
  }

  /** After own writes: the snapshot (updated in memory) reflects the store unless someone else wrote in between. */
  private afterOwnWrites(commitsBefore: number): void {
    const pg = this.pgStore();
    if (!pg) return;
    if (pg.committedGeneration === this.loadedGeneration! + (pg.commits - commitsBefore)) this.moveCursor(pg, pg.committedGeneration!);
    else this.reloadNow();
  }

  /** The snapshot now reflects generation `g`: records where its codes end (or reloads if the store moved on). */
  private moveCursor(pg: PgStore, g: number): void {
    const st = pg.readState();
    if (st.generation !== g) { this.reloadNow(); return; }
    if (this.pgCursor && st.removals !== this.pgCursor.removals) this.itemCache.clear();
    this.loadedGeneration = g;
    this.pgCursor = { removals: st.removals, nextOrd: st.nextOrd };
  }

  /** Loads the current snapshot, as of one store generation (PostgreSQL; plain load otherwise). */
  private reloadNow(): void {
    const pg = this.pgStore();
    if (!pg) { this.snap = this.loadSnapshot(); return; }
    this.itemCache.clear();
    for (;;) {
      const st = pg.readState();
      const snap = this.loadSnapshot();
      if (pg.generation() === st.generation) {
        this.snap = snap; this.loadedGeneration = st.generation; this.pgCursor = { removals: st.removals, nextOrd: st.nextOrd };
        return;
      }
    }
  }

  /**
   * Another replica wrote: appends the codes it added when that is all it did (same model version,
   * no removals) — O(new codes) — else reloads. Returns whether anything changed.
   */
  private catchUp(pg: PgStore): boolean {
    for (let attempt = 0; attempt < 3; attempt++) {
      const st = pg.readState();
      if (st.generation === this.loadedGeneration) return false;
      const snap = this.snap, cur = this.pgCursor;
      if (!cur || snap.codesOnServer || st.current !== snap.versions.image || snap.versions.text === null || st.removals !== cur.removals) break;
      const img = pg.codesFrom(snap.versions.image!, cur.nextOrd), txt = pg.codesFrom(snap.versions.text, cur.nextOrd);
      if (pg.generation() !== st.generation) continue; // written meanwhile: read again
      this.snap = { ...snap, image: snap.image.appended(img.ids, img.codes), text: snap.text.appended(txt.ids, txt.codes) };
      this.loadedGeneration = st.generation;
      this.pgCursor = { removals: st.removals, nextOrd: st.nextOrd };
      return true;
    }
    this.reloadNow();
    return true;
  }

  /** Runs a write; if another replica committed since the snapshot was loaded, reloads and runs it once more. */
  private retryIfStale<T>(fn: () => T): T {
    try { return fn(); } catch (e) {
      if (!(e instanceof StaleSnapshot)) throw e;
      this.reloadNow();
      return fn();
    }
  }

  /**
   * Replicas (PostgreSQL): reloads the snapshot when the store has moved past it — another replica
   * wrote. Returns whether it reloaded. Cheap when nothing changed (one query).
   */
  refresh(): Promise<boolean> {
    return this.exclusive(() => {
      const pg = this.pgStore();
      if (!pg || this.closed) return false;
      return this.catchUp(pg);
    });
  }

  /** PostgreSQL: the store generation the current snapshot reflects (null for a directory). */
  get generation(): number | null { return this.loadedGeneration; }

  // ------------------------------------------------------------------ reading

  private loadSnapshot(): CollectionSnapshot {
    const store = this.requireStore('loading');
    const current = store.currentVersion();
    if (current === null) return emptySnapshot(this.config.bits);
    const v = store.version(current);
    const meta = versionMeta(v);
    const partner = store.version(meta.partner);
    if (!v.checkpoint) throw new CorruptDataError(`${store.location}: model version ${v.id} has no checkpoint`);
    const hasher = loadHasher(store.checkpointPath(v.checkpoint));
    checkModelFits(hasher, this.config);
    const model = { modelVersion: v.id, versions: { image: v.id, text: partner.id }, hasher, labelNames: meta.labelNames, bits: v.bits, committed: v.created };
    // --search server: the codes stay in the database
    if (this.searchOnServer) return { ...model, image: SnapshotIndex.empty(v.bits), text: SnapshotIndex.empty(v.bits), codesOnServer: true };
    const img = store.loadCodes(v.id), txt = store.loadCodes(partner.id);
    return { ...model, image: SnapshotIndex.build(img.ids, img.codes, this.config.index), text: SnapshotIndex.build(txt.ids, txt.codes, this.config.index) };
  }

  info(): CollectionInfo {
    const s = this.snap;
    return {
      name: this.name, items: this.store ? this.store.stats().items : Math.max(s.image.size, s.text.size), bits: s.bits,
      model_version: s.modelVersion, method: this.config.method, image_codes: this.codeCount(s, 'image'), text_codes: this.codeCount(s, 'text'), labels: s.labelNames,
      image_dim: this.config.imageDim, text_dim: this.config.textDim, raw_text: !!this.vocab || !!this.config.wordVectors, image_upload: this.config.imageDescriptor !== null,
      thumbnails: this.config.imageRoot !== null, committed: s.committed, persistent: this.persistent,
    };
  }

  private codeCount(s: CollectionSnapshot, m: Modality): number {
    if (!s.codesOnServer) return codesOf(s, m).size;
    const v = s.versions[m];
    return v === null ? 0 : this.requireStore('counting codes').version(v).codes;
  }

  /** Versions and sessions recorded in the store. */
  history(): { versions: ModelVersion[]; sessions: unknown[] } {
    if (!this.store) return { versions: [], sessions: [] };
    return { versions: this.store.versions(), sessions: this.store.sessions() };
  }

  /** Encodes query features of `modality` with the snapshot's model. */
  static encodeQuery(snap: CollectionSnapshot, modality: Modality, features: Float32Array, rows = 1): PackedCodes {
    if (!snap.hasher) throw new InputError('this collection has no model: query by code or item id');
    const enc = snap.hasher.encode(modality, features, rows);
    return PackedCodes.fromReal(enc.values, rows, snap.bits);
  }

  /** The stored code of an item in one modality (from the snapshot's version). */
  static storedCode(snap: CollectionSnapshot, modality: Modality, id: string): PackedCodes {
    const c = codesOf(snap, modality).codeOf(id);
    if (!c) throw new NotFoundError(`item ${JSON.stringify(id)} has no ${modality} code in model version ${snap.modelVersion ?? 'none'}`);
    return c;
  }

  /** The stored code of an item in one modality: from the snapshot, or from the store when codes stay on the server. */
  storedCodeOf(snap: CollectionSnapshot, modality: Modality, id: string): PackedCodes {
    if (!snap.codesOnServer) return Collection.storedCode(snap, modality, id);
    const version = snap.versions[modality];
    const c = version === null ? null : (this.pgStore()!).codeOf(version, id);
    if (!c) throw new NotFoundError(`item ${JSON.stringify(id)} has no ${modality} code in model version ${snap.modelVersion ?? 'none'}`);
    return c;
  }

  /**
   * A search run in the database (snapshots with codesOnServer): exact k-NN / radius in SQL over the
   * target version's codes, ties in stored order — the same answer the in-process scan gives.
   */
  async searchOnDatabase(snap: CollectionSnapshot, code: PackedCodes, q: CodeQuery, maxResults: number): Promise<SearchAnswer> {
    const store = this.pgStore();
    if (!store || !snap.codesOnServer) throw new InputError(`collection "${this.name}" keeps its codes in memory; search it in process`);
    const target: Modality = q.modality === 'image' ? 'text' : 'image';
    if (code.bits !== snap.bits) throw new InputError(`query code has ${code.bits} bits, collection "${this.name}" holds ${snap.bits}-bit codes`);
    const version = snap.versions[target];
    if (version === null) return { results: [], model_version: snap.modelVersion, modality: q.modality, target };
    const k = q.k ?? (q.radius !== undefined ? maxResults : 20);
    this.serverPool ??= new pg.Pool({ connectionString: store.url, max: 4, application_name: 'cmhash search' });
    const hits = await serverKnn(this.serverPool, {
      table: `${store.schema}.codes`, bits: snap.bits, segments: store.versionSegments(version), query: code, k, ...(q.radius !== undefined ? { radius: q.radius } : {}),
    });
    const ids = store.idsOfKeys(hits.keys);
    return this.answer(snap, q, { ids, distances: Int32Array.from(hits.distances) });
  }

  /**
   * k-NN (optionally within `radius`) of one query code of `q.modality` among the other modality's
   * codes — all from one snapshot. With only a radius, the nearest `maxResults` within it.
   */
  search(snap: CollectionSnapshot, code: PackedCodes, q: CodeQuery, maxResults: number): SearchAnswer {
    const plan = this.planSearch(snap, code, q, maxResults);
    const [hits] = plan.space.knn(code.data, 1, plan.k, plan.maxDistance);
    return this.answer(snap, q, hits!);
  }

  /**
   * What a search needs from the kernel: the codes to scan, k and the radius cut. Split from
   * `search` so the service can batch the kernel work of concurrent requests (SnapshotIndex.knn
   * over many queries) and then describe each request's hits with `answer`.
   */
  planSearch(snap: CollectionSnapshot, code: PackedCodes, q: CodeQuery, maxResults: number): SearchPlan {
    const target: Modality = q.modality === 'image' ? 'text' : 'image';
    if (code.bits !== snap.bits) throw new InputError(`query code has ${code.bits} bits, collection "${this.name}" holds ${snap.bits}-bit codes`);
    if (code.count !== 1) throw new InputError(`search takes one query code, got ${code.count}`);
    const k = q.k ?? (q.radius !== undefined ? maxResults : 20);
    return { space: codesOf(snap, target), k, maxDistance: q.radius, target };
  }

  /** The answer of one search from its hits (labels and metadata fetched for the hits only). */
  answer(snap: CollectionSnapshot, q: CodeQuery, hits: SearchHits): SearchAnswer {
    const target: Modality = q.modality === 'image' ? 'text' : 'image';
    return { results: this.describeHits(snap, hits.ids, hits.distances), model_version: snap.modelVersion, modality: q.modality, target };
  }

  private describeHits(snap: CollectionSnapshot, ids: readonly string[], distances: Int32Array): SearchHit[] {
    if (!this.store) {
      // codes-only: nothing to look up
      const out = new Array<SearchHit>(ids.length);
      for (let i = 0; i < ids.length; i++) out[i] = { id: ids[i]!, distance: distances[i]!, labels: [], metadata: null };
      return out;
    }
    const items = this.store instanceof PgStore ? this.cachedItems(ids) : this.store.getItems(ids);
    return items.map((it, i) => {
      const labels: string[] = [];
      for (let c = 0; c < it.labels.length && c < snap.labelNames.length; c++) if (it.labels[c]) labels.push(snap.labelNames[c]!);
      const hit: SearchHit = { id: it.id, distance: distances[i]!, labels, metadata: it.metadata };
      if (this.config.imageRoot && typeof (it.metadata as { image?: unknown } | null)?.image === 'string') {
        hit.thumbnail_url = `/api/collections/${encodeURIComponent(this.name)}/items/${encodeURIComponent(it.id)}/thumbnail`;
      }
      return hit;
    });
  }

  /** Items by id through the item cache (PostgreSQL): one round trip for the ids not seen before. */
  private cachedItems(ids: readonly string[]): Item[] {
    const missing = ids.filter((id) => !this.itemCache.has(id));
    if (missing.length) {
      if (this.itemCache.size + missing.length > ITEM_CACHE_LIMIT) this.itemCache.clear();
      for (const it of this.requireStore('describing hits').getItems(missing)) this.itemCache.set(it.id, it);
    }
    return ids.map((id) => this.itemCache.get(id)!);
  }

  /** Items by id (labels as names), for the API. */
  items(ids: readonly string[]): { id: string; labels: string[]; metadata: unknown; session: number | null; has_image: boolean; has_text: boolean }[] {
    const snap = this.snap;
    if (!this.store) {
      return ids.map((id) => {
        const hi = snap.image.codeOf(id) !== null, ht = snap.text.codeOf(id) !== null;
        if (!hi && !ht) throw new NotFoundError(`collection "${this.name}" has no item ${JSON.stringify(id)}`);
        return { id, labels: [], metadata: null, session: null, has_image: hi, has_text: ht };
      });
    }
    const got = this.store.getItems(ids);
    const pg = snap.codesOnServer ? this.pgStore() : null;
    const coded = (m: Modality): ((id: string) => boolean) => {
      if (!pg) return (id) => codesOf(snap, m).codeOf(id) !== null;
      const set = snap.versions[m] === null ? new Set<string>() : pg.codedIds(snap.versions[m]!, ids);
      return (id) => set.has(id);
    };
    const hasImage = coded('image'), hasText = coded('text');
    return got.map((it) => ({
      id: it.id, labels: snap.labelNames.filter((_, c) => it.labels[c] === 1), metadata: it.metadata, session: it.session,
      has_image: hasImage(it.id), has_text: hasText(it.id),
    }));
  }

  /**
   * The photo file of an item for its thumbnail: metadata.image resolved under the configured image
   * root; anything that escapes the root (.., absolute paths, symlinks out) is refused.
   */
  thumbnailFile(id: string): string {
    if (!this.config.imageRoot) throw new NotFoundError(`collection "${this.name}" has no image folder for thumbnails`);
    const [item] = this.items([id]);
    const rel = (item!.metadata as { image?: unknown } | null)?.image;
    if (typeof rel !== 'string' || rel.length === 0) throw new NotFoundError(`item ${JSON.stringify(id)} has no image file`);
    if (isAbsolute(rel) || rel.split(/[\\/]/).includes('..') || rel.includes('\0')) throw new InputError(`item ${JSON.stringify(id)}: image path ${JSON.stringify(rel)} is outside the collection's image folder`);
    this.imageRootReal ??= realpathSync(this.config.imageRoot);
    const full = resolve(this.imageRootReal, rel);
    if (!existsSync(full)) throw new NotFoundError(`item ${JSON.stringify(id)}: image file ${rel} not found`);
    const real = realpathSync(full);
    const r = relative(this.imageRootReal, real);
    if (r.startsWith('..') || isAbsolute(r) || r.split(sep).includes('..')) throw new InputError(`item ${JSON.stringify(id)}: image path ${JSON.stringify(rel)} is outside the collection's image folder`);
    return real;
  }

  // ------------------------------------------------------------------ writing

  /** Checks new items against the collection (nothing is written); new label names only with `allowNewLabels`. */
  checkItems(items: readonly ItemInput[], allowNewLabels: boolean): void { this.validateItems(items, this.snap.labelNames, allowNewLabels); }

  /** Checks items against the collection before anything is written; returns the label matrix. */
  private validateItems(items: readonly ItemInput[], labelNames: readonly string[], allowNewLabels: boolean): { labels: Uint8Array; names: string[] } {
    const store = this.requireStore('adding items');
    if (items.length === 0) throw new InputError('no items given');
    const names = labelNames.slice();
    const col = new Map(names.map((n, i) => [n, i]));
    const seen = new Set<string>();
    items.forEach((it, i) => {
      const where = `items[${i}]`;
      checkItemId(it.id, `${where}.id`);
      if (seen.has(it.id)) throw new InputError(`${where}.id: ${JSON.stringify(it.id)} appears twice`);
      seen.add(it.id);
      if (!it.image && !it.text) throw new InputError(`${where}: give image or text features (or both)`);
      if (it.image && it.image.length !== this.config.imageDim) throw new InputError(`${where}.image: expected ${this.config.imageDim} features, got ${it.image.length}`);
      if (it.text && it.text.length !== this.config.textDim) throw new InputError(`${where}.text: expected ${this.config.textDim} features, got ${it.text.length}`);
      for (const l of it.labels ?? []) {
        if (typeof l !== 'string' || l.length === 0 || l.length > 200) throw new InputError(`${where}.labels: label names must be 1–200 character strings, got ${JSON.stringify(l)}`);
        if (!col.has(l)) {
          if (!allowNewLabels) throw new InputError(`${where}.labels: unknown label ${JSON.stringify(l)} (known: ${names.join(', ') || 'none'}; new labels arrive with a session update)`);
          col.set(l, names.length); names.push(l);
        }
      }
      if (it.metadata !== undefined && it.metadata !== null) {
        try { JSON.stringify(it.metadata); } catch (e) { throw new InputError(`${where}.metadata: not JSON (${(e as Error).message})`); }
      }
    });
    const existing = store.existingIds([...seen]);
    if (existing.length) throw new InputError(`item ${JSON.stringify(existing[0])} already exists in collection "${this.name}"`);
    const C = names.length;
    const labels = new Uint8Array(items.length * C);
    items.forEach((it, i) => { for (const l of it.labels ?? []) labels[i * C + col.get(l)!] = 1; });
    return { labels, names };
  }

  private encodeItems(hasher: Hasher, items: readonly ItemInput[], modality: Modality): { ids: string[]; codes: PackedCodes } {
    const dim = modality === 'image' ? this.config.imageDim : this.config.textDim;
    const rows = items.filter((it) => !!it[modality]);
    const feats = new Float32Array(rows.length * dim);
    rows.forEach((it, i) => feats.set(it[modality]!, i * dim));
    if (rows.length === 0) return { ids: [], codes: PackedCodes.alloc(this.config.bits, 0) };
    const enc = hasher.encode(modality, feats, rows.length);
    return { ids: rows.map((it) => it.id), codes: PackedCodes.fromReal(enc.values, rows.length, this.config.bits) };
  }

  /**
   * Stores `hasher` as a new model version with `items` (encoded by it) and makes it current.
   * With `inherit`, the current version's codes stay (continual methods); otherwise only the
   * given items are in the new version. Returns the new model version.
   */
  commitModel(hasher: Hasher, items: readonly ItemInput[], opts: CommitOptions): Promise<number> {
    return this.exclusive(() => this.commitModelNow(hasher, items, opts).imageVersion);
  }

  /** commitModel, returning what was stored (the session worker sends it to the serving thread). */
  commitModelRecord(hasher: Hasher, items: readonly ItemInput[], opts: CommitOptions): Promise<CommitRecord> {
    return this.exclusive(() => this.commitModelNow(hasher, items, opts));
  }

  /**
   * Runs `commitElsewhere` — another thread committing a new version of this collection to the same
   * store (the session worker) — under this collection's write lock, then adopts its result: the
   * new snapshot is the current one plus the new items' codes (the order the store gives them:
   * inherited codes first), with the model loaded from the committed checkpoint. Nothing stored is
   * re-read, so the serving thread spends only the checkpoint load on a session commit.
   */
  adoptCommit(commitElsewhere: () => Promise<CommitRecord>): Promise<number> {
    return this.exclusive(async () => {
      const old = this.snap;
      const r = await commitElsewhere();
      if (!this.pgStore()) this.snap = this.snapshotAfter(old, r);
      else if (r.generation && r.generation.before === this.loadedGeneration && r.generation.after === r.generation.before + r.generation.commits) {
        this.snap = this.snapshotAfter(old, r);
        this.moveCursor(this.pgStore()!, r.generation.after);
      } else this.reloadNow(); // another replica wrote meanwhile: what is stored is the truth
      return r.imageVersion;
    });
  }

  /**
   * The snapshot after commit `r`: a continuation of `old` (it inherited old's codes) is `old` plus
   * the new codes — the order the store gives them, inherited codes first — with the model loaded
   * from the committed checkpoint; anything else is read from the store.
   */
  private snapshotAfter(old: CollectionSnapshot, r: CommitRecord): CollectionSnapshot {
    if (old.codesOnServer) return this.loadSnapshot();
    if (r.parent === null || r.parent !== old.versions.image) return this.loadSnapshot();
    const hasher = r.model ?? loadHasher(this.requireStore('loading').checkpointPath(r.checkpoint));
    checkModelFits(hasher, this.config);
    return {
      modelVersion: r.imageVersion, versions: { image: r.imageVersion, text: r.textVersion }, hasher, labelNames: r.labelNames,
      bits: old.bits, committed: r.created,
      image: old.image.appended(r.image.ids, r.image.codes), text: old.text.appended(r.text.ids, r.text.codes),
    };
  }

  private commitModelNow(hasher: Hasher, items: readonly ItemInput[], opts: CommitOptions): CommitRecord {
    const store = this.requireStore('committing a model');
    if (hasher.bits !== this.config.bits) throw new InputError(`model makes ${hasher.bits}-bit codes, collection "${this.name}" holds ${this.config.bits}-bit codes`);
    checkModelFits(hasher, this.config);
    const old = this.snap;
    if (opts.labelNames.length < old.labelNames.length || old.labelNames.some((n, i) => opts.labelNames[i] !== n)) {
      throw new InputError('commit: the new label names must extend the current ones');
    }
    const { labels, names } = items.length ? this.validateItems(items, opts.labelNames, false) : { labels: new Uint8Array(0), names: opts.labelNames.slice() };
    const image = this.encodeItems(hasher, items, 'image'), text = this.encodeItems(hasher, items, 'text');
    const inherit = opts.inherit && old.versions.image !== null;
    let rel = '', iv = 0, tv = 0;
    const pg = this.pgStore(), commits0 = pg?.commits ?? 0, generationBefore = this.loadedGeneration;
    store.write(() => {
      // another replica may have committed a version since this model was trained from the current one
      const current = store.currentVersion();
      if (current !== old.versions.image) throw new InputError(`collection "${this.name}": model version ${current} was committed (by another writer) after version ${old.versions.image}, which this model was trained from; apply the session again`);
      if (items.length) {
        store.addItems({ ids: items.map((it) => it.id), labels, classes: names.length, metadata: items.map((it) => it.metadata ?? null), session: store.sessions().length });
      }
      const common = { method: hasher.method, bits: this.config.bits };
      tv = store.createModelVersion({ ...common, meta: { ...opts.meta, modality: 'text' }, ...(inherit ? { inheritCodesFrom: old.versions.text! } : {}) });
      iv = store.createModelVersion({ ...common, meta: { ...opts.meta, modality: 'image', partner: tv, labelNames: names }, ...(inherit ? { inheritCodesFrom: old.versions.image! } : {}) });
      if (image.ids.length) store.putCodes(iv, image.ids, image.codes);
      if (text.ids.length) store.putCodes(tv, text.ids, text.codes);
      const checkpoint = store.saveCheckpoint(iv, (path) => hasher.save(path));
      store.commitModelVersion(tv, { makeCurrent: false, checkpoint });
      if (opts.session) store.addSession({ name: opts.session.name, classes: [...opts.session.newClasses], modelVersion: iv, meta: opts.session.meta });
      store.commitModelVersion(iv, { makeCurrent: true, checkpoint });
      rel = checkpoint;
    });
    this.maybeCompact(store);
    const record: CommitRecord = {
      imageVersion: iv, textVersion: tv, parent: inherit ? old.versions.image : null, checkpoint: rel, labelNames: names,
      created: store.version(iv).created, image, text,
      generation: pg ? { before: generationBefore!, after: pg.committedGeneration!, commits: pg.commits - commits0 } : null,
    };
    // the new snapshot is complete before it becomes visible
    this.snap = this.snapshotAfter(old, record);
    this.afterOwnWrites(commits0);
    return record;
  }

  /** Adds items encoded by the current model to the current version (no training). */
  addItems(items: readonly ItemInput[]): Promise<{ added: number; model_version: number }> {
    return this.exclusive(() => this.retryIfStale(() => {
      const store = this.requireStore('adding items');
      const snap = this.snap;
      if (!snap.hasher || snap.versions.image === null || snap.versions.text === null) throw new InputError(`collection "${this.name}" has no model yet; train one first (cmhash demo / update)`);
      const { labels, names } = this.validateItems(items, snap.labelNames, false);
      const image = this.encodeItems(snap.hasher, items, 'image'), text = this.encodeItems(snap.hasher, items, 'text');
      const commits0 = this.pgStore()?.commits ?? 0;
      store.write(() => {
        this.assertCurrent(); // the codes go to the version the snapshot has: it must still be current
        store.addItems({ ids: items.map((it) => it.id), labels, classes: names.length, metadata: items.map((it) => it.metadata ?? null) });
        if (image.ids.length) store.putCodes(snap.versions.image!, image.ids, image.codes);
        if (text.ids.length) store.putCodes(snap.versions.text!, text.ids, text.codes);
      });
      this.maybeCompact(store);
      // a new snapshot with the old codes plus the new ones; the old one keeps answering unchanged
      if (!snap.codesOnServer) this.snap = { ...snap, image: snap.image.appended(image.ids, image.codes), text: snap.text.appended(text.ids, text.codes) };
      this.afterOwnWrites(commits0);
      return { added: items.length, model_version: snap.versions.image };
    }));
  }

  /** Removes items (all or none: an unknown id removes nothing); their codes leave every version. */
  removeItems(ids: readonly string[]): Promise<{ removed: number; model_version: number | null }> {
    return this.exclusive(() => {
      const store = this.requireStore('removing items');
      if (ids.length === 0) throw new InputError('no item ids given');
      ids.forEach((id, i) => checkItemId(id, `ids[${i}]`));
      const commits0 = this.pgStore()?.commits ?? 0;
      const removed = store.removeItems(ids);
      for (const id of ids) this.itemCache.delete(id);
      this.maybeCompact(store);
      const snap = this.snap;
      if (!snap.codesOnServer) this.snap = { ...snap, image: snap.image.without(ids), text: snap.text.without(ids) };
      this.afterOwnWrites(commits0);
      return { removed, model_version: snap.modelVersion };
    });
  }

  /** Merges segments, drops removed items' codes and leftover files (answers do not change). */
  compact(): Promise<CompactionResult> {
    return this.exclusive(() => {
      const commits0 = this.pgStore()?.commits ?? 0;
      const r = this.requireStore('compacting').compact();
      this.afterOwnWrites(commits0);
      return r;
    });
  }

  private maybeCompact(store: CollectionStore): void {
    if (this.autoCompactSegments > 0) store.maybeCompact(this.autoCompactSegments);
  }

  /** Segment files of the current version (what compaction reduces). */
  segmentCount(): number { return this.store ? this.store.segmentCount() : 0; }
}

function emptySnapshot(bits: number): CollectionSnapshot {
  return { modelVersion: null, versions: { image: null, text: null }, hasher: null, labelNames: [], bits, committed: null, image: SnapshotIndex.empty(bits), text: SnapshotIndex.empty(bits) };
}

function versionMeta(v: ModelVersion): VersionMeta {
  const m = v.meta as Partial<VersionMeta> | null;
  if (!m || (m.modality !== 'image' && m.modality !== 'text') || typeof m.partner !== 'number' || !Array.isArray(m.labelNames)) {
    throw new CorruptDataError(`model version ${v.id} is not a cmhash collection version (metadata without modality/partner/labelNames)`);
  }
  if (m.modality !== 'image') throw new CorruptDataError(`current model version ${v.id} holds ${m.modality} codes; expected the image version of a pair`);
  return m as VersionMeta;
}

function checkModelFits(hasher: Hasher, config: CollectionConfig): void {
  if (hasher.imageDim !== undefined && hasher.imageDim !== 0 && hasher.imageDim !== config.imageDim) {
    throw new InputError(`model takes ${hasher.imageDim}-d image features, collection "${config.name}" has ${config.imageDim}-d`);
  }
  if (hasher.textDim !== undefined && hasher.textDim !== 0 && hasher.textDim !== config.textDim) {
    throw new InputError(`model takes ${hasher.textDim}-d text features, collection "${config.name}" has ${config.textDim}-d`);
  }
}

/** Collection directories directly under `root` (those with a collection.json). */
export function listCollectionDirs(root: string): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root, { withFileTypes: true }).filter((d) => d.isDirectory() && existsSync(join(root, d.name, 'collection.json'))).map((d) => join(root, d.name));
}
