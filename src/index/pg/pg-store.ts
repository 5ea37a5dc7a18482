// The collection store on PostgreSQL: the same interface and the same answers as the embedded
// store (store.ts), for teams that run several service replicas on one database, or want the
// database backed up and replicated by the tools they already use.
//
// One write = one transaction: `write(fn)` runs fn between BEGIN and COMMIT on this store's
// connection, holding a per-collection advisory lock (writers on other replicas wait, as SQLite's
// BEGIN IMMEDIATE makes other processes wait). Codes are rows (code-columns.ts), checkpoints are
// bytea: there are no files, so a crash — of this process (the server rolls the open transaction
// back when the connection drops) or of the server (recovery) — leaves the state before or after
// the write, nothing in between, and nothing to sweep.
//
// Differences from the embedded store, none visible in answers: removing items deletes their code
// rows at once (version code counts are exact immediately; compaction only merges segment rows);
// item metadata is jsonb (object keys come back in jsonb's order).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PackedCodes } from '../../codes/packed-codes.js';
import { checkNewItems, checkParentVersion, exclusiveRuns, indexOverVersion, labelMatrixOf } from '../store-checks.js';
import { crashPoint } from '../../util/crash-points.js';
import { processTempDir, removeTempDir } from '../../util/process-temp-dir.js';
import { CorruptDataError, InputError, NotFoundError } from '../../util/errors.js';
import type { CodeIndex } from '../code-index.js';
import { AUTO_COMPACT_SEGMENTS } from '../store.js';
import type { CollectionStore, CompactionResult, Item, ModelVersion, NewItems, NewModelVersion, SessionRecord, StoreStats, VersionStatus } from '../store-types.js';
import { insertCodesStatement, setCodeWords, wordColumns } from './code-columns.js';
import { CATALOG_MIGRATIONS, CATALOG_VERSION, COLLECTION_SCHEMA_FORMAT, MIGRATION_LOCK, collectionSchemaSql, schemaName } from './pg-schema.js';
import { PgError, SyncPg, redactUrl } from './sync-client.js';

/** Temp folders of checkpoints written or read back: see util/process-temp-dir.ts. */
const CHECKPOINT_DIR_PREFIX = 'cmhash-ckpt-';

/** The NOTIFY channel every committed write announces itself on: {"collection","generation"}. */
export const CHANGES_CHANNEL = 'cmhash_changes';

/** A collection's catalog row. */
export interface PgCollectionRow { name: string; schema: string; bits: number; config: Record<string, unknown>; documents: Record<string, unknown>; created: string }

/** Splits `postgresql://…/db#name` into the connection URL and the collection name. */
export function splitPgLocation(location: string): { url: string; name: string | null } {
  const i = location.indexOf('#');
  return i < 0 ? { url: location, name: null } : { url: location.slice(0, i), name: decodeURIComponent(location.slice(i + 1)) || null };
}

/** Brings the catalog to this cmhash's version (idempotent; safe when replicas start together). */
export function migrateCatalog(db: SyncPg): void {
  const have = db.value<string>("SELECT to_regclass('cmhash.migrations')::text");
  if (have) {
    const v = Number(db.value('SELECT COALESCE(MAX(version), 0) FROM cmhash.migrations'));
    if (v === CATALOG_VERSION) return;
    if (v > CATALOG_VERSION) throw new CorruptDataError(`PostgreSQL catalog at ${redactUrl(db.url)} is at migration ${v}, newer than this cmhash (${CATALOG_VERSION}) — upgrade cmhash`);
  }
  db.query('BEGIN');
  try {
    db.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    db.query('CREATE SCHEMA IF NOT EXISTS cmhash');
    db.query('CREATE TABLE IF NOT EXISTS cmhash.migrations (version integer PRIMARY KEY, description text NOT NULL, applied timestamptz NOT NULL DEFAULT now())');
    const done = Number(db.value('SELECT COALESCE(MAX(version), 0) FROM cmhash.migrations'));
    for (const m of CATALOG_MIGRATIONS) {
      if (m.version <= done) continue;
      db.query(m.sql);
      db.query('INSERT INTO cmhash.migrations (version, description) VALUES ($1, $2)', [m.version, m.description]);
    }
    db.query('COMMIT');
  } catch (e) { rollbackQuietly(db); throw e; }
}

/** The collections a database holds (catalog rows, by name). */
export function listPgCollections(url: string): PgCollectionRow[] {
  const db = SyncPg.connect(url);
  try {
    migrateCatalog(db);
    return db.query<PgCollectionRow>('SELECT name, schema, bits, config, documents, created FROM cmhash.collections ORDER BY name').rows;
  } finally { db.close(); }
}


function rollbackQuietly(db: SyncPg): void { try { db.query('ROLLBACK'); } catch { /* connection gone: the server rolled back */ } }

export class PgStore implements CollectionStore {
  readonly kind = 'postgresql' as const;
  private depth = 0;
  private savepoints = 0;
  private readonly s: string;

  private constructor(private db: SyncPg, readonly collection: PgCollectionRow) {
    this.s = collection.schema;
  }

  get location(): string { return `${redactUrl(this.db.url)}#${encodeURIComponent(this.collection.name)}`; }
  get url(): string { return this.db.url; }
  /** The quoted schema of this collection (server-side search and replicas query its tables). */
  get schema(): string { return this.s; }

  /** Creates a collection (catalog row + schema, one transaction); an existing name is an InputError. */
  static create(url: string, name: string, bits: number, config: Record<string, unknown>, documents: Record<string, unknown> = {}): PgStore {
    PackedCodes.alloc(bits, 0);
    const db = SyncPg.connect(url);
    try {
      migrateCatalog(db);
      db.query('BEGIN');
      try {
        db.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
        if (db.value('SELECT 1 FROM cmhash.collections WHERE name = $1', [name])) throw new InputError(`collection "${name}" already exists in ${redactUrl(url)}`);
        const schema = schemaName(Number(db.value("SELECT nextval('cmhash.collection_ids')")));
        db.query(collectionSchemaSql(schema, bits));
        const created = new Date().toISOString();
        db.query('INSERT INTO cmhash.collections (name, schema, bits, config, documents, created) VALUES ($1, $2, $3, $4, $5, $6)',
          [name, schema, bits, JSON.stringify(config), JSON.stringify(documents), created]);
        crashPoint('store: collection schema created, transaction not committed');
        db.query('COMMIT');
        return new PgStore(db, { name, schema, bits, config, documents, created });
      } catch (e) { rollbackQuietly(db); throw e; }
    } catch (e) { db.close(); throw e; }
  }

  static open(url: string, name: string): PgStore {
    const db = SyncPg.connect(url);
    try {
      migrateCatalog(db);
      const row = db.query<PgCollectionRow>('SELECT name, schema, bits, config, documents, created FROM cmhash.collections WHERE name = $1', [name]).rows[0];
      if (!row) throw new NotFoundError(`no collection "${name}" in ${redactUrl(url)} (create it first)`);
      const format = Number(db.value(`SELECT value FROM ${row.schema}.meta WHERE key = 'format'`));
      if (!(format >= 1)) throw new CorruptDataError(`collection "${name}" in ${redactUrl(url)} has no valid format`);
      if (format > COLLECTION_SCHEMA_FORMAT) throw new CorruptDataError(`collection "${name}" was written by a newer cmhash (format ${format}; this version reads ${COLLECTION_SCHEMA_FORMAT}) — upgrade cmhash`);
      return new PgStore(db, row);
    } catch (e) { db.close(); throw e; }
  }

  /** Deletes a collection (schema and catalog row) in one transaction. */
  static drop(url: string, name: string): void {
    const db = SyncPg.connect(url);
    try {
      migrateCatalog(db);
      db.query('BEGIN');
      try {
        const schema = db.value<string>('DELETE FROM cmhash.collections WHERE name = $1 RETURNING schema', [name]);
        if (!schema) throw new NotFoundError(`no collection "${name}" in ${redactUrl(url)}`);
        db.query(`DROP SCHEMA ${schema} CASCADE`);
        db.query('COMMIT');
      } catch (e) { rollbackQuietly(db); throw e; }
    } finally { db.close(); }
  }

  close(): void {
    this.db.close();
    if (this.checkpointDir) { removeTempDir(this.checkpointDir); this.checkpointDir = null; }
  }

  // Outside a transaction a statement is a read and may be retried on a new connection; inside
  // one, each statement is a crash point (the tests kill the process between any two).
  private q<R = Record<string, unknown>>(sql: string, params?: unknown[]): R[] {
    if (this.depth > 0) crashPoint('store: inside the transaction, before a statement');
    return this.db.query<R>(sql, params, this.depth === 0).rows;
  }
  private v<T = unknown>(sql: string, params?: unknown[]): T | undefined {
    if (this.depth > 0) crashPoint('store: inside the transaction, before a statement');
    return this.db.value<T>(sql, params, this.depth === 0);
  }

  write<T>(fn: () => T): T {
    if (this.depth > 0) {
      // a savepoint: a failed step undoes only itself
      const sp = `sp${++this.savepoints}`;
      this.db.query(`SAVEPOINT ${sp}`);
      this.depth++;
      try {
        const r = fn();
        this.db.query(`RELEASE SAVEPOINT ${sp}`);
        return r;
      } catch (e) {
        try { this.db.query(`ROLLBACK TO SAVEPOINT ${sp}`); } catch { /* the outer unit fails anyway */ }
        throw e;
      } finally { this.depth--; }
    }
    this.db.query('BEGIN', undefined, true);
    this.depth = 1;
    try {
      this.db.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`cmhash:${this.s}`]);
      const r = fn();
      const gen = Number(this.v(`UPDATE ${this.s}.meta SET value = (value::bigint + 1)::text WHERE key = 'generation' RETURNING value`));
      // delivered to every listening replica when (and only if) the transaction commits
      this.db.query('SELECT pg_notify($1, $2)', [CHANGES_CHANNEL, JSON.stringify({ collection: this.collection.name, generation: gen })]);
      crashPoint('store: all rows written, transaction not committed');
      this.db.query('COMMIT');
      this.committedGeneration = gen;
      this.commits++;
      crashPoint('store: transaction committed');
      return r;
    } catch (e) {
      rollbackQuietly(this.db);
      throw e;
    } finally { this.depth = 0; }
  }

  /**
   * The next id of a table, taken inside the write's transaction (writers hold the collection's
   * advisory lock): unlike a sequence it is rolled back with a write that does not commit, so ids
   * follow the embedded store's exactly (a retried write gets the ids the killed one would have).
   */
  private nextId(table: 'model_versions' | 'segments' | 'sessions'): string {
    return `(SELECT COALESCE(MAX(id), 0) + 1 FROM ${this.s}.${table})`;
  }

  /** Bumped by every committed write (replicas compare it to know whether to reload). */
  generation(): number { return Number(this.getMeta('generation') ?? 0); }

  /** The generation this store's last committed write made (null before its first write). */
  committedGeneration: number | null = null;
  /** Transactions this store object committed. */
  commits = 0;

  // ---------------------------------------------------------------- checkpoints

  saveCheckpoint(versionId: number, save: (path: string) => void): string {
    if (this.depth === 0) throw new Error('store: checkpoints are saved inside write()');
    const tmp = processTempDir(CHECKPOINT_DIR_PREFIX);
    try {
      const path = join(tmp, 'model.ckpt');
      save(path);
      this.q(`INSERT INTO ${this.s}.checkpoints (version, data) VALUES ($1, $2)`, [versionId, readFileSync(path)]);
    } finally { removeTempDir(tmp); }
    return `checkpoints/${versionId}`;
  }

  /** Checkpoints read back from the database, as files in a private temp folder removed at close. */
  private checkpointDir: string | null = null;
  private readonly checkpointFiles = new Map<string, string>();

  checkpointPath(ref: string): string {
    const cached = this.checkpointFiles.get(ref);
    if (cached) return cached;
    const m = /^checkpoints\/(\d+)$/.exec(ref);
    if (!m) throw new CorruptDataError(`collection "${this.collection.name}": checkpoint reference ${JSON.stringify(ref)} is not a PostgreSQL checkpoint`);
    const data = this.v<Uint8Array>(`SELECT data FROM ${this.s}.checkpoints WHERE version = $1`, [Number(m[1])]);
    if (!data) throw new CorruptDataError(`collection "${this.collection.name}": checkpoint of version ${m[1]} is missing`);
    // removed at close or at exit; a killed process's folder by the next process that reads one
    this.checkpointDir ??= processTempDir(CHECKPOINT_DIR_PREFIX);
    const path = join(this.checkpointDir, `v${m[1]}.ckpt`);
    writeFileSync(path, data);
    this.checkpointFiles.set(ref, path);
    return path;
  }

  // ---------------------------------------------------------------- items

  classes(): number { return Number(this.getMeta('classes') ?? 0); }

  addItems(items: NewItems): void {
    const { ids } = items;
    const n = ids.length;
    const classes = items.classes ?? 0;
    const meta = checkNewItems(items);
    const labels = Array.from({ length: n }, (_, i) => (items.labels ? Buffer.from(items.labels.subarray(i * classes, (i + 1) * classes)) : null));
    const now = new Date().toISOString();
    try {
      this.write(() => {
        // One statement for the batch; keys in the order given (WITH ORDINALITY). The keys continue
        // from the table's largest key, not from the items' sequence alone: PostgreSQL can put a
        // sequence back below keys that committed (crash recovery or failover of a database made
        // by CREATE DATABASE … TEMPLATE, whose copied sequence page had values logged ahead — a
        // PostgreSQL 15+ bug), and nextval would then fail the add with a duplicate key. The
        // sequence still counts (a removed item's key is not given again) and is moved past the
        // keys taken, so a writer that takes keys from it (an older cmhash) does not collide.
        const seq = `${this.s}.items_key_seq`;
        this.q(`WITH base AS (SELECT GREATEST((SELECT COALESCE(MAX(key), 0) FROM ${this.s}.items),
              (SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END FROM ${seq})) AS k),
            ins AS (INSERT INTO ${this.s}.items (key, id, labels, metadata, session, added)
              SELECT base.k + t.n, t.id, t.lab, t.meta::jsonb, $4, $5 FROM base, unnest($1::text[], $2::bytea[], $3::text[]) WITH ORDINALITY AS t(id, lab, meta, n) ORDER BY t.n
              RETURNING key)
          SELECT setval('${seq}', MAX(key)) FROM ins`,
        [ids, labels, meta, items.session ?? null, now]);
        if (classes > this.classes()) this.setMeta('classes', String(classes));
      });
    } catch (e) {
      // asked after the failed statement was rolled back (an aborted transaction answers nothing)
      if (e instanceof PgError && e.code === '23505' && /items_id_key/.test(e.message)) {
        const dup = this.existingIds(ids)[0];
        throw new InputError(`addItems: id ${JSON.stringify(dup ?? '?')} already exists in the collection`);
      }
      if (e instanceof PgError && (e.code === '22P05' || e.code === '22P02')) throw new InputError(`addItems: metadata cannot be stored as jsonb (${e.message})`);
      throw e;
    }
  }

  removeItems(ids: readonly string[]): number {
    const unique = [...new Set(ids)];
    return this.write(() => {
      const keys = this.q<{ key: string; id: string }>(`SELECT key, id FROM ${this.s}.items WHERE id = ANY($1::text[])`, [unique]);
      if (keys.length !== unique.length) {
        const found = new Set(keys.map((r) => r.id));
        throw new NotFoundError(`no item ${JSON.stringify(unique.find((id) => !found.has(id)))} in the collection`);
      }
      const k = keys.map((r) => r.key);
      this.q(`WITH d AS (DELETE FROM ${this.s}.codes WHERE key = ANY($1::bigint[]) RETURNING segment)
        UPDATE ${this.s}.segments s SET count = s.count - x.n FROM (SELECT segment, COUNT(*)::int AS n FROM d GROUP BY segment) x WHERE s.id = x.segment`, [k]);
      this.q(`DELETE FROM ${this.s}.items WHERE key = ANY($1::bigint[])`, [k]);
      this.q(`UPDATE ${this.s}.meta SET value = (value::bigint + 1)::text WHERE key = 'removals'`);
      return unique.length;
    });
  }

  existingIds(ids: readonly string[]): string[] {
    if (ids.length === 0) return [];
    const found = new Set(this.q<{ id: string }>(`SELECT id FROM ${this.s}.items WHERE id = ANY($1::text[])`, [ids]).map((r) => r.id));
    return ids.filter((id) => found.has(id));
  }

  getItems(ids: readonly string[]): Item[] {
    const classes = this.classes();
    const rows = ids.length === 0 ? [] : this.q<{ id: string; labels: Uint8Array | null; metadata: unknown; session: number | null }>(
      `SELECT id, labels, metadata, session FROM ${this.s}.items WHERE id = ANY($1::text[])`, [ids]);
    const byId = new Map(rows.map((r) => [r.id, r]));
    return ids.map((id) => {
      const row = byId.get(id);
      if (!row) throw new NotFoundError(`no item ${JSON.stringify(id)} in the collection`);
      const labels = new Uint8Array(classes);
      if (row.labels) labels.set(row.labels.subarray(0, classes));
      return { id: row.id, labels, metadata: row.metadata ?? null, session: row.session };
    });
  }

  labelMatrix(ids: readonly string[]): { labels: Uint8Array; classes: number } { return labelMatrixOf(this.getItems(ids), this.classes()); }

  itemIds(session?: number): string[] {
    const rows = session === undefined
      ? this.q<{ id: string }>(`SELECT id FROM ${this.s}.items ORDER BY key`)
      : this.q<{ id: string }>(`SELECT id FROM ${this.s}.items WHERE session = $1 ORDER BY key`, [session]);
    return rows.map((r) => r.id);
  }

  // ---------------------------------------------------------------- model versions

  createModelVersion(v: NewModelVersion): number {
    if (typeof v.method !== 'string' || v.method.length === 0) throw new InputError('createModelVersion: method must be a non-empty string');
    PackedCodes.alloc(v.bits, 0);
    if (v.bits !== this.collection.bits) throw new InputError(`createModelVersion: collection "${this.collection.name}" stores ${this.collection.bits}-bit codes, got ${v.bits}`);
    return this.write(() => {
      if (v.inheritCodesFrom !== undefined) {
        checkParentVersion(this.version(v.inheritCodesFrom), v.bits);
      }
      const id = Number(this.v(`INSERT INTO ${this.s}.model_versions (id, method, bits, created, checkpoint, status, session, parent, meta)
        VALUES (${this.nextId('model_versions')}, $1, $2, $3, $4, 'pending', $5, $6, $7) RETURNING id`,
      [v.method, v.bits, new Date().toISOString(), v.checkpoint ?? null, v.session ?? null, v.inheritCodesFrom ?? null, v.meta === undefined ? null : JSON.stringify(v.meta)]));
      if (v.inheritCodesFrom !== undefined) {
        this.q(`INSERT INTO ${this.s}.version_segments (version, segment) SELECT $1, segment FROM ${this.s}.version_segments WHERE version = $2`, [id, v.inheritCodesFrom]);
      }
      return id;
    });
  }

  commitModelVersion(id: number, opts: { makeCurrent?: boolean; checkpoint?: string } = {}): void {
    this.write(() => {
      const v = this.version(id);
      if (v.status === 'retired') throw new InputError(`commitModelVersion: version ${id} is retired`);
      this.q(`UPDATE ${this.s}.model_versions SET status = 'committed', checkpoint = COALESCE($1, checkpoint) WHERE id = $2`, [opts.checkpoint ?? null, id]);
      if (opts.makeCurrent ?? true) this.setMeta('current_version', String(id));
    });
  }

  setCurrentVersion(id: number): void {
    this.write(() => {
      const v = this.version(id);
      if (v.status !== 'committed') throw new InputError(`setCurrentVersion: version ${id} is ${v.status}, not committed`);
      this.setMeta('current_version', String(id));
    });
  }

  retireModelVersion(id: number): void {
    this.write(() => {
      this.version(id);
      if (this.currentVersion() === id) throw new InputError(`retireModelVersion: version ${id} is current; switch first`);
      this.q(`UPDATE ${this.s}.model_versions SET status = 'retired' WHERE id = $1`, [id]);
    });
  }

  currentVersion(): number | null {
    const v = this.getMeta('current_version');
    return v === undefined ? null : Number(v);
  }

  private versionSql(where: string): string {
    return `SELECT v.*, (SELECT COALESCE(SUM(s.count), 0) FROM ${this.s}.version_segments vs JOIN ${this.s}.segments s ON s.id = vs.segment
      WHERE vs.version = v.id) AS codes FROM ${this.s}.model_versions v ${where}`;
  }

  version(id: number): ModelVersion {
    const row = this.q(this.versionSql('WHERE v.id = $1'), [id])[0];
    if (!row) throw new NotFoundError(`model version ${id} does not exist`);
    return toVersion(row);
  }

  versions(): ModelVersion[] { return this.q(this.versionSql('ORDER BY v.id')).map(toVersion); }

  // ---------------------------------------------------------------- codes

  putCodes(versionId: number, ids: readonly string[], codes: PackedCodes): void {
    if (!(codes instanceof PackedCodes)) throw new InputError('putCodes: codes must be PackedCodes');
    if (ids.length !== codes.count) throw new InputError(`putCodes: ${ids.length} ids but ${codes.count} codes`);
    if (ids.length === 0) return;
    const seen = new Set<string>();
    for (const id of ids) {
      if (seen.has(id)) throw new InputError(`putCodes: id ${JSON.stringify(id)} appears twice (ids must be unique)`);
      seen.add(id);
    }
    this.write(() => {
      const v = this.version(versionId);
      if (v.status === 'retired') throw new InputError(`putCodes: version ${versionId} is retired`);
      if (codes.bits !== v.bits) throw new InputError(`putCodes: version ${versionId} holds ${v.bits}-bit codes, got ${codes.bits}-bit codes`);
      const rows = this.q<{ key: string; id: string }>(`SELECT key, id FROM ${this.s}.items WHERE id = ANY($1::text[])`, [ids]);
      const keyOf = new Map(rows.map((r) => [r.id, r.key]));
      const keys = ids.map((id) => {
        const k = keyOf.get(id);
        if (k === undefined) throw new NotFoundError(`no item ${JSON.stringify(id)} in the collection (add items first)`);
        return k;
      });
      const coded = this.v<string>(`SELECT c.key FROM ${this.s}.codes c JOIN ${this.s}.version_segments vs ON vs.segment = c.segment
        WHERE vs.version = $1 AND c.key = ANY($2::bigint[]) LIMIT 1`, [versionId, keys]);
      if (coded !== undefined) {
        const id = ids[keys.indexOf(coded)];
        throw new InputError(`putCodes: item ${JSON.stringify(id)} already has a code in version ${versionId} (codes are immutable; encode with a new model version)`);
      }
      const seg = this.insertSegment(codes.count);
      this.insertCodes(seg, keys, codes);
      this.q(`INSERT INTO ${this.s}.version_segments (version, segment) VALUES ($1, $2)`, [versionId, seg]);
    });
  }

  private insertSegment(count: number, seq?: number): number {
    const id = Number(this.v(`INSERT INTO ${this.s}.segments (id, bits, count, created, seq) VALUES (${this.nextId('segments')}, $1, $2, $3, 0) RETURNING id`,
      [this.collection.bits, count, new Date().toISOString()]));
    this.q(`UPDATE ${this.s}.segments SET seq = $1 WHERE id = $2`, [seq ?? id, id]);
    return id;
  }

  /**
   * One INSERT … SELECT FROM unnest per 20,000 codes. ord comes from the collection's counter in
   * meta (rolled back with the write, unlike a sequence), so a version's codes in ord order are in
   * the order they were stored.
   */
  private insertCodes(segment: number, keys: readonly string[], codes: PackedCodes): void {
    const base = BigInt(this.v<string>(`UPDATE ${this.s}.meta SET value = (value::bigint + $1)::text WHERE key = 'next_ord' RETURNING (value::bigint - $1)::text`, [codes.count])!);
    const BATCH = 20_000;
    for (let start = 0; start < codes.count; start += BATCH) {
      const end = Math.min(codes.count, start + BATCH);
      const ords = Array.from({ length: end - start }, (_, i) => base + BigInt(start + i));
      const st = insertCodesStatement(`${this.s}.codes`, codes.slice(start, end), { segment, ords, keys: keys.slice(start, end) });
      this.q(st.text, st.values);
    }
  }


  loadCodes(versionId?: number): { version: number; ids: string[]; codes: PackedCodes } {
    const id = versionId ?? this.currentVersion();
    if (id === null) throw new NotFoundError('store: no current model version (commit one first)');
    const v = this.version(id);
    if (v.status === 'retired') throw new InputError(`store: version ${id} is retired`);
    // one statement = one snapshot: the version's segments, their codes and the ids together
    const { ids, codes } = this.codesWhere(`vs.version = $1`, [id]);
    return { version: id, ids, codes };
  }

  /**
   * Codes of the rows matching `where` (over c = codes, vs = version_segments, i = items), in
   * stored order, as one row: the ids as an array and the words as one bytea (int8send: 8
   * big-endian bytes per word) — much cheaper to move and decode than a row per code.
   */
  private codesWhere(where: string, params: unknown[]): { ids: string[]; codes: PackedCodes } {
    const bits = this.collection.bits, wc = wordColumns(bits);
    const row = this.q<{ ids: string[] | null; words: Uint8Array | null }>(`SELECT array_agg(i.id ORDER BY c.ord) AS ids,
        string_agg(${wc.map((c) => `int8send(c.${c})`).join(' || ')}, ''::bytea ORDER BY c.ord) AS words
      FROM ${this.s}.version_segments vs JOIN ${this.s}.codes c ON c.segment = vs.segment JOIN ${this.s}.items i ON i.key = c.key WHERE ${where}`, params)[0];
    const ids = row?.ids ?? [];
    const codes = PackedCodes.alloc(bits, ids.length);
    const w = row?.words ? Buffer.from(row.words.buffer, row.words.byteOffset, row.words.byteLength) : Buffer.alloc(0);
    if (w.length !== ids.length * wc.length * 8) throw new CorruptDataError(`collection "${this.collection.name}": ${ids.length} codes but ${w.length} bytes of code words`);
    for (let k = 0, o = 0; k < ids.length * wc.length; k++, o += 8) {
      codes.data[2 * k] = w.readUInt32BE(o + 4);
      codes.data[2 * k + 1] = w.readUInt32BE(o);
    }
    return { ids, codes };
  }

  /**
   * What a replica compares to bring its snapshot up to date, in one statement: the generation, the
   * current version, how many removals there were, and the next ord (every stored code's ord is below it).
   */
  readState(): { generation: number; current: number | null; removals: number; nextOrd: string } {
    const m = new Map(this.q<{ key: string; value: string }>(`SELECT key, value FROM ${this.s}.meta WHERE key IN ('generation', 'current_version', 'removals', 'next_ord')`)
      .map((r) => [r.key, r.value]));
    return { generation: Number(m.get('generation') ?? 0), current: m.has('current_version') ? Number(m.get('current_version')) : null, removals: Number(m.get('removals') ?? 0), nextOrd: m.get('next_ord') ?? '0' };
  }

  /** A version's codes stored at or after `fromOrd`, in stored order (what another replica added). */
  codesFrom(versionId: number, fromOrd: string): { ids: string[]; codes: PackedCodes } {
    return this.codesWhere(`vs.version = $1 AND c.ord >= $2::bigint`, [versionId, fromOrd]);
  }

  /** The segments holding a version's codes (server-side search restricts to them). */
  versionSegments(versionId: number): number[] {
    return this.q<{ segment: number }>(`SELECT segment FROM ${this.s}.version_segments WHERE version = $1 ORDER BY segment`, [versionId]).map((r) => r.segment);
  }

  /** Item ids of internal keys, in the order given (server-side search answers with keys). */
  idsOfKeys(keys: readonly (number | string)[]): string[] {
    if (keys.length === 0) return [];
    const rows = this.q<{ key: string; id: string }>(`SELECT key::text AS key, id FROM ${this.s}.items WHERE key = ANY($1::bigint[])`, [keys.map(String)]);
    const byKey = new Map(rows.map((r) => [r.key, r.id]));
    return keys.map((k) => {
      const id = byKey.get(String(k));
      if (id === undefined) throw new NotFoundError(`store: no item with key ${k} (removed meanwhile)`);
      return id;
    });
  }

  /** The code of item `id` in version `versionId`, or null when it has none. */
  codeOf(versionId: number, id: string): PackedCodes | null {
    const wc = wordColumns(this.collection.bits);
    const row = this.q<Record<string, string>>(`SELECT ${wc.map((c) => `c.${c}::text`).join(', ')} FROM ${this.s}.codes c
      JOIN ${this.s}.version_segments vs ON vs.segment = c.segment JOIN ${this.s}.items i ON i.key = c.key WHERE vs.version = $1 AND i.id = $2`, [versionId, id])[0];
    if (!row) return null;
    const code = PackedCodes.alloc(this.collection.bits, 1);
    setCodeWords(code, 0, wc.map((c) => row[c]!));
    return code;
  }

  /** Which of `ids` have a code in version `versionId`. */
  codedIds(versionId: number, ids: readonly string[]): Set<string> {
    if (ids.length === 0) return new Set();
    return new Set(this.q<{ id: string }>(`SELECT i.id FROM ${this.s}.codes c JOIN ${this.s}.version_segments vs ON vs.segment = c.segment
      JOIN ${this.s}.items i ON i.key = c.key WHERE vs.version = $1 AND i.id = ANY($2::text[])`, [versionId, ids]).map((r) => r.id));
  }

  loadIndex(versionId?: number, spec = 'flat'): CodeIndex & { modelVersion: number } { return indexOverVersion(this.loadCodes(versionId), spec); }

  // ---------------------------------------------------------------- sessions

  addSession(s: { name: string; classes: unknown[]; modelVersion?: number; meta?: unknown }): number {
    if (!s.name) throw new InputError('addSession: name must be non-empty');
    if (!Array.isArray(s.classes)) throw new InputError('addSession: classes must be an array');
    return Number(this.v(`INSERT INTO ${this.s}.sessions (id, name, classes, model_version, created, meta) VALUES (${this.nextId('sessions')}, $1, $2, $3, $4, $5) RETURNING id`,
      [s.name, JSON.stringify(s.classes), s.modelVersion ?? null, new Date().toISOString(), s.meta === undefined ? null : JSON.stringify(s.meta)]));
  }

  sessions(): SessionRecord[] {
    return this.q<Record<string, any>>(`SELECT * FROM ${this.s}.sessions ORDER BY id`).map((r) => ({
      id: r.id, name: r.name, classes: r.classes, modelVersion: r.model_version, created: r.created, meta: r.meta ?? null,
    }));
  }

  // ---------------------------------------------------------------- housekeeping

  stats(): StoreStats {
    return {
      items: Number(this.v(`SELECT COUNT(*) FROM ${this.s}.items`)),
      classes: this.classes(),
      currentVersion: this.currentVersion(),
      versions: this.versions(),
      segments: Number(this.v(`SELECT COUNT(*) FROM ${this.s}.segments`)),
      sessions: Number(this.v(`SELECT COUNT(*) FROM ${this.s}.sessions`)),
    };
  }

  segmentCount(versionId?: number): number {
    const id = versionId ?? this.currentVersion();
    return id === null ? 0 : Number(this.v(`SELECT COUNT(*) FROM ${this.s}.version_segments WHERE version = $1`, [id]));
  }

  /** Nothing to sweep: a write that did not commit left no rows behind, and there are no files. */
  sweep(): string[] { return []; }

  maybeCompact(threshold = AUTO_COMPACT_SEGMENTS): CompactionResult | null {
    const most = Number(this.v(`SELECT COALESCE(MAX(n), 0) FROM (SELECT COUNT(*) AS n FROM ${this.s}.version_segments vs
      JOIN ${this.s}.model_versions v ON v.id = vs.version WHERE v.status != 'retired' GROUP BY vs.version) x`));
    return most > threshold ? this.compact() : null;
  }

  /**
   * Merges each live version's runs of segments no other live version shares into one segment row
   * (the codes keep their ord, so the order is unchanged), drops retired versions' segments and
   * codes nobody refers to. One transaction.
   */
  compact(): CompactionResult {
    const before = Number(this.v(`SELECT COUNT(*) FROM ${this.s}.segments`));
    let merged = 0, written = 0, codesDropped = 0, segmentsDeleted = 0;
    this.write(() => {
      const s = this.s;
      this.q(`DELETE FROM ${s}.version_segments WHERE version IN (SELECT id FROM ${s}.model_versions WHERE status = 'retired')`);
      const owners = new Map(this.q<{ segment: number; n: string }>(`SELECT segment, COUNT(*) AS n FROM ${s}.version_segments GROUP BY segment`).map((r) => [r.segment, Number(r.n)]));
      const live = this.q<{ id: number }>(`SELECT id FROM ${s}.model_versions WHERE status != 'retired' ORDER BY id`).map((r) => r.id);
      for (const version of live) {
        const segs = this.q<{ id: number; count: number; seq: number }>(`SELECT s.id, s.count, s.seq FROM ${s}.version_segments vs JOIN ${s}.segments s ON s.id = vs.segment
          WHERE vs.version = $1 ORDER BY s.seq`, [version]);
        for (const r of exclusiveRuns(segs, owners)) {
          if (r.length < 2) continue;
          const ids = r.map((sg) => sg.id);
          const total = r.reduce((a, sg) => a + sg.count, 0);
          this.q(`DELETE FROM ${s}.version_segments WHERE version = $1 AND segment = ANY($2::int[])`, [version, ids]);
          const seg = this.insertSegment(total, r[0]!.seq);
          this.q(`UPDATE ${s}.codes SET segment = $1 WHERE segment = ANY($2::int[])`, [seg, ids]);
          this.q(`INSERT INTO ${s}.version_segments (version, segment) VALUES ($1, $2)`, [version, seg]);
          merged += r.length; written++;
        }
      }
      // empty segments (all their items removed) and segments nobody refers to, with their codes
      this.q(`DELETE FROM ${s}.version_segments vs USING ${s}.segments sg WHERE sg.id = vs.segment AND sg.count = 0`);
      const orphans = this.q<{ id: number }>(`SELECT id FROM ${s}.segments WHERE id NOT IN (SELECT segment FROM ${s}.version_segments)`).map((r) => r.id);
      if (orphans.length) {
        codesDropped += this.db.query(`DELETE FROM ${s}.codes WHERE segment = ANY($1::int[])`, [orphans]).rowCount;
        segmentsDeleted = this.db.query(`DELETE FROM ${s}.segments WHERE id = ANY($1::int[])`, [orphans]).rowCount;
      }
    });
    return { merged, written, filesDeleted: segmentsDeleted, codesDropped, segmentsBefore: before, segmentsAfter: Number(this.v(`SELECT COUNT(*) FROM ${this.s}.segments`)) };
  }

  // ---------------------------------------------------------------- catalog documents

  /** Replaces the collection's config (what collection.json holds for a directory). */
  writeConfig(config: Record<string, unknown>): void {
    this.q('UPDATE cmhash.collections SET config = $1 WHERE name = $2', [JSON.stringify(config), this.collection.name]);
    this.collection.config = config;
  }

  private getMeta(key: string): string | undefined { return this.v<string>(`SELECT value FROM ${this.s}.meta WHERE key = $1`, [key]); }

  private setMeta(key: string, value: string): void {
    this.q(`INSERT INTO ${this.s}.meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, [key, value]);
  }
}

function toVersion(r: Record<string, unknown>): ModelVersion {
  return {
    id: r.id as number, method: r.method as string, bits: r.bits as number, created: r.created as string,
    checkpoint: (r.checkpoint as string | null) ?? null, status: r.status as VersionStatus,
    session: (r.session as number | null) ?? null, parent: (r.parent as number | null) ?? null,
    meta: r.meta ?? null, codes: Number(r.codes ?? 0),
  };
}
