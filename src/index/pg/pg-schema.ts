// The PostgreSQL layout of cmhash collections and its versioned migrations.
//
//   cmhash.migrations     which catalog migrations ran (version, when, what)
//   cmhash.collections    one row per collection: name, its schema, code width, collection config
//                         (what collection.json holds in a directory) and small documents
//                         (the vocabulary)
//   "c<N>".*              one schema per collection: meta, items, model_versions, segments,
//                         version_segments, codes (layout in code-columns.ts), checkpoints,
//                         sessions, jobs — the embedded store's tables, with codes as rows and
//                         checkpoints as bytea instead of files
//
// Migrations run in order, each in the transaction that records it, under an advisory lock, so
// replicas starting together apply each one exactly once. A database whose catalog is newer than
// this cmhash is refused (never guessed at).
import { codesTableSql } from './code-columns.js';

/** Advisory lock key (pg_advisory_xact_lock) held while migrating the catalog. */
export const MIGRATION_LOCK = 7_117_001;

export interface Migration { version: number; description: string; sql: string }

export const CATALOG_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'catalog of collections',
    sql: `
CREATE TABLE IF NOT EXISTS cmhash.collections (
  name      text PRIMARY KEY,
  schema    text NOT NULL UNIQUE,
  bits      integer NOT NULL,
  config    jsonb NOT NULL,
  documents jsonb NOT NULL DEFAULT '{}',
  created   text NOT NULL
);
CREATE SEQUENCE IF NOT EXISTS cmhash.collection_ids;`,
  },
];

export const CATALOG_VERSION = CATALOG_MIGRATIONS[CATALOG_MIGRATIONS.length - 1]!.version;

/** Tables of one collection (schema `s`, already quoted). Format 1. */
export function collectionSchemaSql(s: string, bits: number): string {
  return `
CREATE SCHEMA ${s};
CREATE TABLE ${s}.meta (key text PRIMARY KEY, value text NOT NULL);
CREATE TABLE ${s}.items (
  key      bigserial PRIMARY KEY,
  id       text NOT NULL UNIQUE,
  labels   bytea,
  metadata jsonb,
  session  integer,
  added    text NOT NULL
);
CREATE TABLE ${s}.model_versions (
  id         serial PRIMARY KEY,
  method     text NOT NULL,
  bits       integer NOT NULL,
  created    text NOT NULL,
  checkpoint text,
  status     text NOT NULL CHECK (status IN ('pending', 'committed', 'retired')),
  session    integer,
  parent     integer,
  meta       jsonb
);
CREATE TABLE ${s}.segments (
  id      serial PRIMARY KEY,
  bits    integer NOT NULL,
  count   integer NOT NULL,
  created text NOT NULL,
  seq     integer NOT NULL
);
CREATE TABLE ${s}.version_segments (
  version integer NOT NULL REFERENCES ${s}.model_versions(id),
  segment integer NOT NULL REFERENCES ${s}.segments(id),
  PRIMARY KEY (version, segment)
);
${codesTableSql(`${s}.codes`, bits)}
CREATE TABLE ${s}.checkpoints (version integer PRIMARY KEY REFERENCES ${s}.model_versions(id), data bytea NOT NULL);
CREATE TABLE ${s}.sessions (
  id            serial PRIMARY KEY,
  name          text NOT NULL,
  classes       jsonb NOT NULL,
  model_version integer,
  created       text NOT NULL,
  meta          jsonb
);
CREATE TABLE ${s}.jobs (
  id         text PRIMARY KEY,
  kind       text NOT NULL,
  status     text NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
  collection text NOT NULL,
  meta       jsonb NOT NULL,                   -- the request (session name, epochs, seed, ids, labels, metadata)
  body       bytea,                            -- its features (image rows, then text rows, float32)
  claimed_by text,
  heartbeat  timestamptz,
  attempts   integer NOT NULL DEFAULT 0,
  result     jsonb,
  error      text,
  progress   jsonb,
  created    timestamptz NOT NULL DEFAULT now(),
  started    timestamptz,
  finished   timestamptz
);
CREATE INDEX ON ${s}.jobs (status, created);
-- a session job commits at most once, whichever replica runs it (and however often it is retried)
CREATE UNIQUE INDEX sessions_job_key ON ${s}.sessions ((meta->>'job')) WHERE meta ? 'job';
INSERT INTO ${s}.meta (key, value) VALUES ('format', '1'), ('classes', '0'), ('generation', '0'), ('next_ord', '0'), ('removals', '0');`;
}

/** Format of a collection's own tables (meta.format); newer is refused. */
export const COLLECTION_SCHEMA_FORMAT = 1;

/** The quoted schema name of collection number n. */
export function schemaName(n: number): string { return `"c${n}"`; }
