// Self-contained HTML reports for `cmhash eval` and `cmhash continual`: one file, inline CSS and
// inline SVG charts, no scripts and no external URLs, so it opens from disk with no server.
// Charts: PR by Hamming radius, precision@N, mAP vs bits, per-session mAP, and the R matrix as a
// heat-map table. Where a result carries its split's chance level (eval/chance.ts: the expected mAP
// of a random ranking) the tables show it and the mAP charts draw it as a grey line. All text taken
// from results is escaped.
import { writeFileAtomic } from '../util/atomic-write.js';
import { InputError } from '../util/errors.js';
import { escapeXml, formatNumber, heatColor, lineChart, PALETTE, type ChartSeries } from './svg-charts.js';

export interface DirectionPair { i2t: number; t2i: number }
export interface PrCurve { precision: number[]; recall: number[] }

/** One `cmhash eval` result (one method × data × bits × seed). */
export interface EvalResult {
  method: string; data: string; bits: number; seed: number;
  map_all: DirectionPair; map_50: DirectionPair; train_seconds: number;
  /** precision/recall per Hamming radius 0, 1, 2, ... */
  pr?: { i2t: PrCurve; t2i: PrCurve };
  /** precision at each N of `n`. */
  pAtN?: { n: number[]; i2t: number[]; t2i: number[] };
  /** Chance level of the split: expected mAP@all / mAP@50 of a random ranking (eval/chance.ts). */
  chance_map?: DirectionPair;
  chance_map_50?: DirectionPair;
}

export interface ContinualSession {
  map: DirectionPair; train_seconds: number; memory_items: number;
  stored_code_stability: number; reencode_stability: number;
  /** Expected mAP of a random ranking of the database so far for the session's queries. */
  chance_map?: DirectionPair;
}

/** One `cmhash continual` result. R[t][j]: mAP of session-j queries after session t (row t has t+1 entries). */
export interface ContinualResult {
  method: string; data: string; bits: number; seed: number;
  sessions: ContinualSession[];
  R: { i2t: number[][]; t2i: number[][] };
  final_avg_map: DirectionPair;
  avg_incremental_map?: DirectionPair;
  bwt: number | DirectionPair;
  forgetting: number | DirectionPair;
  /** Final average mAP of a random ranking (the chance level of final_avg_map). */
  chance_final_avg_map?: number;
  /** How database codes were made (cmhash continual --db-codes), shown with the session table. */
  db_codes?: string;
}

export interface ReportInput {
  title?: string;
  eval?: EvalResult[];
  continual?: ContinualResult[];
  /** Free text lines shown under the title (command line, machine, notes). */
  notes?: string[];
  generatedAt?: Date;
}

const DIRECTIONS = ['i2t', 't2i'] as const;
type Direction = typeof DIRECTIONS[number];
const DIRECTION_LABEL: Record<Direction, string> = { i2t: 'I→T', t2i: 'T→I' };

// ---- validation: results usually come from our own code, but also from JSON files on disk ----

function isObj(v: unknown): v is Record<string, unknown> { return typeof v === 'object' && v !== null && !Array.isArray(v); }

function need(cond: boolean, where: string, expected: string, got: unknown): void {
  if (!cond) throw new InputError(`report: ${where} must be ${expected}, got ${JSON.stringify(got)?.slice(0, 80) ?? String(got)}`);
}

function checkCommon(r: unknown, where: string): asserts r is Record<string, unknown> {
  need(isObj(r), where, 'an object', r);
  const o = r as Record<string, unknown>;
  need(typeof o.method === 'string', `${where}.method`, 'a string', o.method);
  need(typeof o.data === 'string', `${where}.data`, 'a string', o.data);
  need(typeof o.bits === 'number' && Number.isInteger(o.bits) && o.bits > 0, `${where}.bits`, 'a positive integer', o.bits);
}

function checkPair(v: unknown, where: string): void {
  need(isObj(v) && typeof v.i2t === 'number' && typeof v.t2i === 'number', where, 'an object {i2t: number, t2i: number}', v);
}

/** Throws InputError naming the first malformed field. */
export function validateReportInput(input: ReportInput): void {
  need(isObj(input), 'input', 'an object', input);
  (input.eval ?? []).forEach((r, i) => {
    const w = `eval[${i}]`;
    checkCommon(r, w);
    checkPair(r.map_all, `${w}.map_all`);
    checkPair(r.map_50, `${w}.map_50`);
    if (r.chance_map !== undefined) checkPair(r.chance_map, `${w}.chance_map`);
    if (r.chance_map_50 !== undefined) checkPair(r.chance_map_50, `${w}.chance_map_50`);
    if (r.pr !== undefined) for (const d of DIRECTIONS) {
      const c = r.pr[d];
      need(isObj(c) && Array.isArray(c.precision) && Array.isArray(c.recall) && c.precision.length === c.recall.length, `${w}.pr.${d}`, 'an object {precision: number[], recall: number[]} of equal lengths', c);
    }
    if (r.pAtN !== undefined) for (const d of DIRECTIONS) {
      need(Array.isArray(r.pAtN.n) && Array.isArray(r.pAtN[d]) && r.pAtN[d].length === r.pAtN.n.length, `${w}.pAtN.${d}`, `an array of ${r.pAtN.n?.length} numbers (one per n)`, r.pAtN[d]);
    }
  });
  (input.continual ?? []).forEach((r, i) => {
    const w = `continual[${i}]`;
    checkCommon(r, w);
    need(Array.isArray(r.sessions), `${w}.sessions`, 'an array', r.sessions);
    r.sessions.forEach((s, t) => {
      checkPair(s?.map, `${w}.sessions[${t}].map`);
      if (s?.chance_map !== undefined) checkPair(s.chance_map, `${w}.sessions[${t}].chance_map`);
    });
    need(isObj(r.R), `${w}.R`, 'an object {i2t: number[][], t2i: number[][]}', r.R);
    for (const d of DIRECTIONS) {
      need(Array.isArray(r.R[d]) && r.R[d].every((row) => Array.isArray(row)), `${w}.R.${d}`, 'an array of rows', r.R[d]);
    }
    checkPair(r.final_avg_map, `${w}.final_avg_map`);
  });
}

// ---- small helpers ----

function mean(values: number[]): number {
  const v = values.filter((x) => Number.isFinite(x));
  return v.length === 0 ? NaN : v.reduce((a, b) => a + b, 0) / v.length;
}

/** Elementwise mean of equal-length arrays; arrays of other lengths than the first are ignored. */
function meanCurve(curves: number[][]): number[] {
  if (curves.length === 0) return [];
  const len = curves[0]!.length;
  const same = curves.filter((c) => c.length === len);
  return Array.from({ length: len }, (_, i) => mean(same.map((c) => c[i]!)));
}

function groupBy<T>(items: T[], key: (t: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const it of items) { const k = key(it); (m.get(k) ?? m.set(k, []).get(k)!).push(it); }
  return m;
}

const CHANCE_COLOR = '#9a9a9a';

function seedNote(n: number): string { return n > 1 ? ` (mean of ${n} seeds)` : ''; }

/** Colour per method (stable across charts), dash per direction. */
function styler(methods: string[]): (method: string, d: Direction) => { color: string; dashed: boolean } {
  const sorted = [...new Set(methods)].sort();
  return (method, d) => ({ color: PALETTE[sorted.indexOf(method) % PALETTE.length]!, dashed: d === 't2i' });
}

function pairCell(v: number | DirectionPair | undefined, d: Direction): string {
  if (typeof v === 'number') return formatNumber(v);
  return formatNumber(v?.[d]);
}

function table(headers: string[], rows: string[][], cls = ''): string {
  const head = `<tr>${headers.map((h) => `<th>${escapeXml(h)}</th>`).join('')}</tr>`;
  // Cells arrive already escaped/formatted by the caller.
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('\n');
  return `<table${cls ? ` class="${cls}"` : ''}>\n<thead>${head}</thead>\n<tbody>\n${body}\n</tbody>\n</table>`;
}

function section(id: string, title: string, body: string): string {
  return `<section id="${escapeXml(id)}">\n<h2>${escapeXml(title)}</h2>\n${body}\n</section>`;
}

function charts(items: string[]): string { return `<div class="charts">\n${items.join('\n')}\n</div>`; }

// ---- eval sections ----

function evalSections(results: EvalResult[]): string[] {
  if (results.length === 0) return [];
  const out: string[] = [];
  const style = styler(results.map((r) => r.method));
  const sorted = [...results].sort((a, b) => a.data.localeCompare(b.data) || a.method.localeCompare(b.method) || a.bits - b.bits || a.seed - b.seed);
  const chanceOf = new Map<string, EvalResult>();
  for (const r of sorted) if (r.chance_map && !chanceOf.has(r.data)) chanceOf.set(r.data, r);
  const chanceRows = [...chanceOf.values()].map((r) => ['<em>chance</em>', escapeXml(r.data), '—', '—', formatNumber(r.chance_map!.i2t), formatNumber(r.chance_map!.t2i),
    r.chance_map_50 ? formatNumber(r.chance_map_50.i2t) : '—', r.chance_map_50 ? formatNumber(r.chance_map_50.t2i) : '—', '—']);
  out.push(section('eval-summary', 'Retrieval results', table(
    ['method', 'data', 'bits', 'seed', 'mAP@all I→T', 'mAP@all T→I', 'mAP@50 I→T', 'mAP@50 T→I', 'train s'],
    [...sorted.map((r) => [escapeXml(r.method), escapeXml(r.data), String(r.bits), escapeXml(r.seed), formatNumber(r.map_all.i2t), formatNumber(r.map_all.t2i), formatNumber(r.map_50.i2t), formatNumber(r.map_50.t2i), formatNumber(r.train_seconds, 1)]), ...chanceRows],
  ) + (chanceRows.length ? '\n<p class="note">chance: the expected mAP of a uniformly random ranking of the retrieval items for the same queries (the same in both directions).</p>' : '')));

  // mAP vs bits: one chart per data set and metric, one line per method and direction.
  const byData = groupBy(results, (r) => r.data);
  const mapCharts: string[] = [];
  for (const [data, rs] of byData) {
    for (const metric of ['map_all', 'map_50'] as const) {
      const series: ChartSeries[] = [];
      for (const [method, ms] of groupBy(rs, (r) => r.method)) {
        for (const d of DIRECTIONS) {
          const byBits = groupBy(ms, (r) => String(r.bits));
          const points = [...byBits].map(([bits, g]) => ({ x: Number(bits), y: mean(g.map((r) => r[metric][d])), label: `${g.length} seed(s)` })).sort((a, b) => a.x - b.x);
          series.push({ name: `${method} ${DIRECTION_LABEL[d]}`, points, ...style(method, d) });
        }
      }
      const bits = rs.map((r) => r.bits);
      const ch = rs.find((r) => (metric === 'map_all' ? r.chance_map : r.chance_map_50));
      if (ch) {
        const y = (metric === 'map_all' ? ch.chance_map : ch.chance_map_50)!.i2t;
        series.push({ name: 'chance (random ranking)', points: [...new Set(bits)].sort((a, b) => a - b).map((x) => ({ x, y })), color: CHANCE_COLOR, dashed: true });
      }
      mapCharts.push(lineChart({
        id: `map-vs-bits:${data}:${metric}`, title: `${metric === 'map_all' ? 'mAP@all' : 'mAP@50'} vs bits — ${data}`,
        xLabel: 'bits', yLabel: metric === 'map_all' ? 'mAP@all' : 'mAP@50', xScale: 'log2',
        xDomain: [Math.min(...bits), Math.max(...bits)], series,
      }));
    }
  }
  out.push(section('map-vs-bits', 'mAP vs code length', charts(mapCharts)));

  // PR by radius and precision@N: one chart per data set and bit length.
  const byDataBits = [...groupBy(results, (r) => `${r.data}\u0000${r.bits}`).values()];
  const prCharts: string[] = [], patnCharts: string[] = [];
  for (const rs of byDataBits) {
    const { data, bits } = rs[0]!;
    const prSeries: ChartSeries[] = [], nSeries: ChartSeries[] = [];
    for (const [method, ms] of groupBy(rs, (r) => r.method)) {
      for (const d of DIRECTIONS) {
        const withPr = ms.filter((r) => r.pr);
        if (withPr.length > 0) {
          const p = meanCurve(withPr.map((r) => r.pr![d].precision)), rc = meanCurve(withPr.map((r) => r.pr![d].recall));
          prSeries.push({ name: `${method} ${DIRECTION_LABEL[d]}${seedNote(withPr.length)}`, points: p.map((y, radius) => ({ x: rc[radius]!, y, label: `radius ${radius}` })), ...style(method, d) });
        }
        const withN = ms.filter((r) => r.pAtN);
        if (withN.length > 0) {
          const ns = withN[0]!.pAtN!.n;
          const p = meanCurve(withN.filter((r) => r.pAtN!.n.length === ns.length).map((r) => r.pAtN![d]));
          nSeries.push({ name: `${method} ${DIRECTION_LABEL[d]}${seedNote(withN.length)}`, points: p.map((y, i) => ({ x: ns[i]!, y })), ...style(method, d) });
        }
      }
    }
    if (prSeries.length > 0) prCharts.push(lineChart({ id: `pr:${data}:${bits}`, title: `Precision–recall by Hamming radius — ${data}, ${bits} bits`, xLabel: 'recall', yLabel: 'precision', xDomain: [0, 1], yDomain: [0, 1], series: prSeries }));
    // N usually spans decades (1 … 1000): a log scale keeps the small-N end readable.
    const ns = nSeries.flatMap((s) => s.points.map((p) => p.x));
    const logN = ns.length > 0 && Math.min(...ns) > 0 && Math.max(...ns) / Math.min(...ns) >= 20;
    if (nSeries.length > 0) patnCharts.push(lineChart({ id: `precision-at-n:${data}:${bits}`, title: `Precision@N — ${data}, ${bits} bits`, xLabel: 'N', yLabel: 'precision', yDomain: [0, 1], xScale: logN ? 'log2' : 'linear', integerXTicks: true, series: nSeries }));
  }
  if (prCharts.length > 0) out.push(section('pr-curves', 'Precision–recall by Hamming radius', `<p class="note">One point per Hamming radius r = 0, 1, 2, …: items within distance r are retrieved. Hover a point for its radius.</p>\n${charts(prCharts)}`));
  if (patnCharts.length > 0) out.push(section('precision-at-n', 'Precision@N', charts(patnCharts)));
  return out;
}

// ---- continual sections ----

function heatmapTable(R: number[][], caption: string): string {
  const size = Math.max(R.length, ...R.map((row) => row.length));
  const values = R.flat().filter((v) => Number.isFinite(v));
  const lo = values.length ? Math.min(...values) : 0, hi = values.length ? Math.max(...values) : 1;
  const head = `<tr><th>after \\ queries of</th>${Array.from({ length: size }, (_, j) => `<th>session ${j}</th>`).join('')}</tr>`;
  const rows = R.map((row, t) => `<tr><th>session ${t}</th>${Array.from({ length: size }, (_, j) => {
    const v = row[j];
    if (typeof v !== 'number' || !Number.isFinite(v)) return '<td class="empty"></td>';
    const c = heatColor(v, lo, hi);
    return `<td style="background:${c.background};color:${c.text}" title="R[${t}][${j}] = ${formatNumber(v)}">${formatNumber(v)}</td>`;
  }).join('')}</tr>`);
  return `<table class="heatmap" data-chart="r-matrix">\n<caption>${escapeXml(caption)}</caption>\n<thead>${head}</thead>\n<tbody>\n${rows.join('\n')}\n</tbody>\n</table>`;
}

function continualSections(results: ContinualResult[]): string[] {
  if (results.length === 0) return [];
  const out: string[] = [];
  const style = styler(results.map((r) => r.method));
  const sorted = [...results].sort((a, b) => a.data.localeCompare(b.data) || a.method.localeCompare(b.method) || a.bits - b.bits || a.seed - b.seed);
  out.push(section('continual-summary', 'Continual learning results', table(
    ['method', 'data', 'bits', 'seed', 'sessions', 'final avg mAP I→T', 'final avg mAP T→I', 'chance', 'BWT I→T', 'BWT T→I', 'forgetting I→T', 'forgetting T→I', 'total train s'],
    sorted.map((r) => [escapeXml(r.method), escapeXml(r.data), String(r.bits), escapeXml(r.seed), String(r.sessions.length),
      formatNumber(r.final_avg_map.i2t), formatNumber(r.final_avg_map.t2i), r.chance_final_avg_map !== undefined ? formatNumber(r.chance_final_avg_map) : '—', pairCell(r.bwt, 'i2t'), pairCell(r.bwt, 't2i'),
      pairCell(r.forgetting, 'i2t'), pairCell(r.forgetting, 't2i'), formatNumber(r.sessions.reduce((a, s) => a + (s.train_seconds ?? 0), 0), 1)]),
  )));

  // Per-session mAP: one chart per data set and bit length, one line per method and direction.
  const sessionCharts: string[] = [];
  for (const rs of groupBy(results, (r) => `${r.data}\u0000${r.bits}`).values()) {
    const { data, bits } = rs[0]!;
    const series: ChartSeries[] = [];
    for (const [method, ms] of groupBy(rs, (r) => r.method)) {
      for (const d of DIRECTIONS) {
        const curve = meanCurve(ms.map((r) => r.sessions.map((s) => s.map[d])));
        series.push({ name: `${method} ${DIRECTION_LABEL[d]}${seedNote(ms.length)}`, points: curve.map((y, t) => ({ x: t, y, label: `session ${t}` })), ...style(method, d) });
      }
    }
    const withChance = rs.filter((r) => r.sessions.some((s) => s.chance_map));
    if (withChance.length) {
      const curve = meanCurve(withChance.map((r) => r.sessions.map((s) => s.chance_map?.i2t ?? NaN)));
      series.push({ name: 'chance (random ranking)', points: curve.map((y, t) => ({ x: t, y, label: `session ${t}` })).filter((p) => Number.isFinite(p.y)), color: CHANCE_COLOR, dashed: true });
    }
    const maxT = Math.max(...rs.map((r) => r.sessions.length)) - 1;
    sessionCharts.push(lineChart({ id: `session-map:${data}:${bits}`, title: `mAP@all after each session — ${data}, ${bits} bits`, xLabel: 'session', yLabel: 'mAP@all', xDomain: [0, Math.max(1, maxT)], integerXTicks: true, series }));
  }
  out.push(section('session-map', 'mAP after each session', `<p class="note">mAP@all on the database seen so far, measured after training on each session.</p>\n${charts(sessionCharts)}`));

  // Per result: session table and R matrices.
  const details = sorted.map((r) => {
    const head = `${r.method} — ${r.data}, ${r.bits} bits, seed ${r.seed}`;
    const hasChance = r.sessions.some((s) => s.chance_map);
    const sessions = (r.db_codes ? `<p class="note">database codes: ${escapeXml(r.db_codes)}; queries: net outputs.${hasChance ? ' chance: the expected mAP of a random ranking of the database so far for the session\'s queries.' : ''}</p>\n` : '')
      + table(['session', 'mAP I→T', 'mAP T→I', ...(hasChance ? ['chance'] : []), 'train s', 'memory items', 'stored-code stability', 're-encode stability'],
        r.sessions.map((s, t) => [String(t), formatNumber(s.map.i2t), formatNumber(s.map.t2i), ...(hasChance ? [s.chance_map ? formatNumber(s.chance_map.i2t) : '—'] : []), formatNumber(s.train_seconds, 2), escapeXml(s.memory_items ?? '—'), formatNumber(s.stored_code_stability), formatNumber(s.reencode_stability)]));
    const heat = DIRECTIONS.map((d) => heatmapTable(r.R[d], `R ${DIRECTION_LABEL[d]}: mAP of session-j queries (columns) after session t (rows)`)).join('\n');
    const avgInc = r.avg_incremental_map ? `; average incremental mAP I→T ${formatNumber(r.avg_incremental_map.i2t)}, T→I ${formatNumber(r.avg_incremental_map.t2i)}` : '';
    const chanceNote = r.chance_final_avg_map !== undefined ? ` (chance ${formatNumber(r.chance_final_avg_map)})` : '';
    return `<article class="result">\n<h3>${escapeXml(head)}</h3>\n<p>final average mAP I→T ${formatNumber(r.final_avg_map.i2t)}, T→I ${formatNumber(r.final_avg_map.t2i)}${chanceNote}${avgInc}</p>\n${sessions}\n<div class="heatmaps">\n${heat}\n</div>\n</article>`;
  });
  out.push(section('continual-details', 'Sessions and R matrices', details.join('\n')));
  return out;
}

const CSS = `
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px auto; max-width: 1240px; padding: 0 16px; color: #111; background: #fff; }
h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 18px; margin-top: 32px; border-bottom: 1px solid #ddd; padding-bottom: 4px; } h3 { font-size: 15px; }
.meta, .note { color: #555; }
table { border-collapse: collapse; margin: 8px 0 16px; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: right; } th { background: #f4f4f4; }
td:first-child, th:first-child { text-align: left; }
.heatmaps { display: flex; flex-wrap: wrap; gap: 24px; } .heatmap caption { text-align: left; color: #333; padding-bottom: 4px; } .heatmap td.empty { background: #fafafa; }
.charts { display: flex; flex-wrap: wrap; gap: 16px; }
svg.chart { background: #fff; border: 1px solid #eee; }
svg .grid { stroke: #eee; } svg .frame { fill: none; stroke: #999; } svg .tick { font-size: 11px; fill: #444; }
svg .axis-label { font-size: 12px; fill: #222; } svg .chart-title { font-size: 13px; font-weight: 600; fill: #111; }
svg .legend { font-size: 12px; fill: #222; } svg .no-data { fill: #999; }
`;

/** The report as one HTML string. */
export function renderReport(input: ReportInput): string {
  validateReportInput(input);
  const evalResults = input.eval ?? [], continual = input.continual ?? [];
  const title = input.title ?? 'cmhash report';
  const when = (input.generatedAt ?? new Date()).toISOString();
  const notes = (input.notes ?? []).map((n) => `<p class="meta">${escapeXml(n)}</p>`).join('\n');
  const body = [...evalSections(evalResults), ...continualSections(continual)];
  if (body.length === 0) body.push('<p>No results to report.</p>');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8"/>
<meta name="viewport" content="width=device-width, initial-scale=1"/>
<title>${escapeXml(title)}</title>
<style>${CSS}</style>
</head>
<body>
<h1>${escapeXml(title)}</h1>
<p class="meta">Generated ${escapeXml(when)} by cmhash · ${evalResults.length} retrieval result(s), ${continual.length} continual result(s). Solid lines: I→T (image query, text results); dashed: T→I.</p>
${notes}
${body.join('\n')}
</body>
</html>
`;
}

/** Renders and writes the report atomically (temp file + rename); returns the path. */
export async function writeReport(path: string, input: ReportInput): Promise<string> {
  const html = renderReport(input);
  writeFileAtomic(path, html);
  return path;
}
