// Class-incremental streams (docs/design.md, "The continual protocol"): classes are ordered and split into
// sessions; an item belongs to the session of its newest class; a fixed query set (the dataset's
// query split, drawn before any split into sessions) is evaluated after each session on the
// queries whose labels have all been seen.
import { InputError } from '../util/errors.js';
import { Rng } from '../util/rng.js';
import type { Dataset } from './dataset.js';

export interface StreamSession {
  index: number;
  /** Class ids first seen in this session (in class-order order). */
  newClasses: number[];
  /** All classes seen up to and including this session. */
  seenClasses: number[];
  /** Training rows that arrive in this session. */
  train: Int32Array;
  /** Database rows that join the database in this session. */
  database: Int32Array;
  /** The whole database after this session (all sessions ≤ this one). */
  databaseSoFar: Int32Array;
  /** Query rows whose labels are all seen after this session. */
  query: Int32Array;
  /** New classes of this session that no training or database item carries. */
  emptyClasses: number[];
}

export interface ClassIncrementalStream {
  classOrder: number[];
  sessionSizes: number[];
  /** The fixed query set (all of it, whether or not its classes have arrived). */
  query: Int32Array;
  sessions: StreamSession[];
  /** Session of each row of the dataset (-1 for rows in none of the used splits). */
  sessionOf: Int32Array;
}

/** Parses `22+2`, `6,6,6,6`, `4+3+3` or `4x6` into session sizes that must sum to numClasses. */
export function parseSessionSpec(spec: string, numClasses: number): number[] {
  const s = spec.trim();
  let sizes: number[];
  const rep = /^(\d+)\s*[x×]\s*(\d+)$/.exec(s);
  if (rep) sizes = new Array<number>(Number(rep[1])).fill(Number(rep[2]));
  else {
    if (!/^\d+(\s*[+,]\s*\d+)*$/.test(s)) throw new InputError(`session spec '${spec}': expected sizes joined by + or , (e.g. 22+2, 6,6,6,6, 4+3+3) or NxK (e.g. 4x6)`);
    sizes = s.split(/[+,]/).map((x) => Number(x.trim()));
  }
  if (sizes.some((x) => x <= 0)) throw new InputError(`session spec '${spec}': every session needs at least one class`);
  const total = sizes.reduce((a, b) => a + b, 0);
  if (total !== numClasses) throw new InputError(`session spec '${spec}': sessions cover ${total} classes, the dataset has ${numClasses}`);
  return sizes;
}

/**
 * Parses a class order given as comma-separated class indices and/or label names (mixed is fine):
 * a token of digits only is an index, anything else a label name (exact, else case-insensitive when
 * that is unique). Unknown names and out-of-range indices are errors listing the valid names. The
 * result is checked as a permutation by buildClassIncrementalStream.
 */
export function parseClassOrder(spec: string, labelNames: readonly string[]): number[] {
  const C = labelNames.length;
  const tokens = String(spec).split(',').map((t) => t.trim());
  if (tokens.length === 0 || tokens.every((t) => t === '')) throw new InputError(`class order '${spec}': expected comma-separated class names or indices`);
  const exact = new Map<string, number>(); const folded = new Map<string, number[]>();
  labelNames.forEach((n, c) => { if (!exact.has(n)) exact.set(n, c); const f = n.toLowerCase(); folded.set(f, [...(folded.get(f) ?? []), c]); });
  const valid = () => `valid names: ${labelNames.map((n, c) => `${n} (${c})`).join(', ')}`;
  const unknown: string[] = [];
  const order = tokens.map((t, i) => {
    if (t === '') throw new InputError(`class order '${spec}': entry ${i + 1} is empty`);
    if (/^\d+$/.test(t)) {
      const c = Number(t);
      if (c >= C) throw new InputError(`class order: index ${c} is out of range (the dataset has ${C} classes, 0..${C - 1}; ${valid()})`);
      return c;
    }
    const c = exact.get(t) ?? (folded.get(t.toLowerCase())?.length === 1 ? folded.get(t.toLowerCase())![0] : undefined);
    if (c === undefined) { unknown.push(t); return -1; }
    return c;
  });
  if (unknown.length) throw new InputError(`class order: unknown class name${unknown.length > 1 ? 's' : ''} ${unknown.map((u) => `'${u}'`).join(', ')} (${valid()}; or indices 0..${C - 1})`);
  return order;
}

/** What is wrong with a class order that is not a permutation of 0..C−1 (names each class by its label name). */
function checkPermutation(order: number[], C: number, labelNames: readonly string[]): void {
  const name = (c: number) => (labelNames[c] !== undefined && labelNames[c] !== String(c) ? `${c} (${labelNames[c]})` : String(c));
  const bad = order.filter((c) => !Number.isInteger(c) || c < 0 || c >= C);
  const count = new Map<number, number>(); for (const c of order) count.set(c, (count.get(c) ?? 0) + 1);
  const dup = [...count].filter(([c, k]) => k > 1 && !bad.includes(c)).map(([c]) => c);
  const missing = Array.from({ length: C }, (_, c) => c).filter((c) => !count.has(c));
  if (!bad.length && !dup.length && !missing.length && order.length === C) return;
  const parts = [
    bad.length ? `not class indices: ${bad.join(', ')}` : '',
    dup.length ? `repeated: ${dup.map(name).join(', ')}` : '',
    missing.length ? `missing: ${missing.map(name).join(', ')}` : '',
  ].filter(Boolean);
  throw new InputError(`class order must be a permutation of 0..${C - 1} (every class exactly once), got ${order.length} entries [${order.join(', ')}]: ${parts.join('; ')}`);
}

export interface StreamOptions {
  /** Session spec string or explicit sizes. */
  sessions: string | number[];
  /** Explicit class order (a permutation of 0..C-1; parseClassOrder turns names into indices); default: 0..C-1, or a seeded shuffle with shuffleClasses. */
  classOrder?: number[];
  /**
   * Fewest training items the base session (session 0) may get (default 0: no check). When the
   * class order leaves fewer, the error explains why (baseSessionReport) and what to try instead.
   */
  minBaseItems?: number;
  shuffleClasses?: boolean;
  seed?: number;
  querySplit?: string;
  trainSplit?: string;
  databaseSplit?: string;
}

export function buildClassIncrementalStream(ds: Dataset, o: StreamOptions): ClassIncrementalStream {
  const C = ds.numLabels;
  const sizes = typeof o.sessions === 'string' ? parseSessionSpec(o.sessions, C) : o.sessions.slice();
  if (typeof o.sessions !== 'string' && sizes.reduce((a, b) => a + b, 0) !== C) throw new InputError(`sessions [${sizes.join(', ')}] cover ${sizes.reduce((a, b) => a + b, 0)} classes, the dataset has ${C}`);
  let order: number[];
  if (o.classOrder) {
    order = o.classOrder.slice();
    checkPermutation(order, C, ds.labelNames);
  } else {
    order = Array.from({ length: C }, (_, c) => c);
    if (o.shuffleClasses) new Rng(o.seed ?? 0).shuffle(order);
  }
  const sessionOfClass = new Int32Array(C);
  let k = 0; sizes.forEach((sz, t) => { for (let j = 0; j < sz; j++) sessionOfClass[order[k++]!] = t; });

  const query = ds.split(o.querySplit ?? 'query');
  const database = ds.split(o.databaseSplit ?? 'retrieval');
  const train = ds.hasSplit(o.trainSplit ?? 'train') ? ds.split(o.trainSplit ?? 'train') : database;

  const sessionOf = new Int32Array(ds.n).fill(-1);
  const unlabeled = new Set<number>();
  for (const rows of [query, database, train]) for (const r of rows) {
    if (sessionOf[r] !== -1) continue;
    let s = -1;
    for (let c = 0; c < C; c++) if (ds.labels[r * C + c] && sessionOfClass[c]! > s) s = sessionOfClass[c]!;
    if (s < 0) unlabeled.add(r); else sessionOf[r] = s;
  }
  if (unlabeled.size) {
    const rows = [...unlabeled].sort((a, b) => a - b);
    throw new InputError(`${ds.name}: ${rows.length} item(s) have no label and cannot be placed in a class-incremental session (first rows: ${rows.slice(0, 5).join(', ')}); drop them with subset()`);
  }
  const T = sizes.length;
  const bySession = (rows: Int32Array) => { const out: number[][] = Array.from({ length: T }, () => []); for (const r of rows) out[sessionOf[r]!]!.push(r); return out.map((a) => Int32Array.from(a)); };
  const trainBy = bySession(train); const dbBy = bySession(database);
  const classHasItem = new Uint8Array(C);
  for (const rows of [train, database]) for (const r of rows) for (let c = 0; c < C; c++) if (ds.labels[r * C + c]) classHasItem[c] = 1;
  const sessions: StreamSession[] = [];
  const dbSoFar: number[] = []; const seen: number[] = [];
  k = 0;
  for (let t = 0; t < T; t++) {
    const newClasses = order.slice(k, k + sizes[t]!); k += sizes[t]!;
    seen.push(...newClasses);
    for (const r of dbBy[t]!) dbSoFar.push(r);
    const q: number[] = []; for (const r of query) if (sessionOf[r]! <= t) q.push(r);
    sessions.push({ index: t, newClasses, seenClasses: seen.slice(), train: trainBy[t]!, database: dbBy[t]!, databaseSoFar: Int32Array.from(dbSoFar).sort(),
      query: Int32Array.from(q), emptyClasses: newClasses.filter((c) => !classHasItem[c]) });
  }
  const stream = { classOrder: order, sessionSizes: sizes, query, sessions, sessionOf };
  const min = o.minBaseItems ?? 0;
  if (sessions[0]!.train.length < min) throw new InputError(baseSessionReport(ds, stream, min, train));
  return stream;
}

/**
 * Why the base session of `stream` has so few training items, and what to try instead: an item
 * belongs to the session of its newest class, so an item of a base class that also carries a later
 * class arrives later. Names every base class with its training items (all, and those left in the
 * base session), the later classes that take most of them, the classes with the most items of
 * their own, and the smallest merge of the first sessions that reaches `min` items.
 */
export function baseSessionReport(ds: Dataset, stream: ClassIncrementalStream, min: number, trainRows?: Int32Array): string {
  const C = ds.numLabels, L = ds.labels, names = ds.labelNames;
  const train = trainRows ?? (ds.hasSplit('train') ? ds.split('train') : ds.split('retrieval'));
  const order = stream.classOrder, sizes = stream.sessionSizes;
  const pos = new Int32Array(C); order.forEach((c, p) => { pos[c] = p; });
  const base = order.slice(0, sizes[0]!);
  const newest = (r: number) => { let p = -1; for (let c = 0; c < C; c++) if (L[r * C + c] && pos[c]! > p) p = pos[c]!; return p; };
  const label = (c: number) => `${names[c] ?? c} (${c})`;
  const got = stream.sessions[0]!.train.length;
  const perClass = base.map((c) => {
    let all = 0, kept = 0;
    for (const r of train) if (L[r * C + c]) { all++; if (newest(r) < sizes[0]!) kept++; }
    return `${label(c)} ${all} / ${kept}`;
  });
  // later classes that take the base classes' items away
  const takers = new Map<number, number>();
  for (const r of train) {
    if (!base.some((c) => L[r * C + c]) || newest(r) < sizes[0]!) continue;
    for (let c = 0; c < C; c++) if (L[r * C + c] && pos[c]! >= sizes[0]!) takers.set(c, (takers.get(c) ?? 0) + 1);
  }
  const top = (m: Map<number, number>, k: number) => [...m].sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, k).map(([c, n]) => `${label(c)} ${n}`).join(', ');
  // classes with the most training items labelled with that class only
  const solo = new Map<number, number>();
  for (const r of train) {
    let only = -1, k = 0;
    for (let c = 0; c < C; c++) if (L[r * C + c]) { only = c; k++; }
    if (k === 1) solo.set(only, (solo.get(only) ?? 0) + 1);
  }
  // the smallest merge of the first sessions that gives the base session `min` items
  let merge = '';
  const newestOf = Int32Array.from(train, (r) => newest(r));
  for (let m = 2, cut = sizes[0]!; m <= sizes.length; m++) {
    cut += sizes[m - 1]!;
    const items = newestOf.reduce((a, p) => a + (p < cut ? 1 : 0), 0);
    if (items >= min) {
      const spec = [cut, ...sizes.slice(m)].join('+');
      merge = ` or merge the first ${m} sessions (--sessions ${spec} gives the base session ${items} training items)`;
      break;
    }
  }
  return `${ds.name}: the base session (session 0) gets ${got} training item${got === 1 ? '' : 's'} under this class order; it needs at least ${min}. `
    + 'An item belongs to the session of its newest class, so an item of a base class that also carries a later class arrives later. '
    + `Base classes (training items with the class / left in session 0): ${perClass.join(', ')}. `
    + (takers.size ? `Later classes their items also carry: ${top(takers, 5)}. ` : '')
    + `Try a class order that starts with classes that have many items of their own (${solo.size ? `items with that label only: ${top(solo, 6)}` : 'no item has a single label here'})${merge}.`;
}
