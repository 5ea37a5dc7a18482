// How binary codes are laid out in PostgreSQL rows — one layout shared by the store, server-side
// search and the shards:
//
//   codes (segment integer, ord bigint, key bigint, w0..w{W-1} bigint, h0..h{M-1} integer)
//
// - w_j is 64-bit word j of the code (PackedCodes' little-endian words) as a signed bigint, so
//   Hamming distance is Σ bit_count((w_j # q_j)::bit(64)) in plain SQL (W = ⌈bits/64⌉).
// - h_j is bits 16j..16j+15 of the code (0..65535; the last chunk of a code whose length is not a
//   multiple of 16 has 8 bits): one btree index per chunk column gives multi-index hashing in SQL
//   (pigeonhole: a code within radius r agrees with the query within ⌊r/M⌋ on some chunk).
// - ord is a store-wide insertion counter: a version's codes in `ord` order are its codes in the
//   order the embedded store gives them, so ties broken by ord match the in-process scan.
// - key is the item's internal key (items.key); segment groups codes written together (model
//   versions list the segments whose codes are valid for them, as in the embedded store).
import { PackedCodes } from '../../codes/packed-codes.js';

export const CHUNK_BITS = 16;

export function wordCount(bits: number): number { return Math.ceil(bits / 64); }
export function chunkCount(bits: number): number { return Math.ceil(bits / CHUNK_BITS); }
export function wordColumns(bits: number): string[] { return Array.from({ length: wordCount(bits) }, (_, j) => `w${j}`); }
export function chunkColumns(bits: number): string[] { return Array.from({ length: chunkCount(bits) }, (_, j) => `h${j}`); }

/** CREATE TABLE (and chunk indexes) for a codes table of `bits`-bit codes; `table` is already quoted. */
export function codesTableSql(table: string, bits: number, opts: { chunkIndexes?: boolean; primaryKey?: boolean } = {}): string {
  const cols = codeColumnDefinitions(bits);
  if (opts.primaryKey ?? true) cols.push('PRIMARY KEY (ord)');
  const sql = [`CREATE TABLE IF NOT EXISTS ${table} (${cols.join(', ')});`];
  if (opts.chunkIndexes ?? true) {
    const base = table.replace(/"/g, '').replace(/[^A-Za-z0-9_]/g, '_');
    for (const c of chunkColumns(bits)) sql.push(`CREATE INDEX IF NOT EXISTS "${base}_${c}" ON ${table} (${c});`);
    sql.push(`CREATE INDEX IF NOT EXISTS "${base}_segment" ON ${table} (segment);`);
    sql.push(`CREATE INDEX IF NOT EXISTS "${base}_key" ON ${table} (key);`);
  }
  return sql.join('\n');
}

/** The column definitions of a codes table (no constraints), e.g. for a partitioned parent. */
export function codeColumnDefinitions(bits: number): string[] {
  return [
    'segment integer NOT NULL', 'ord bigint NOT NULL', 'key bigint NOT NULL',
    ...wordColumns(bits).map((c) => `${c} bigint NOT NULL`), ...chunkColumns(bits).map((c) => `${c} integer NOT NULL`),
  ];
}

/** Code i's 64-bit words as signed bigints (the w columns). */
export function codeWords(codes: PackedCodes, i: number): bigint[] {
  const out: bigint[] = [];
  const base = i * codes.stride;
  for (let j = 0; j < codes.words64; j++) {
    const lo = BigInt(codes.data[base + 2 * j]!), hi = BigInt(codes.data[base + 2 * j + 1]!);
    out.push(BigInt.asIntN(64, (hi << 32n) | lo));
  }
  return out;
}

/** Code i's 16-bit chunks (the h columns). */
export function codeChunks(codes: PackedCodes, i: number): number[] {
  const out: number[] = [];
  const base = i * codes.stride;
  for (let j = 0; j < chunkCount(codes.bits); j++) {
    const u = codes.data[base + (j >> 1)]!;
    out.push((j & 1 ? u >>> 16 : u) & 0xffff);
  }
  return out;
}

/** Writes the words of one row (signed bigint values, as numbers' text or bigint) into code i of `into`. */
export function setCodeWords(into: PackedCodes, i: number, words: readonly (string | bigint)[]): void {
  const base = i * into.stride;
  for (let j = 0; j < into.words64; j++) {
    const w = BigInt.asUintN(64, BigInt(words[j]!));
    into.data[base + 2 * j] = Number(w & 0xffffffffn);
    into.data[base + 2 * j + 1] = Number(w >> 32n);
  }
}

/** SQL for the Hamming distance between the row's words and parameters $p.. $(p+W-1) (bigint). */
export function hammingSql(bits: number, firstParam: number, alias = ''): string {
  const a = alias ? `${alias}.` : '';
  return wordColumns(bits).map((c, j) => `bit_count((${a}${c} # $${firstParam + j}::bigint)::bit(64))`).join(' + ');
}

/** Per-row values besides the code: one segment for all rows or one per row; ords and keys per row. */
export interface CodeRowValues {
  segment: number | ArrayLike<number>;
  ords: ArrayLike<number | string | bigint>;
  keys: ArrayLike<number | string | bigint>;
}

/**
 * One INSERT of all of `codes` (row i: code i, ords[i], keys[i]) as `INSERT … SELECT FROM
 * unnest(column arrays)`: a fixed number of parameters however many rows, so one statement
 * carries tens of thousands of rows. `table` is already quoted.
 */
export function insertCodesStatement(table: string, codes: PackedCodes, rows: CodeRowValues): { text: string; values: unknown[] } {
  const n = codes.count;
  if (rows.ords.length !== n || rows.keys.length !== n || (typeof rows.segment !== 'number' && rows.segment.length !== n)) {
    throw new Error(`insertCodesStatement: ${n} codes need ${n} ords, keys and segments`);
  }
  const words = wordColumns(codes.bits), chunks = chunkColumns(codes.bits);
  const wordArrays = words.map(() => new Array<string>(n)), chunkArrays = chunks.map(() => new Array<number>(n));
  const segments = new Array<number>(n), ords = new Array<string>(n), keys = new Array<string>(n);
  for (let i = 0; i < n; i++) {
    segments[i] = typeof rows.segment === 'number' ? rows.segment : rows.segment[i]!;
    ords[i] = String(rows.ords[i]); keys[i] = String(rows.keys[i]);
    const w = codeWords(codes, i), h = codeChunks(codes, i);
    for (let j = 0; j < w.length; j++) wordArrays[j]![i] = w[j]!.toString();
    for (let j = 0; j < h.length; j++) chunkArrays[j]![i] = h[j]!;
  }
  const cols = ['segment', 'ord', 'key', ...words, ...chunks];
  const types = ['integer', 'bigint', 'bigint', ...words.map(() => 'bigint'), ...chunks.map(() => 'integer')];
  const text = `INSERT INTO ${table} (${cols.join(', ')}) SELECT * FROM unnest(${types.map((t, j) => `$${j + 1}::${t}[]`).join(', ')})`;
  return { text, values: [segments, ords, keys, ...wordArrays, ...chunkArrays] };
}
