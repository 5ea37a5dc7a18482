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

export interface StreamOptions {
  /** Session spec string or explicit sizes. */
  sessions: string | number[];
  /** Explicit class order (a permutation of 0..C-1); default: 0..C-1, or a seeded shuffle with shuffleClasses. */
  classOrder?: number[];
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
    const seen = new Set(order);
    if (order.length !== C || seen.size !== C || order.some((c) => !Number.isInteger(c) || c < 0 || c >= C)) throw new InputError(`classOrder must be a permutation of 0..${C - 1}, got [${order.join(', ')}]`);
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
  return { classOrder: order, sessionSizes: sizes, query, sessions, sessionOf };
}
