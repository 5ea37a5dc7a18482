import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderReport, writeReport, type ContinualResult, type EvalResult } from '../../src/eval/report.js';
import { escapeXml, heatColor, lineChart, niceTicks } from '../../src/eval/svg-charts.js';
import { InputError } from '../../src/util/errors.js';
import { checkWellFormed } from './html-check.js';

function evalResult(method: string, bits: number, seed: number, base: number): EvalResult {
  const radii = bits + 1;
  return {
    method, data: 'wiki', bits, seed, map_all: { i2t: base, t2i: base + 0.01 }, map_50: { i2t: base + 0.1, t2i: base + 0.11 }, train_seconds: 12.25,
    pr: {
      i2t: { precision: Array.from({ length: radii }, (_, r) => 0.9 - r / (2 * radii)), recall: Array.from({ length: radii }, (_, r) => r / (radii - 1)) },
      t2i: { precision: Array.from({ length: radii }, (_, r) => 0.8 - r / (2 * radii)), recall: Array.from({ length: radii }, (_, r) => r / (radii - 1)) },
    },
    pAtN: { n: [1, 10, 100, 1000], i2t: [0.9, 0.8, 0.6, 0.4], t2i: [0.85, 0.75, 0.55, 0.35] },
  };
}

const continual: ContinualResult = {
  method: 'ccmh-gam', data: 'wiki', bits: 32, seed: 1,
  sessions: [
    { map: { i2t: 0.51, t2i: 0.52 }, train_seconds: 3.5, memory_items: 0, stored_code_stability: 1, reencode_stability: 1 },
    { map: { i2t: 0.47, t2i: 0.49 }, train_seconds: 1.25, memory_items: 200, stored_code_stability: 1, reencode_stability: 0.93 },
    { map: { i2t: 0.45, t2i: 0.46 }, train_seconds: 1.5, memory_items: 400, stored_code_stability: 1, reencode_stability: 0.9 },
  ],
  R: { i2t: [[0.51], [0.48, 0.44], [0.46, 0.42, 0.4321]], t2i: [[0.52], [0.5, 0.45], [0.47, 0.43, 0.41]] },
  final_avg_map: { i2t: 0.4374, t2i: 0.4367 }, bwt: { i2t: -0.035, t2i: -0.035 }, forgetting: 0.0375,
};

const evals = [
  evalResult('dbrc', 16, 1, 0.5), evalResult('dbrc', 32, 1, 0.55), evalResult('dbrc', 32, 2, 0.57), evalResult('dbrc', 64, 1, 0.6),
  evalResult('dcmh', 16, 1, 0.45), evalResult('dcmh', 32, 1, 0.5), evalResult('dcmh', 64, 1, 0.7123),
];

test('report is well-formed, self-contained and has every chart', () => {
  const html = renderReport({ title: 'Wiki run', eval: evals, continual: [continual, { ...continual, method: 'finetune', seed: 2 }], generatedAt: new Date(0) });
  const { counts } = checkWellFormed(html);
  assert.ok(html.startsWith('<!DOCTYPE html>'));
  assert.equal(counts.get('script'), undefined, 'no scripts');
  assert.doesNotMatch(html, /https?:|src=|href=/, 'no external references');
  // One <svg> per chart: 2 mAP-vs-bits (map_all, map_50) + 3 PR + 3 P@N (bits 16/32/64) + 1 per-session.
  assert.equal(counts.get('svg'), 9);
  for (const id of ['map-vs-bits:wiki:map_all', 'map-vs-bits:wiki:map_50', 'pr:wiki:16', 'pr:wiki:32', 'pr:wiki:64', 'precision-at-n:wiki:32', 'session-map:wiki:32']) {
    assert.ok(html.includes(`data-chart="${id}"`), `chart ${id}`);
  }
  // R heat maps: 2 directions × 2 results; ragged rows padded with empty cells (row 0 has 2 blanks).
  assert.equal(html.match(/data-chart="r-matrix"/g)?.length, 4);
  assert.ok(html.includes('<tr><th>session 0</th><td style="background:'));
  assert.match(html, /<tr><th>session 0<\/th><td[^>]*>0\.5100<\/td><td class="empty"><\/td><td class="empty"><\/td><\/tr>/);
  // Numbers from the inputs appear.
  for (const s of ['0.7123', '0.7223', '0.4321', '0.4374', '-0.0350', '0.0375', '0.9300', '12.3', '6.3']) assert.ok(html.includes(s), `number ${s}`);
  // Per-method lines in mAP vs bits: 2 methods × 2 directions.
  const mapChart = html.slice(html.indexOf('data-chart="map-vs-bits:wiki:map_all"'));
  const oneChart = mapChart.slice(0, mapChart.indexOf('</svg>'));
  assert.equal(oneChart.match(/<g class="series"/g)?.length, 4);
  assert.ok(oneChart.includes('data-series="dbrc I→T"') && oneChart.includes('data-series="dcmh T→I"'));
  // Seeds are averaged: dbrc at 32 bits = mean(0.55, 0.57) = 0.56.
  assert.ok(oneChart.includes('bits 32, mAP@all 0.5600'));
  // PR points are labelled by radius.
  assert.ok(html.includes('radius 0, recall 0, precision 0.9000'));
});

test('all text from results is escaped', () => {
  const evil = '<script>alert("x")</script>&\'';
  const html = renderReport({ title: `T ${evil}`, notes: [evil], eval: [{ ...evalResult(evil, 32, 1, 0.5), data: evil }], continual: [{ ...continual, method: evil, data: evil }] });
  checkWellFormed(html);
  assert.doesNotMatch(html, /<script/i);
  assert.ok(html.includes('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;'));
  assert.equal(escapeXml('a<b>&"\''), 'a&lt;b&gt;&amp;&quot;&#39;');
});

test('missing optional parts and empty input still render', () => {
  const bare: EvalResult = { method: 'dcmh', data: 'x', bits: 16, seed: 0, map_all: { i2t: 0.1, t2i: 0.2 }, map_50: { i2t: NaN, t2i: 0.3 }, train_seconds: 1 };
  const html = renderReport({ eval: [bare] });
  const { counts } = checkWellFormed(html);
  assert.equal(counts.get('svg'), 2); // mAP@all and mAP@50 vs bits only
  assert.ok(html.includes('—'), 'NaN shown as a dash');
  const empty = renderReport({});
  checkWellFormed(empty);
  assert.ok(empty.includes('No results to report.'));
});

test('malformed results give an InputError naming the field', () => {
  assert.throws(() => renderReport({ eval: [{ ...evalResult('a', 16, 1, 0.5), map_all: { i2t: 0.1 } as never }] }), (e: Error) => e instanceof InputError && /eval\[0\]\.map_all must be an object \{i2t: number, t2i: number\}/.test(e.message));
  assert.throws(() => renderReport({ continual: [{ ...continual, R: { i2t: [[1]] } as never }] }), (e: Error) => e instanceof InputError && /continual\[0\]\.R\.t2i must be an array of rows/.test(e.message));
  assert.throws(() => renderReport({ eval: [{ ...evalResult('a', 16, 1, 0.5), bits: 0 }] }), /eval\[0\]\.bits must be a positive integer, got 0/);
  assert.throws(() => renderReport({ eval: [{ ...evalResult('a', 16, 1, 0.5), pAtN: { n: [1, 2], i2t: [1], t2i: [1, 2] } }] }), /eval\[0\]\.pAtN\.i2t must be an array of 2 numbers/);
});

test('writeReport writes atomically and leaves no temp files', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cmhash-report-'));
  try {
    const path = join(dir, 'sub', 'report.html');
    await writeReport(path, { eval: evals });
    assert.deepEqual(readdirSync(join(dir, 'sub')), ['report.html']);
    checkWellFormed(readFileSync(path, 'utf8'));
    await assert.rejects(writeReport(join(dir, 'bad.html'), { eval: [{} as EvalResult] }), InputError);
    assert.deepEqual(readdirSync(dir).sort(), ['sub']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('chart primitives: ticks, scales, colours', () => {
  assert.deepEqual(niceTicks(0, 1, 5), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.deepEqual(niceTicks(0.43, 0.52, 4), [0.45, 0.475, 0.5]); // step 0.025 ≥ 0.09/4, ticks inside the domain
  assert.deepEqual(niceTicks(1, 1), [1]);
  // log2 x scale: 16 → left edge, 128 → right edge, 32 one third across (width 560, margins 58/16).
  const svg = lineChart({ id: 'c', title: 't', xLabel: 'bits', yLabel: 'y', xScale: 'log2', yDomain: [0, 1], series: [{ name: 's', points: [{ x: 16, y: 0 }, { x: 32, y: 0.5 }, { x: 128, y: 1 }] }] });
  checkWellFormed(svg);
  assert.ok(svg.includes('<path d="M58.0 294.0 L220.0 164.0 L544.0 34.0"'));
  assert.ok(lineChart({ id: 'e', title: 't', xLabel: 'x', yLabel: 'y', series: [] }).includes('no data'));
  assert.deepEqual(heatColor(0, 0, 1), { background: 'rgb(247, 251, 255)', text: '#111' });
  assert.deepEqual(heatColor(1, 0, 1), { background: 'rgb(8, 48, 107)', text: '#fff' });
});
