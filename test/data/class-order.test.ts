// Class orders by name or index (data/stream.ts parseClassOrder), what a bad order is told, the
// explained failure of a base session left with too few items, and `cmhash continual` end to end:
// --class-order with names, the chance column / chance_map per session, report.json.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Dataset, gatherRows } from '../../src/data/dataset.js';
import { loadDataset } from '../../src/data/load.js';
import { baseSessionReport, buildClassIncrementalStream, parseClassOrder } from '../../src/data/stream.js';
import { chanceLevel } from '../../src/eval/chance.js';
import { InputError } from '../../src/util/errors.js';

function ds(labelRows: number[][], names: string[], splits: Record<string, number[]>): Dataset {
  const n = labelRows.length, C = names.length, labels = new Uint8Array(n * C);
  labelRows.forEach((r, i) => r.forEach((c) => { labels[i * C + c] = 1; }));
  return new Dataset({ name: 'toy', image: new Float32Array(n), imageDim: 1, text: new Float32Array(n), textDim: 1, labels, labelNames: names,
    splits: Object.fromEntries(Object.entries(splits).map(([k, v]) => [k, Int32Array.from(v)])) });
}

const NAMES = ['art', 'biology', 'Geography', 'history'];

test('class orders take label names, indices or both; names match exactly, else case-insensitively', () => {
  assert.deepEqual(parseClassOrder('3,2,1,0', NAMES), [3, 2, 1, 0]);
  assert.deepEqual(parseClassOrder('history, Geography,biology,art', NAMES), [3, 2, 1, 0]);
  assert.deepEqual(parseClassOrder('geography,0,HISTORY,1', NAMES), [2, 0, 3, 1]);
  // a name that is digits is read as an index; a name differing only in case from another is matched exactly
  assert.deepEqual(parseClassOrder('b,B,0', ['B', 'b', 'c']), [1, 0, 0]);
  assert.throws(() => parseClassOrder('x,B,0', ['B', 'b', 'c']), /unknown class name 'x'/);
  assert.throws(() => parseClassOrder('BB,0', ['Bb', 'bB']), /unknown class name 'BB'/, 'ambiguous case-insensitive match is not guessed');
});

test('unknown names and bad indices are errors listing the valid names; a non-permutation names what is repeated and missing', () => {
  assert.throws(() => parseClassOrder('art,geo,bio,3', NAMES), (e: Error) => {
    assert.ok(e instanceof InputError);
    assert.match(e.message, /unknown class names 'geo', 'bio' \(valid names: art \(0\), biology \(1\), Geography \(2\), history \(3\); or indices 0\.\.3\)/);
    return true;
  });
  assert.throws(() => parseClassOrder('0,1,2,7', NAMES), /index 7 is out of range \(the dataset has 4 classes, 0\.\.3; valid names: art \(0\)/);
  assert.throws(() => parseClassOrder('0,,1', NAMES), /entry 2 is empty/);
  const d = ds([[0], [1], [2], [3]], NAMES, { retrieval: [0, 1, 2, 3], query: [0] });
  assert.throws(() => buildClassIncrementalStream(d, { sessions: '2+2', classOrder: parseClassOrder('art,art,history', NAMES) }),
    /permutation of 0\.\.3 \(every class exactly once\), got 3 entries \[0, 0, 3\]: repeated: 0 \(art\); missing: 1 \(biology\), 2 \(Geography\)/);
  const s = buildClassIncrementalStream(d, { sessions: '2+2', classOrder: parseClassOrder('history,Geography,1,0', NAMES) });
  assert.deepEqual(s.sessions.map((x) => x.newClasses), [[3, 2], [1, 0]]);
});

test('a base session left with too few items is explained: its classes, their items, what takes them, what to try', () => {
  // art (0) items all also carry history (3); biology (1) has items of its own; Geography (2) only with history
  const rows = [[0, 3], [0, 3], [0, 3], [1], [1], [1], [2, 3], [3], [0, 1]];
  const d = ds(rows, NAMES, { train: [0, 1, 2, 3, 4, 5, 6, 7, 8], retrieval: [0, 1, 2, 3, 4, 5, 6, 7, 8], query: [3] });
  // without a minimum the stream is built as before (the methods would refuse the empty base session)
  const loose = buildClassIncrementalStream(d, { sessions: '1+1+1+1', classOrder: [0, 3, 1, 2] });
  assert.equal(loose.sessions[0]!.train.length, 0);
  assert.throws(() => buildClassIncrementalStream(d, { sessions: '1+1+1+1', classOrder: [0, 3, 1, 2], minBaseItems: 2 }), (e: Error) => {
    assert.ok(e instanceof InputError);
    const m = e.message;
    assert.match(m, /toy: the base session \(session 0\) gets 0 training items under this class order; it needs at least 2\./);
    assert.match(m, /an item of a base class that also carries a later class arrives later/);
    assert.match(m, /Base classes \(training items with the class \/ left in session 0\): art \(0\) 4 \/ 0\./);
    assert.match(m, /Later classes their items also carry: history \(3\) 3, biology \(1\) 1\./);
    assert.match(m, /items with that label only: biology \(1\) 3, history \(3\) 1/);
    // merging sessions 0 and 1 (art + history) gives rows 0, 1, 2, 7
    assert.match(m, /merge the first 2 sessions \(--sessions 2\+1\+1 gives the base session 4 training items\)/);
    return true;
  });
  // the order the message points to works
  const ok = buildClassIncrementalStream(d, { sessions: '1+1+1+1', classOrder: parseClassOrder('biology,art,history,Geography', NAMES), minBaseItems: 2 });
  assert.deepEqual([...ok.sessions[0]!.train], [3, 4, 5]);
  // the report can be asked for directly, e.g. for a warning
  assert.match(baseSessionReport(d, ok, 5), /gets 3 training items.*needs at least 5.*biology \(1\) 4 \/ 3/);
});

test('cmhash continual: --class-order with names, chance per session (table, --json, report.json), explained base-session failure', async () => {
  const bin = resolve('bin/cmhash.js');
  const run = (args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 120_000 });
  const dir = mkdtempSync(join(tmpdir(), 'cmhash-order-'));
  try {
    const common = ['continual', '--method', 'finetune:dlcmh', '--data', 'synthetic:300:4', '--sessions', '2+2', '--bits', '16', '--epochs', '2', '--seed', '3'];
    const r = run([...common, '--class-order', 'class3,1,class0,2', '--json', '--out', dir]);
    assert.equal(r.status, 0, r.stderr);
    const json = JSON.parse(r.stdout);
    assert.deepEqual(Object.keys(json), ['method', 'data', 'bits', 'seed', 'sessions', 'R', 'final_avg_map', 'bwt', 'forgetting', 'baseline']);
    assert.equal(json.baseline.method, 'linear', 'the linear baseline ran on the same stream');
    assert.equal(json.baseline.sessions.length, json.sessions.length);
    for (const s of json.sessions) {
      assert.deepEqual(Object.keys(s), ['map', 'chance_map', 'train_seconds', 'memory_items', 'stored_code_stability', 'reencode_stability']);
      assert.equal(s.chance_map.i2t, s.chance_map.t2i);
      assert.ok(s.chance_map.i2t > 0 && s.chance_map.i2t <= 1);
    }
    // after the last session: every query against the whole retrieval split
    const d = await loadDataset('synthetic:300:4', { seed: 3 });
    const C = d.numLabels;
    const full = chanceLevel(gatherRows(d.labels, C, d.split('query')), gatherRows(d.labels, C, d.split('retrieval')), C).mapAll;
    assert.ok(Math.abs(json.sessions[1].chance_map.i2t - full) < 1e-12, `${json.sessions[1].chance_map.i2t} vs ${full}`);
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
    assert.equal(report.db_codes, 'learned');
    assert.deepEqual(report.sessions.map((s: { chance_map: unknown }) => s.chance_map), json.sessions.map((s: { chance_map: unknown }) => s.chance_map));
    assert.equal(report.chance.R.length, 2);
    assert.match(readFileSync(join(dir, 'report.html'), 'utf8'), /<th>chance<\/th>/);

    const table = run([...common, '--class-order', 'class3,1,class0,2']);
    assert.equal(table.status, 0, table.stderr);
    assert.match(table.stdout, /class order: class3, class1, class0, class2/);
    assert.match(table.stdout, /database codes \(--db-codes learned/);
    assert.match(table.stdout, /mAP I→T {2}mAP T→I {2}linear I→T {2}linear T→I {2}chance/);
    assert.match(table.stdout, /final average mAP .*\(chance 0\.\d{4}\)/);

    // synthetic:200:12 (seed 3): one training item has class11 as its only class
    const tiny = run(['continual', '--method', 'finetune:dlcmh', '--data', 'synthetic:200:12', '--sessions', '1+11', '--seed', '3', '--bits', '16',
      '--class-order', 'class11,0,1,2,3,4,5,6,7,8,9,10']);
    assert.equal(tiny.status, 2, tiny.stderr);
    assert.match(tiny.stderr, /the base session \(session 0\) gets 1 training item under this class order; it needs at least 2\. .*Base classes \(training items with the class \/ left in session 0\): class11 \(11\) \d+ \/ 1\. .*Try a class order that starts with classes that have many items of their own/);
    // a small base session runs, with a note (no validation split below 20 items)
    const few = run(['continual', '--method', 'finetune:dlcmh', '--data', 'synthetic:100:8', '--sessions', '1+7', '--seed', '3', '--bits', '16', '--epochs', '2',
      '--class-order', 'class2,0,1,3,4,5,6,7']);
    assert.equal(few.status, 0, few.stderr);
    assert.match(few.stdout, /note: the base session has 3 training items under this class order \(fewer than 20: no validation split/);

    const bad = run([...common, '--class-order', 'class3,1,klass0,2']);
    assert.equal(bad.status, 2, bad.stderr);
    assert.match(bad.stderr, /unknown class name 'klass0' \(valid names: class0 \(0\), class1 \(1\), class2 \(2\), class3 \(3\); or indices 0\.\.3\)/);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});
