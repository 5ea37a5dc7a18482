// The embedded collection store: one directory per collection.
//
//   <dir>/collection.db    SQLite (WAL, synchronous=FULL): items, model versions, sessions, and
//                          which code segments belong to which model version
//   <dir>/segments/*.seg   immutable code segments (see segment.ts)
//   <dir>/models/*.ckpt    model checkpoints, referenced by their model version
//
// One write = one unit of work: `write(fn)` runs fn inside one SQLite transaction. Every file the
// write needs (segments, a checkpoint) is written inside it — temp file, fsync, rename, fsync the
// folder — before the transaction that refers to it commits. A crash (kill -9) at any point leaves
// either the state before the write or the state after it; at worst a file nobody refers to, which
// the next writable open deletes (leftovers.ts). The single-step methods (addItems, putCodes, …)
// are units of work of their own when called alone, and steps of the enclosing one inside write().
// A write that fails validation changes nothing.
//
// Model versions: codes are stored per model version; an index is always loaded for exactly one
// version, so codes of different models never meet in one ranking. A new version can inherit the
// codes of a committed parent (continual methods keep old database codes valid and frozen): it
// then shares the parent's segments — a declaration that those codes are valid for it, not a copy.
// "current" is one row in `meta`, switched in the same transaction that commits a version.
//
// Compaction merges a version's own runs of segments into one (same codes, same order: `seq`
// keeps each merged segment where its first part was), drops removed items' codes and segments no
// live version refers to. Answers before and after are identical.
//
// One writer process at a time is the supported use (readers may run alongside: SQLite WAL gives
// them a consistent snapshot; a load that meets a segment compacted away meanwhile retries).
import Database from 'better-sqlite3';
import { existsSync, mkdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { PackedCodes } from '../codes/packed-codes.js';
import type { CodeIndex } from './code-index.js';
import { readSegment, readSegmentKeys, writeSegment, type SegmentRows } from './segment.js';
import { SCHEMA, STORE_FORMAT } from './store-schema.js';
import { CorruptDataError, InputError, NotFoundError } from '../util/errors.js';
import { inFlight, ownedName, sweepFolder } from './leftovers.js';
import { checkNewItems, checkParentVersion, exclusiveRuns, indexOverVersion, labelMatrixOf } from './store-checks.js';
import { crashPoint } from '../util/crash-points.js';

export * from './store-types.js';
import type { CollectionStore, CompactionResult, Item, ModelVersion, NewItems, NewModelVersion, SessionRecord, StoreOpenOptions, StoreStats, VersionStatus } from './store-types.js';

/** Merge a live version's segments when it has more than this many (Collection calls maybeCompact). */
export const AUTO_COMPACT_SEGMENTS = 32;


export class Store implements CollectionStore {
  readonly kind = 'sqlite' as const;
  get location(): string { return this.dir; }

  private constructor(readonly dir: string, private db: Database.Database, private readonly segmentOrder: string) {}

  /** Files written by the unit of work in progress (deleted if it rolls back). */
  private written: string[] | null = null;

  /**
   * Statements are compiled once per SQL text and reused (every search looks items up here). The
   * cached statement is shared, so its pluck mode is set on every call rather than left to callers.
   */
  private readonly statements = new Map<string, Database.Statement>();
  private stmt(sql: string, pluck = false): Database.Statement {
    let st = this.statements.get(sql);
    if (!st) { st = this.db.prepare(sql); this.statements.set(sql, st); }
    return st.reader ? st.pluck(pluck) : st;
  }

  static open(dir: string, opts: StoreOpenOptions = {}): Store {
    const dbPath = join(dir, 'collection.db');
    if (!existsSync(dbPath)) {
      if (!opts.create) throw new NotFoundError(`store: no collection at ${dir} (collection.db missing; create it first)`);
      if (opts.readonly) throw new InputError('store: cannot create a store read-only');
      mkdirSync(join(dir, 'segments'), { recursive: true });
    }
    let db: Database.Database;
    try {
      db = new Database(dbPath, { readonly: !!opts.readonly, fileMustExist: !opts.create });
    } catch (e) {
      throw new CorruptDataError(`store: cannot open ${dbPath}: ${(e as Error).message}`);
    }
    try {
      if (!opts.readonly) {
        db.pragma('journal_mode = WAL');
        db.pragma('synchronous = FULL');
      }
      db.pragma('busy_timeout = 5000');
      const hasMeta = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").get();
      if (hasMeta) {
        const row = db.prepare("SELECT value FROM meta WHERE key = 'format'").get() as { value: string } | undefined;
        const format = row ? Number(row.value) : NaN;
        if (!(format >= 1)) throw new CorruptDataError(`store: ${dbPath} has no valid format version`);
        if (format > STORE_FORMAT) {
          throw new CorruptDataError(`store: ${dir} was written by a newer cmhash (store format ${format}; this version reads format ${STORE_FORMAT} and older) — upgrade cmhash to open it`);
        }
        if (format < 2 && !opts.readonly) migrateToFormat2(db);
      } else {
        if (opts.readonly) throw new CorruptDataError(`store: ${dbPath} is not a cmhash collection`);
        db.transaction(() => {
          db.exec(SCHEMA);
          db.prepare("INSERT INTO meta (key, value) VALUES ('format', ?), ('classes', '0'), ('created', ?)").run(String(STORE_FORMAT), new Date().toISOString());
        })();
      }
      mkdirSync(join(dir, 'segments'), { recursive: true });
    } catch (e) {
      db.close();
      // SQLite opens any file lazily; its first read is where a damaged or foreign file shows
      const code = (e as { code?: unknown }).code;
      if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') throw new CorruptDataError(`store: ${dbPath}: ${(e as Error).message} (damaged, or not a cmhash collection database)`);
      throw e;
    }
    const hasSeq = (db.prepare('PRAGMA table_info(segments)').all() as { name: string }[]).some((c) => c.name === 'seq');
    const store = new Store(dir, db, hasSeq ? 'COALESCE(s.seq, s.id)' : 's.id');
    if (!opts.readonly) store.sweep();
    return store;
  }

  /**
   * Runs `fn` as one unit of work: one SQLite transaction, committed when fn returns, rolled back
   * (with the files it wrote deleted) when it throws or the process dies. Nested calls join the
   * enclosing unit. `fn` must be synchronous: nothing else can interleave with it.
   */
  write<T>(fn: () => T): T {
    if (this.written) return this.db.transaction(fn)(); // a savepoint: a failed step undoes only itself
    this.written = [];
    try {
      const out = this.db.transaction(() => {
        const r = fn();
        crashPoint('store: all rows and files written, transaction not committed');
        return r;
      }).immediate();
      crashPoint('store: transaction committed');
      return out;
    } catch (e) {
      for (const f of this.written) { try { unlinkSync(f); } catch { /* never written, or a leftover the next open sweeps */ } }
      throw e;
    } finally {
      for (const f of this.written) inFlight.delete(f);
      this.written = null;
    }
  }

  /** A new file name for this unit of work under <dir>/<folder> (relative and absolute path). */
  private newFile(folder: string, stem: string, ext: string): { rel: string; abs: string } {
    if (!this.written) throw new Error(`store: ${folder} files are written inside write()`);
    const rel = ownedName(stem, ext), abs = join(this.dir, folder, rel);
    this.written.push(abs);
    inFlight.add(abs);
    return { rel, abs };
  }

  /**
   * Where to save the checkpoint of version `versionId` inside the current unit of work: the file
   * is the caller's to write (atomically) before the unit commits; commitModelVersion refers to it.
   */
  newCheckpointFile(versionId: number): { rel: string; abs: string } {
    mkdirSync(join(this.dir, 'models'), { recursive: true });
    const f = this.newFile('models', `v${versionId}`, 'ckpt');
    return { rel: join('models', f.rel), abs: f.abs };
  }

  saveCheckpoint(versionId: number, save: (path: string) => void): string {
    const f = this.newCheckpointFile(versionId);
    save(f.abs);
    return f.rel;
  }

  checkpointPath(ref: string): string { return join(this.dir, ref); }

  close(): void { this.db.close(); }

  // ---------------------------------------------------------------- items

  /** Number of label classes known to the collection (grows with new sessions). */
  classes(): number { return Number(this.getMeta('classes') ?? 0); }

  addItems(items: NewItems): void {
    const { ids } = items;
    const n = ids.length;
    const classes = items.classes ?? 0;
    const meta = checkNewItems(items);
    const insert = this.stmt('INSERT INTO items (id, labels, metadata, session, added) VALUES (?, ?, ?, ?, ?)');
    const now = new Date().toISOString();
    this.write(() => {
      for (let i = 0; i < n; i++) {
        const labels = items.labels ? Buffer.from(items.labels.subarray(i * classes, (i + 1) * classes)) : null;
        try { insert.run(ids[i], labels, meta?.[i] ?? null, items.session ?? null, now); } catch (e) {
          if ((e as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') throw new InputError(`addItems: id ${JSON.stringify(ids[i])} already exists in the collection`);
          throw e;
        }
      }
      if (classes > this.classes()) this.setMeta('classes', String(classes));
    });
  }

  /** Removes items (unknown id → NotFoundError, nothing removed); their codes drop out of every index. */
  removeItems(ids: readonly string[]): number {
    const get = this.stmt('SELECT key FROM items WHERE id = ?', true);
    const del = this.stmt('DELETE FROM items WHERE key = ?');
    const mark = this.stmt('INSERT OR IGNORE INTO removed_items (key) VALUES (?)');
    return this.write(() => {
      let n = 0;
      for (const id of new Set(ids)) {
        const key = get.get(id) as number | undefined;
        if (key === undefined) throw new NotFoundError(`no item ${JSON.stringify(id)} in the collection`);
        del.run(key); mark.run(key); n++;
      }
      return n;
    });
  }

  /** Which of `ids` are stored (in the order given). */
  existingIds(ids: readonly string[]): string[] {
    const out: string[] = [];
    for (let i = 0; i < ids.length; i += 500) {
      const part = ids.slice(i, i + 500);
      const found = new Set(this.stmt(`SELECT id FROM items WHERE id IN (${part.map(() => '?').join(',')})`, true).all(...part) as string[]);
      for (const id of part) if (found.has(id)) out.push(id);
    }
    return out;
  }

  getItems(ids: readonly string[]): Item[] {
    const classes = this.classes();
    const get = this.stmt('SELECT id, labels, metadata, session FROM items WHERE id = ?');
    return ids.map((id) => {
      const row = get.get(id) as { id: string; labels: Buffer | null; metadata: string | null; session: number | null } | undefined;
      if (!row) throw new NotFoundError(`no item ${JSON.stringify(id)} in the collection`);
      const labels = new Uint8Array(classes);
      if (row.labels) labels.set(row.labels.subarray(0, classes));
      return { id: row.id, labels, metadata: row.metadata === null ? null : JSON.parse(row.metadata), session: row.session };
    });
  }

  /** Labels of the given items as one ids.length × classes matrix (padded with 0 for newer classes). */
  labelMatrix(ids: readonly string[]): { labels: Uint8Array; classes: number } { return labelMatrixOf(this.getItems(ids), this.classes()); }

  /** All item ids in insertion order (optionally of one session). */
  itemIds(session?: number): string[] {
    const stmt = session === undefined
      ? this.stmt('SELECT id FROM items ORDER BY key', true)
      : this.stmt('SELECT id FROM items WHERE session = ? ORDER BY key', true);
    return (session === undefined ? stmt.all() : stmt.all(session)) as string[];
  }

  // ---------------------------------------------------------------- model versions

  createModelVersion(v: NewModelVersion): number {
    if (typeof v.method !== 'string' || v.method.length === 0) throw new InputError('createModelVersion: method must be a non-empty string');
    PackedCodes.alloc(v.bits, 0); // validates bits
    return this.write(() => {
      if (v.inheritCodesFrom !== undefined) {
        checkParentVersion(this.version(v.inheritCodesFrom), v.bits);
      }
      const id = Number(this.stmt(
        "INSERT INTO model_versions (method, bits, created, checkpoint, status, session, parent, meta) VALUES (?, ?, ?, ?, 'pending', ?, ?, ?)",
      ).run(v.method, v.bits, new Date().toISOString(), v.checkpoint ?? null, v.session ?? null, v.inheritCodesFrom ?? null,
        v.meta === undefined ? null : JSON.stringify(v.meta)).lastInsertRowid);
      if (v.inheritCodesFrom !== undefined) {
        this.stmt('INSERT INTO version_segments (version, segment) SELECT ?, segment FROM version_segments WHERE version = ?').run(id, v.inheritCodesFrom);
      }
      return id;
    });
  }

  /** Marks a version committed and (by default) makes it current, atomically. */
  commitModelVersion(id: number, opts: { makeCurrent?: boolean; checkpoint?: string } = {}): void {
    this.write(() => {
      const v = this.version(id);
      if (v.status === 'retired') throw new InputError(`commitModelVersion: version ${id} is retired`);
      this.stmt("UPDATE model_versions SET status = 'committed', checkpoint = COALESCE(?, checkpoint) WHERE id = ?").run(opts.checkpoint ?? null, id);
      if (opts.makeCurrent ?? true) this.setMeta('current_version', String(id));
    });
  }

  /** Switches the current version (must be committed). */
  setCurrentVersion(id: number): void {
    this.write(() => {
      const v = this.version(id);
      if (v.status !== 'committed') throw new InputError(`setCurrentVersion: version ${id} is ${v.status}, not committed`);
      this.setMeta('current_version', String(id));
    });
  }

  /** Retires a version (it can no longer be searched or receive codes; not the current one). */
  retireModelVersion(id: number): void {
    this.write(() => {
      this.version(id);
      if (this.currentVersion() === id) throw new InputError(`retireModelVersion: version ${id} is current; switch first`);
      this.stmt("UPDATE model_versions SET status = 'retired' WHERE id = ?").run(id);
    });
  }

  currentVersion(): number | null {
    const v = this.getMeta('current_version');
    return v === undefined ? null : Number(v);
  }

  version(id: number): ModelVersion {
    const row = this.stmt(`SELECT v.*, (SELECT COALESCE(SUM(s.count), 0) FROM version_segments vs JOIN segments s ON s.id = vs.segment
      WHERE vs.version = v.id) AS codes FROM model_versions v WHERE v.id = ?`).get(id) as Record<string, unknown> | undefined;
    if (!row) throw new NotFoundError(`model version ${id} does not exist`);
    return toVersion(row);
  }

  versions(): ModelVersion[] {
    const rows = this.stmt(`SELECT v.*, (SELECT COALESCE(SUM(s.count), 0) FROM version_segments vs JOIN segments s ON s.id = vs.segment
      WHERE vs.version = v.id) AS codes FROM model_versions v ORDER BY v.id`).all() as Record<string, unknown>[];
    return rows.map(toVersion);
  }

  // ---------------------------------------------------------------- codes

  /**
   * Stores codes for existing items under one model version (pending or committed). Codes are
   * immutable per (item, version): an item that already has a code in this version (own or
   * inherited) is an error — encode with a new version instead.
   */
  putCodes(versionId: number, ids: readonly string[], codes: PackedCodes): void {
    if (!(codes instanceof PackedCodes)) throw new InputError('putCodes: codes must be PackedCodes');
    if (ids.length !== codes.count) throw new InputError(`putCodes: ${ids.length} ids but ${codes.count} codes`);
    if (ids.length === 0) return;
    this.write(() => {
      const v = this.version(versionId);
      if (v.status === 'retired') throw new InputError(`putCodes: version ${versionId} is retired`);
      if (codes.bits !== v.bits) throw new InputError(`putCodes: version ${versionId} holds ${v.bits}-bit codes, got ${codes.bits}-bit codes`);
      const get = this.stmt('SELECT key FROM items WHERE id = ?', true);
      const keys = new Uint32Array(ids.length);
      for (let i = 0; i < ids.length; i++) {
        const key = get.get(ids[i]) as number | undefined;
        if (key === undefined) throw new NotFoundError(`no item ${JSON.stringify(ids[i])} in the collection (add items first)`);
        keys[i] = key;
      }
      this.checkNotCoded(versionId, ids, keys);
      const seg = this.insertSegment({ keys, ids: [...ids], codes }, `v${versionId}`);
      this.stmt('INSERT INTO version_segments (version, segment) VALUES (?, ?)').run(versionId, seg);
    });
  }

  /** Writes a segment file inside the unit of work and records it; returns its id. */
  private insertSegment(rows: SegmentRows, stem: string, seq?: number): number {
    const f = this.newFile('segments', stem, 'seg');
    writeSegment(f.abs, rows);
    const id = Number(this.stmt('INSERT INTO segments (file, bits, count, created, seq) VALUES (?, ?, ?, ?, ?)')
      .run(f.rel, rows.codes.bits, rows.codes.count, new Date().toISOString(), seq ?? null).lastInsertRowid);
    if (seq === undefined) this.stmt('UPDATE segments SET seq = id WHERE id = ?').run(id);
    return id;
  }

  private checkNotCoded(versionId: number, ids: readonly string[], keys: Uint32Array): void {
    let maxKey = 0;
    for (const k of keys) maxKey = Math.max(maxKey, k);
    const mark = new Uint8Array(maxKey + 1);
    for (let i = 0; i < keys.length; i++) {
      if (mark[keys[i]!]) throw new InputError(`putCodes: id ${JSON.stringify(ids[i])} appears twice (ids must be unique)`);
      mark[keys[i]!] = 1;
    }
    for (const { file } of this.segmentsOf(versionId)) {
      for (const k of readSegmentKeys(join(this.dir, 'segments', file))) {
        if (k <= maxKey && mark[k]) {
          const i = keys.indexOf(k);
          throw new InputError(`putCodes: item ${JSON.stringify(ids[i])} already has a code in version ${versionId} (codes are immutable; encode with a new model version)`);
        }
      }
    }
  }

  private segmentsOf(versionId: number): { id: number; file: string; count: number; bits: number }[] {
    return this.stmt(`SELECT s.id, s.file, s.count, s.bits FROM version_segments vs JOIN segments s ON s.id = vs.segment
      WHERE vs.version = ? ORDER BY ${this.segmentOrder}`).all(versionId) as { id: number; file: string; count: number; bits: number }[];
  }

  /** All live codes of one version, in the order they were stored (segments by age, rows in order). */
  loadCodes(versionId?: number): { version: number; ids: string[]; codes: PackedCodes } {
    // Another process's compaction may delete a segment between this read transaction's listing and
    // the file read: the next attempt sees the merged segment instead.
    for (let attempt = 1; ; attempt++) {
      try { return this.db.transaction(() => this.readCodes(versionId))(); } catch (e) {
        if ((e as { missingSegment?: boolean }).missingSegment && attempt < 3) continue;
        throw e;
      }
    }
  }

  /** loadCodes inside one read transaction: segment list, removed set and version row are one snapshot. */
  private readCodes(versionId?: number): { version: number; ids: string[]; codes: PackedCodes } {
    const id = versionId ?? this.currentVersion();
    if (id === null) throw new NotFoundError('store: no current model version (commit one first)');
    const v = this.version(id);
    if (v.status === 'retired') throw new InputError(`store: version ${id} is retired`);
    const removed = new Set(this.stmt('SELECT key FROM removed_items', true).all() as number[]);
    const parts: PackedCodes[] = [];
    const ids: string[] = [];
    for (const seg of this.segmentsOf(id)) {
      const path = join(this.dir, 'segments', seg.file);
      if (!existsSync(path)) throw Object.assign(new CorruptDataError(`store: segment ${seg.file} of version ${id} is missing`), { missingSegment: true });
      const rows = readSegment(path);
      if (rows.codes.bits !== v.bits || rows.codes.count !== seg.count) {
        throw new CorruptDataError(`store: segment ${seg.file} holds ${rows.codes.count} ${rows.codes.bits}-bit codes, expected ${seg.count} ${v.bits}-bit`);
      }
      if (removed.size === 0) { parts.push(rows.codes); for (const s of rows.ids) ids.push(s); continue; }
      const keep: number[] = [];
      for (let i = 0; i < rows.keys.length; i++) if (!removed.has(rows.keys[i]!)) { keep.push(i); ids.push(rows.ids[i]!); }
      parts.push(keep.length === rows.codes.count ? rows.codes : rows.codes.select(keep));
    }
    const codes = parts.length ? PackedCodes.concat(parts) : PackedCodes.alloc(v.bits, 0);
    return { version: id, ids, codes };
  }

  /** An index over one version's codes (default: the current version; spec as in factory.ts). */
  loadIndex(versionId?: number, spec = 'flat'): CodeIndex & { modelVersion: number } { return indexOverVersion(this.loadCodes(versionId), spec); }

  // ---------------------------------------------------------------- sessions

  addSession(s: { name: string; classes: unknown[]; modelVersion?: number; meta?: unknown }): number {
    if (!s.name) throw new InputError('addSession: name must be non-empty');
    if (!Array.isArray(s.classes)) throw new InputError('addSession: classes must be an array');
    return Number(this.stmt('INSERT INTO sessions (name, classes, model_version, created, meta) VALUES (?, ?, ?, ?, ?)')
      .run(s.name, JSON.stringify(s.classes), s.modelVersion ?? null, new Date().toISOString(), s.meta === undefined ? null : JSON.stringify(s.meta)).lastInsertRowid);
  }

  sessions(): SessionRecord[] {
    return (this.stmt('SELECT * FROM sessions ORDER BY id').all() as Record<string, any>[]).map((r) => ({
      id: r.id, name: r.name, classes: JSON.parse(r.classes), modelVersion: r.model_version, created: r.created,
      meta: r.meta === null ? null : JSON.parse(r.meta),
    }));
  }

  // ---------------------------------------------------------------- housekeeping

  stats(): StoreStats {
    return {
      items: this.stmt('SELECT COUNT(*) FROM items', true).get() as number,
      classes: this.classes(),
      currentVersion: this.currentVersion(),
      versions: this.versions(),
      segments: this.stmt('SELECT COUNT(*) FROM segments', true).get() as number,
      sessions: this.stmt('SELECT COUNT(*) FROM sessions', true).get() as number,
    };
  }

  /** The segment files the store refers to. */
  segmentFiles(): string[] { return this.stmt('SELECT file FROM segments ORDER BY id', true).all() as string[]; }

  /** Segments of one version (default: the current one). */
  segmentCount(versionId?: number): number {
    const id = versionId ?? this.currentVersion();
    return id === null ? 0 : this.stmt('SELECT COUNT(*) FROM version_segments WHERE version = ?', true).get(id) as number;
  }

  /**
   * Deletes the files of writes that never committed (a crash between writing a file and the
   * commit): segments and checkpoints nothing refers to, temp files — only those whose writer
   * process is gone. Runs at every writable open; returns the names deleted.
   */
  sweep(): string[] {
    const segs = new Set(this.stmt('SELECT file FROM segments', true).all() as string[]);
    const ckpts = new Set((this.stmt('SELECT checkpoint FROM model_versions WHERE checkpoint IS NOT NULL', true).all() as string[])
      .map((c) => c.replace(/^models[\\/]/, '')));
    return [...sweepFolder(join(this.dir, 'segments'), 'seg', segs), ...sweepFolder(join(this.dir, 'models'), 'ckpt', ckpts)];
  }

  /** Compacts when a live version has more than `threshold` segments; null when none has. */
  maybeCompact(threshold = AUTO_COMPACT_SEGMENTS): CompactionResult | null {
    const most = this.stmt(`SELECT COALESCE(MAX(n), 0) FROM (SELECT COUNT(*) AS n FROM version_segments vs JOIN model_versions v ON v.id = vs.version
      WHERE v.status != 'retired' GROUP BY vs.version)`, true).get() as number;
    return most > threshold ? this.compact() : null;
  }

  /**
   * Merges each live version's runs of segments no other live version shares into one segment
   * (order kept), rewrites shared segments without removed items' codes (still shared), drops
   * retired versions' segments, deletes files nothing refers to any more. One unit of work; searches see the same codes in the same order after it.
   */
  compact(): CompactionResult {
    const before = this.stmt('SELECT COUNT(*) FROM segments', true).get() as number;
    let merged = 0, written = 0, codesDropped = 0;
    const dropFiles: string[] = [];
    this.write(() => {
      this.stmt(`DELETE FROM version_segments WHERE version IN (SELECT id FROM model_versions WHERE status = 'retired')`).run();
      const removed = new Set(this.stmt('SELECT key FROM removed_items', true).all() as number[]);
      const owners = new Map<number, number>();
      for (const r of this.stmt(`SELECT segment, COUNT(*) AS n FROM version_segments GROUP BY segment`).all() as { segment: number; n: number }[]) owners.set(r.segment, r.n);
      const live = this.stmt(`SELECT id FROM model_versions WHERE status != 'retired' ORDER BY id`, true).all() as number[];
      for (const version of live) {
        const segs = this.stmt(`SELECT s.id, s.file, s.count, s.bits, ${this.segmentOrder} AS seq FROM version_segments vs JOIN segments s ON s.id = vs.segment
          WHERE vs.version = ? ORDER BY ${this.segmentOrder}`).all(version) as { id: number; file: string; count: number; bits: number; seq: number }[];
        // runs of consecutive segments only this version refers to
        for (const r of exclusiveRuns(segs, owners)) {
          const parts = r.map((sg) => readSegment(join(this.dir, 'segments', sg.file)));
          const hasRemoved = parts.some((p) => p.keys.some((k) => removed.has(k)));
          if (r.length < 2 && !hasRemoved) continue;
          const keep = { keys: [] as number[], ids: [] as string[], codes: [] as PackedCodes[] };
          for (const p of parts) {
            const rows: number[] = [];
            p.keys.forEach((k, i) => { if (removed.has(k)) codesDropped++; else { rows.push(i); keep.keys.push(k); keep.ids.push(p.ids[i]!); } });
            keep.codes.push(rows.length === p.codes.count ? p.codes : p.codes.select(rows));
          }
          const del = this.stmt('DELETE FROM version_segments WHERE version = ? AND segment = ?');
          for (const sg of r) del.run(version, sg.id);
          merged += r.length;
          if (keep.keys.length) {
            const seg = this.insertSegment({ keys: Uint32Array.from(keep.keys), ids: keep.ids, codes: PackedCodes.concat(keep.codes) }, `v${version}`, r[0]!.seq);
            this.stmt('INSERT INTO version_segments (version, segment) VALUES (?, ?)').run(version, seg);
            written++;
          }
        }
      }
      // shared segments (several live versions) holding removed codes: rewritten once, still shared
      if (removed.size) {
        const shared = this.stmt(`SELECT s.id, s.file, ${this.segmentOrder} AS seq FROM segments s WHERE (SELECT COUNT(*) FROM version_segments vs WHERE vs.segment = s.id) > 1`)
          .all() as { id: number; file: string; seq: number }[];
        for (const sg of shared) {
          const p = readSegment(join(this.dir, 'segments', sg.file));
          const rows: number[] = [];
          p.keys.forEach((k, i) => { if (!removed.has(k)) rows.push(i); });
          if (rows.length === p.keys.length) continue;
          codesDropped += p.keys.length - rows.length;
          if (rows.length === 0) { this.stmt('DELETE FROM version_segments WHERE segment = ?').run(sg.id); continue; }
          const seg = this.insertSegment({ keys: Uint32Array.from(rows, (i) => p.keys[i]!), ids: rows.map((i) => p.ids[i]!), codes: p.codes.select(rows) }, 'shared', sg.seq);
          this.stmt('UPDATE version_segments SET segment = ? WHERE segment = ?').run(seg, sg.id);
          merged++; written++;
        }
      }
      // segments nobody refers to any more, and removed keys no segment holds
      for (const r of this.stmt('SELECT id, file FROM segments WHERE id NOT IN (SELECT segment FROM version_segments)').all() as { id: number; file: string }[]) {
        this.stmt('DELETE FROM segments WHERE id = ?').run(r.id);
        dropFiles.push(r.file);
      }
      if (removed.size) {
        const held = new Set<number>();
        for (const f of this.stmt('SELECT file FROM segments', true).all() as string[]) for (const k of readSegmentKeys(join(this.dir, 'segments', f))) if (removed.has(k)) held.add(k);
        const clear = this.stmt('DELETE FROM removed_items WHERE key = ?');
        for (const k of removed) if (!held.has(k)) clear.run(k);
      }
    });
    // after the commit: the dropped files are no longer referenced (a crash here leaves them to sweep)
    let filesDeleted = 0;
    for (const f of dropFiles) { try { unlinkSync(join(this.dir, 'segments', f)); filesDeleted++; } catch { /* already gone */ } }
    filesDeleted += this.sweep().length;
    return { merged, written, filesDeleted, codesDropped, segmentsBefore: before, segmentsAfter: this.stmt('SELECT COUNT(*) FROM segments', true).get() as number };
  }

  private getMeta(key: string): string | undefined {
    return (this.stmt('SELECT value FROM meta WHERE key = ?', true).get(key) as string | undefined);
  }

  private setMeta(key: string, value: string): void {
    this.stmt('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, value);
  }
}

/** Format 2 adds segments.seq (a merged segment keeps its first part's place in the order). */
function migrateToFormat2(db: Database.Database): void {
  db.transaction(() => {
    const cols = (db.prepare('PRAGMA table_info(segments)').all() as { name: string }[]).map((c) => c.name);
    if (!cols.includes('seq')) db.exec('ALTER TABLE segments ADD COLUMN seq INTEGER');
    db.exec('UPDATE segments SET seq = id WHERE seq IS NULL');
    db.prepare("UPDATE meta SET value = '2' WHERE key = 'format'").run();
  }).immediate();
}

function toVersion(r: Record<string, unknown>): ModelVersion {
  return {
    id: r.id as number, method: r.method as string, bits: r.bits as number, created: r.created as string,
    checkpoint: (r.checkpoint as string | null) ?? null, status: r.status as VersionStatus,
    session: (r.session as number | null) ?? null, parent: (r.parent as number | null) ?? null,
    meta: r.meta == null ? null : JSON.parse(r.meta as string), codes: Number(r.codes ?? 0),
  };
}
