// The SQLite schema of a collection store and its format version. Bump STORE_FORMAT when the
// layout changes; a store with a newer format is refused with a clear message, never guessed at.
export const STORE_FORMAT = 2;

export const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS items (
  key      INTEGER PRIMARY KEY AUTOINCREMENT,  -- internal, never reused (segments refer to it)
  id       TEXT NOT NULL UNIQUE,
  labels   BLOB,                               -- 0/1 bytes, width = classes when added
  metadata TEXT,                               -- JSON or NULL
  session  INTEGER,
  added    TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS removed_items (key INTEGER PRIMARY KEY);
CREATE TABLE IF NOT EXISTS model_versions (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  method     TEXT NOT NULL,
  bits       INTEGER NOT NULL,
  created    TEXT NOT NULL,
  checkpoint TEXT,
  status     TEXT NOT NULL CHECK (status IN ('pending', 'committed', 'retired')),
  session    INTEGER,
  parent     INTEGER,                            -- version whose codes were inherited
  meta       TEXT
);
CREATE TABLE IF NOT EXISTS segments (
  id      INTEGER PRIMARY KEY AUTOINCREMENT,
  file    TEXT NOT NULL UNIQUE,
  bits    INTEGER NOT NULL,
  count   INTEGER NOT NULL,
  created TEXT NOT NULL,
  seq     INTEGER                              -- position among a version's segments (format 2)
);
CREATE TABLE IF NOT EXISTS version_segments (
  version INTEGER NOT NULL REFERENCES model_versions(id),
  segment INTEGER NOT NULL REFERENCES segments(id),
  PRIMARY KEY (version, segment)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sessions (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  name          TEXT NOT NULL,
  classes       TEXT NOT NULL,                   -- JSON array of class indices or names
  model_version INTEGER,
  created       TEXT NOT NULL,
  meta          TEXT
);
`;
