import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Dataset } from '../../src/data/dataset.js';
import { buildClassIncrementalStream, parseSessionSpec } from '../../src/data/stream.js';

function ds(labelRows: number[][], C: number, splits: Record<string, number[]>): Dataset {
  const n = labelRows.length; const labels = new Uint8Array(n * C);
  labelRows.forEach((r, i) => r.forEach((c) => { labels[i * C + c] = 1; }));
  return new Dataset({ name: 'toy', image: new Float32Array(n), imageDim: 1, text: new Float32Array(n), textDim: 1, labels,
    labelNames: Array.from({ length: C }, (_, c) => `c${c}`), splits: Object.fromEntries(Object.entries(splits).map(([k, v]) => [k, Int32Array.from(v)])) });
}

test('session specs', () => {
  assert.deepEqual(parseSessionSpec('22+2', 24), [22, 2]);
  assert.deepEqual(parseSessionSpec('6,6,6,6', 24), [6, 6, 6, 6]);
  assert.deepEqual(parseSessionSpec('4+3+3', 10), [4, 3, 3]);
  assert.deepEqual(parseSessionSpec('4x6', 24), [6, 6, 6, 6]);
  assert.throws(() => parseSessionSpec('4+3', 10), /sessions cover 7 classes, the dataset has 10/);
  assert.throws(() => parseSessionSpec('4+a', 10), /expected sizes joined by \+ or ,/);
  assert.throws(() => parseSessionSpec('10+0', 10), /at least one class/);
});

test('items go to the session of their newest class; queries appear once all their labels are seen', () => {
  // classes 0..3, sessions [0,1] then [2] then [3]; class 3 has no item except a query
  const d = ds([[0], [1], [0, 2], [2], [1], [0, 3], [2], [0]], 4, { retrieval: [0, 1, 2, 3, 4], train: [0, 1, 2, 3], query: [5, 6, 7] });
  const s = buildClassIncrementalStream(d, { sessions: '2+1+1' });
  assert.deepEqual(s.sessions.map((x) => x.newClasses), [[0, 1], [2], [3]]);
  assert.deepEqual(s.sessions.map((x) => [...x.train]), [[0, 1], [2, 3], []]);
  assert.deepEqual(s.sessions.map((x) => [...x.database]), [[0, 1, 4], [2, 3], []]);
  assert.deepEqual(s.sessions.map((x) => [...x.databaseSoFar]), [[0, 1, 4], [0, 1, 2, 3, 4], [0, 1, 2, 3, 4]]);
  // query 5 = {0,3}: its class 3 arrives late, so it is only evaluated after session 2
  assert.deepEqual(s.sessions.map((x) => [...x.query]), [[7], [6, 7], [5, 6, 7]]);
  assert.deepEqual(s.sessions.map((x) => x.emptyClasses), [[], [], [3]]);
  assert.deepEqual([...s.query], [5, 6, 7]);
  // a custom class order moves items accordingly
  const r = buildClassIncrementalStream(d, { sessions: [2, 2], classOrder: [2, 3, 0, 1] });
  assert.deepEqual([...r.sessions[0]!.train], [3]); assert.deepEqual([...r.sessions[1]!.train], [0, 1, 2]);
  assert.throws(() => buildClassIncrementalStream(d, { sessions: [2, 2], classOrder: [0, 0, 1, 2] }), /permutation of 0\.\.3/);
});

test('items with no labels are rejected with a count', () => {
  const d = ds([[0], [], [1], []], 2, { retrieval: [0, 1, 2], query: [3] });
  assert.throws(() => buildClassIncrementalStream(d, { sessions: '1+1' }), /toy: 2 item\(s\) have no label .*first rows: 1, 3/);
  assert.throws(() => buildClassIncrementalStream(ds([[0]], 1, { retrieval: [0] }), { sessions: '1' }), /no split 'query'/);
});
