// The embedded collection store: one directory per collection.
//
//   <dir>/collection.db    SQLite (WAL, synchronous=FULL): items, model versions, sessions, and
//                          which code segments belong to which model version
//   <dir>/segments/*.seg   immutable, append-only code segments (see segment.ts)
//
// Atomicity: a write is one SQLite transaction. Codes are written to a segment file first (temp
// file, fsync, rename, fsync folder); the transaction that references the segment commits after
// that, so a crash (kill -9) at any moment leaves either the old state or the new one — at worst
// an unreferenced segment file, which is ignored (gc() deletes it). A write that fails validation
// changes nothing.
//
// Model versions: codes are stored per model version; an index is always loaded for exactly one
// version, so codes of different models never meet in one ranking. A new version can inherit the
// codes of a committed parent (continual methods keep old database codes valid and frozen): it
// then shares the parent's segments — a declaration that those codes are valid for it, not a copy.
// "current" is one row in `meta`, switched in the same transaction that commits a version.
//
// One writer process at a time (readers may run alongside: SQLite WAL gives them a consistent
// snapshot, and segments are never modified after they are referenced).
import Database from 'better-sqlite3';
import { existsSync, mkdirSync, readdirSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { PackedCodes } from '../codes/packed-codes.js';
import type { CodeIndex } from './code-index.js';
import { createIndex } from './factory.js';
import { readSegment, readSegmentKeys, writeSegment } from './segment.js';
import { SCHEMA, STORE_FORMAT } from './store-schema.js';
import { validateLabels } from '../data/labels.js';
import { CorruptDataError, InputError, NotFoundError } from '../util/errors.js';
import { checkItemId } from './item-id.js';

export interface StoreOpenOptions {
  /** Create the directory and database when missing (default false). */
  create?: boolean;
  readonly?: boolean;
}

export interface NewItems {
  ids: readonly string[];
  /** ids.length × classes, 0/1 (optional). */
  labels?: Uint8Array;
  classes?: number;
  /** One JSON-serialisable value (or null) per item. */
  metadata?: readonly unknown[];
  session?: number;
}

export interface Item {
  id: string;
  /** 0/1 labels padded to the collection's current class count. */
  labels: Uint8Array;
  metadata: unknown;
  session: number | null;
}

export type VersionStatus = 'pending' | 'committed' | 'retired';

export interface ModelVersion {
  id: number;
  method: string;
  bits: number;
  created: string;
  checkpoint: string | null;
  status: VersionStatus;
  session: number | null;
  parent: number | null;
  meta: unknown;
  codes: number;
}

export interface NewModelVersion {
  method: string;
  bits: number;
  checkpoint?: string;
  session?: number;
  meta?: unknown;
  /** A committed version (same bits) whose stored codes stay valid for this one. */
  inheritCodesFrom?: number;
}

export interface SessionRecord { id: number; name: string; classes: unknown[]; modelVersion: number | null; created: string; meta: unknown }

export interface StoreStats {
  items: number;
  classes: number;
  currentVersion: number | null;
  versions: ModelVersion[];
  segments: number;
  sessions: number;
}


export class Store {
  private constructor(readonly dir: string, private db: Database.Database) {}

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
      throw e;
    }
    return new Store(dir, db);
  }

  close(): void { this.db.close(); }

  // ---------------------------------------------------------------- items

  /** Number of label classes known to the collection (grows with new sessions). */
  classes(): number { return Number(this.getMeta('classes') ?? 0); }

  addItems(items: NewItems): void {
    const { ids } = items;
    const n = ids.length;
    const classes = items.classes ?? 0;
    if (items.labels) {
      if (!items.classes) throw new InputError('addItems: labels given without classes (the label width)');
      validateLabels(items.labels, n, items.classes, 'addItems labels');
    }
    if (items.metadata && items.metadata.length !== n) throw new InputError(`addItems: ${n} ids but ${items.metadata.length} metadata entries`);
    const seen = new Set<string>();
    for (let i = 0; i < n; i++) {
      const id = ids[i]!;
      checkItemId(id, `addItems: id at ${i}`);
      if (seen.has(id)) throw new InputError(`addItems: id ${JSON.stringify(id)} appears twice (ids must be unique)`);
      seen.add(id);
    }
    const meta = items.metadata?.map((m, i) => {
      if (m === undefined || m === null) return null;
      try { return JSON.stringify(m); } catch (e) { throw new InputError(`addItems: metadata at ${i} is not JSON-serialisable (${(e as Error).message})`); }
    });
    const insert = this.stmt('INSERT INTO items (id, labels, metadata, session, added) VALUES (?, ?, ?, ?, ?)');
    const now = new Date().toISOString();
    this.db.transaction(() => {
      for (let i = 0; i < n; i++) {
        const labels = items.labels ? Buffer.from(items.labels.subarray(i * classes, (i + 1) * classes)) : null;
        try { insert.run(ids[i], labels, meta?.[i] ?? null, items.session ?? null, now); } catch (e) {
          if ((e as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') throw new InputError(`addItems: id ${JSON.stringify(ids[i])} already exists in the collection`);
          throw e;
        }
      }
      if (classes > this.classes()) this.setMeta('classes', String(classes));
    }).immediate();
  }

  /** Removes items (unknown id → NotFoundError, nothing removed); their codes drop out of every index. */
  removeItems(ids: readonly string[]): number {
    const get = this.stmt('SELECT key FROM items WHERE id = ?', true);
    const del = this.stmt('DELETE FROM items WHERE key = ?');
    const mark = this.stmt('INSERT OR IGNORE INTO removed_items (key) VALUES (?)');
    return this.db.transaction(() => {
      let n = 0;
      for (const id of new Set(ids)) {
        const key = get.get(id) as number | undefined;
        if (key === undefined) throw new NotFoundError(`removeItems: no item ${JSON.stringify(id)}`);
        del.run(key); mark.run(key); n++;
      }
      return n;
    }).immediate();
  }

  getItems(ids: readonly string[]): Item[] {
    const classes = this.classes();
    const get = this.stmt('SELECT id, labels, metadata, session FROM items WHERE id = ?');
    return ids.map((id) => {
      const row = get.get(id) as { id: string; labels: Buffer | null; metadata: string | null; session: number | null } | undefined;
      if (!row) throw new NotFoundError(`getItems: no item ${JSON.stringify(id)}`);
      const labels = new Uint8Array(classes);
      if (row.labels) labels.set(row.labels.subarray(0, classes));
      return { id: row.id, labels, metadata: row.metadata === null ? null : JSON.parse(row.metadata), session: row.session };
    });
  }

  /** Labels of the given items as one ids.length × classes matrix (padded with 0 for newer classes). */
  labelMatrix(ids: readonly string[]): { labels: Uint8Array; classes: number } {
    const items = this.getItems(ids), classes = this.classes();
    const labels = new Uint8Array(ids.length * classes);
    items.forEach((it, i) => labels.set(it.labels, i * classes));
    return { labels, classes };
  }

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
    return this.db.transaction(() => {
      if (v.inheritCodesFrom !== undefined) {
        const parent = this.version(v.inheritCodesFrom);
        if (parent.status !== 'committed') throw new InputError(`createModelVersion: parent version ${parent.id} is ${parent.status}, only committed versions can pass on codes`);
        if (parent.bits !== v.bits) throw new InputError(`createModelVersion: parent version ${parent.id} has ${parent.bits}-bit codes, new version ${v.bits}`);
      }
      const id = Number(this.stmt(
        "INSERT INTO model_versions (method, bits, created, checkpoint, status, session, parent, meta) VALUES (?, ?, ?, ?, 'pending', ?, ?, ?)",
      ).run(v.method, v.bits, new Date().toISOString(), v.checkpoint ?? null, v.session ?? null, v.inheritCodesFrom ?? null,
        v.meta === undefined ? null : JSON.stringify(v.meta)).lastInsertRowid);
      if (v.inheritCodesFrom !== undefined) {
        this.stmt('INSERT INTO version_segments (version, segment) SELECT ?, segment FROM version_segments WHERE version = ?').run(id, v.inheritCodesFrom);
      }
      return id;
    }).immediate();
  }

  /** Marks a version committed and (by default) makes it current, atomically. */
  commitModelVersion(id: number, opts: { makeCurrent?: boolean; checkpoint?: string } = {}): void {
    this.db.transaction(() => {
      const v = this.version(id);
      if (v.status === 'retired') throw new InputError(`commitModelVersion: version ${id} is retired`);
      this.stmt("UPDATE model_versions SET status = 'committed', checkpoint = COALESCE(?, checkpoint) WHERE id = ?").run(opts.checkpoint ?? null, id);
      if (opts.makeCurrent ?? true) this.setMeta('current_version', String(id));
    }).immediate();
  }

  /** Switches the current version (must be committed). */
  setCurrentVersion(id: number): void {
    this.db.transaction(() => {
      const v = this.version(id);
      if (v.status !== 'committed') throw new InputError(`setCurrentVersion: version ${id} is ${v.status}, not committed`);
      this.setMeta('current_version', String(id));
    }).immediate();
  }

  /** Retires a version (it can no longer be searched or receive codes; not the current one). */
  retireModelVersion(id: number): void {
    this.db.transaction(() => {
      this.version(id);
      if (this.currentVersion() === id) throw new InputError(`retireModelVersion: version ${id} is current; switch first`);
      this.stmt("UPDATE model_versions SET status = 'retired' WHERE id = ?").run(id);
    }).immediate();
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
    const file = `v${versionId}-${Date.now().toString(36)}-${process.pid}-${(segmentCounter++).toString(36)}.seg`;
    const path = join(this.dir, 'segments', file);
    let written = false;
    try {
      this.db.transaction(() => {
        const v = this.version(versionId);
        if (v.status === 'retired') throw new InputError(`putCodes: version ${versionId} is retired`);
        if (codes.bits !== v.bits) throw new InputError(`putCodes: version ${versionId} holds ${v.bits}-bit codes, got ${codes.bits}-bit codes`);
        const get = this.stmt('SELECT key FROM items WHERE id = ?', true);
        const keys = new Uint32Array(ids.length);
        for (let i = 0; i < ids.length; i++) {
          const key = get.get(ids[i]) as number | undefined;
          if (key === undefined) throw new NotFoundError(`putCodes: no item ${JSON.stringify(ids[i])} in the collection (add items first)`);
          keys[i] = key;
        }
        this.checkNotCoded(versionId, ids, keys);
        writeSegment(path, { keys, ids: [...ids], codes });
        written = true;
        const seg = Number(this.stmt('INSERT INTO segments (file, bits, count, created) VALUES (?, ?, ?, ?)')
          .run(file, codes.bits, codes.count, new Date().toISOString()).lastInsertRowid);
        this.stmt('INSERT INTO version_segments (version, segment) VALUES (?, ?)').run(versionId, seg);
      }).immediate();
    } catch (e) {
      if (written) { try { unlinkSync(path); } catch { /* leave it: unreferenced, gc() removes it */ } }
      throw e;
    }
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
      WHERE vs.version = ? ORDER BY s.id`).all(versionId) as { id: number; file: string; count: number; bits: number }[];
  }

  /** All live codes of one version, in the order they were stored (segments by age, rows in order). */
  loadCodes(versionId?: number): { version: number; ids: string[]; codes: PackedCodes } {
    // one read transaction: the segment list, the removed set and the version row are one snapshot
    return this.db.transaction(() => {
      const id = versionId ?? this.currentVersion();
      if (id === null) throw new NotFoundError('store: no current model version (commit one first)');
      const v = this.version(id);
      if (v.status === 'retired') throw new InputError(`store: version ${id} is retired`);
      const removed = new Set(this.stmt('SELECT key FROM removed_items', true).all() as number[]);
      const parts: PackedCodes[] = [];
      const ids: string[] = [];
      for (const seg of this.segmentsOf(id)) {
        const rows = readSegment(join(this.dir, 'segments', seg.file));
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
    })();
  }

  /** An index over one version's codes (default: the current version; spec as in factory.ts). */
  loadIndex(versionId?: number, spec = 'flat'): CodeIndex & { modelVersion: number } {
    const { version, ids, codes } = this.loadCodes(versionId);
    const index = createIndex(spec, codes.bits) as CodeIndex & { modelVersion: number; addTrusted(ids: string[], c: PackedCodes): void };
    index.addTrusted(ids, codes); // ids are unique per version by construction (putCodes checks)
    index.modelVersion = version;
    return index;
  }

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

  /**
   * Deletes segment files no committed transaction refers to (left by a crash between the file
   * rename and the commit) and older than `minAgeMs`, so a concurrent writer's fresh file survives.
   */
  gc(minAgeMs = 60_000): number {
    const known = new Set(this.stmt('SELECT file FROM segments', true).all() as string[]);
    const dir = join(this.dir, 'segments');
    let n = 0;
    for (const f of readdirSync(dir)) {
      const p = join(dir, f);
      if (known.has(f) || Date.now() - statSync(p).mtimeMs < minAgeMs) continue;
      unlinkSync(p); n++;
    }
    return n;
  }

  private getMeta(key: string): string | undefined {
    return (this.stmt('SELECT value FROM meta WHERE key = ?', true).get(key) as string | undefined);
  }

  private setMeta(key: string, value: string): void {
    this.stmt('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, value);
  }
}

let segmentCounter = 0;

function toVersion(r: Record<string, unknown>): ModelVersion {
  return {
    id: r.id as number, method: r.method as string, bits: r.bits as number, created: r.created as string,
    checkpoint: (r.checkpoint as string | null) ?? null, status: r.status as VersionStatus,
    session: (r.session as number | null) ?? null, parent: (r.parent as number | null) ?? null,
    meta: r.meta == null ? null : JSON.parse(r.meta as string), codes: Number(r.codes ?? 0),
  };
}
