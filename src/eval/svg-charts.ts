// Inline SVG charts for the HTML reports: plain strings, no scripts, no external resources, every
// piece of text escaped. Line charts (with point markers and hover titles) and a heat-map colour
// scale are all the reports need.

/** Escapes text for HTML/XML content and attribute values. */
export function escapeXml(text: unknown): string {
  return String(text).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** A number for display: fixed decimals, or an em dash when missing or not finite. */
export function formatNumber(v: unknown, digits = 4): string {
  return typeof v === 'number' && Number.isFinite(v) ? v.toFixed(digits) : '—';
}

export interface ChartPoint { x: number; y: number; /** shown on hover */ label?: string }
export interface ChartSeries { name: string; points: ChartPoint[]; color?: string; dashed?: boolean }
export interface LineChartSpec {
  /** Stable identifier, written as data-chart (tests and readers find charts by it). */
  id: string;
  title: string;
  xLabel: string;
  yLabel: string;
  series: ChartSeries[];
  /** 'log2' spaces bit lengths (16, 32, 64, 128) evenly. */
  xScale?: 'linear' | 'log2';
  xDomain?: [number, number];
  yDomain?: [number, number];
  /** Only whole-number x ticks (e.g. session indices). */
  integerXTicks?: boolean;
  /** Draw markers only (no connecting line), e.g. for sparse points. */
  markersOnly?: boolean;
  width?: number;
  height?: number;
}

/** Colour-blind friendly palette (Okabe–Ito order, then a few extras). */
export const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000', '#F0E442', '#7f7f7f', '#8c564b'];

/** About `count` round tick values covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

function tickText(v: number): string {
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  return a >= 100 ? v.toFixed(0) : a >= 1 ? String(Number(v.toFixed(2))) : String(Number(v.toPrecision(3)));
}

function extent(values: number[], fallback: [number, number]): [number, number] {
  if (values.length === 0) return fallback;
  let lo = Math.min(...values), hi = Math.max(...values);
  if (lo === hi) { const pad = lo === 0 ? 1 : Math.abs(lo) * 0.1; lo -= pad; hi += pad; }
  return [lo, hi];
}

/** A line chart as an inline <svg> element. Points with non-finite coordinates are dropped. */
export function lineChart(spec: LineChartSpec): string {
  const width = spec.width ?? 560, height = spec.height ?? 340;
  const m = { left: 58, right: 16, top: 34, bottom: 46 };
  const legendRows = spec.series.length;
  const legendH = legendRows * 16 + 8;
  const plotW = width - m.left - m.right, plotH = height - m.top - m.bottom;
  const totalH = height + legendH;
  const log = spec.xScale === 'log2';
  const series = spec.series.map((s, i) => ({
    ...s,
    color: s.color ?? PALETTE[i % PALETTE.length]!,
    points: s.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y) && (!log || p.x > 0)),
  }));
  const xs = series.flatMap((s) => s.points.map((p) => (log ? Math.log2(p.x) : p.x)));
  const ys = series.flatMap((s) => s.points.map((p) => p.y));
  const [x0, x1] = spec.xDomain ? (log ? [Math.log2(spec.xDomain[0]), Math.log2(spec.xDomain[1])] : spec.xDomain) : extent(xs, [0, 1]);
  const [y0, y1] = spec.yDomain ?? extent(ys, [0, 1]);
  const sx = (x: number) => m.left + ((log ? Math.log2(x) : x) - x0) / (x1 - x0 || 1) * plotW;
  const sy = (y: number) => m.top + plotH - (y - y0) / (y1 - y0 || 1) * plotH;
  const f = (v: number) => v.toFixed(1);

  const out: string[] = [];
  out.push(`<svg class="chart" data-chart="${escapeXml(spec.id)}" role="img" aria-label="${escapeXml(spec.title)}" viewBox="0 0 ${width} ${totalH}" width="${width}" height="${totalH}">`);
  out.push(`<title>${escapeXml(spec.title)}</title>`);
  out.push(`<text class="chart-title" x="${width / 2}" y="18" text-anchor="middle">${escapeXml(spec.title)}</text>`);
  // Grid and ticks.
  let xTicks = log ? rangeInt(Math.ceil(x0 - 1e-9), Math.floor(x1 + 1e-9)).map((e) => 2 ** e) : niceTicks(x0, x1, 6);
  if (spec.integerXTicks) xTicks = xTicks.filter((t) => Number.isInteger(t));
  for (const t of xTicks) {
    const x = sx(t);
    out.push(`<line class="grid" x1="${f(x)}" y1="${m.top}" x2="${f(x)}" y2="${m.top + plotH}"/>`);
    out.push(`<text class="tick" x="${f(x)}" y="${m.top + plotH + 16}" text-anchor="middle">${escapeXml(tickText(t))}</text>`);
  }
  for (const t of niceTicks(y0, y1, 5)) {
    const y = sy(t);
    out.push(`<line class="grid" x1="${m.left}" y1="${f(y)}" x2="${m.left + plotW}" y2="${f(y)}"/>`);
    out.push(`<text class="tick" x="${m.left - 6}" y="${f(y + 4)}" text-anchor="end">${escapeXml(tickText(t))}</text>`);
  }
  out.push(`<rect class="frame" x="${m.left}" y="${m.top}" width="${plotW}" height="${plotH}"/>`);
  out.push(`<text class="axis-label" x="${m.left + plotW / 2}" y="${m.top + plotH + 36}" text-anchor="middle">${escapeXml(spec.xLabel)}</text>`);
  out.push(`<text class="axis-label" transform="translate(14 ${m.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escapeXml(spec.yLabel)}</text>`);
  if (xs.length === 0) {
    out.push(`<text class="no-data" x="${m.left + plotW / 2}" y="${m.top + plotH / 2}" text-anchor="middle">no data</text>`);
  }
  // Series.
  for (const s of series) {
    out.push(`<g class="series" data-series="${escapeXml(s.name)}">`);
    if (!spec.markersOnly && s.points.length > 1) {
      const d = s.points.map((p, i) => `${i === 0 ? 'M' : 'L'}${f(sx(p.x))} ${f(sy(p.y))}`).join(' ');
      out.push(`<path d="${d}" fill="none" stroke="${escapeXml(s.color)}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
    }
    for (const p of s.points) {
      const tip = `${s.name}: ${p.label ? p.label + ', ' : ''}${spec.xLabel} ${tickText(p.x)}, ${spec.yLabel} ${formatNumber(p.y)}`;
      out.push(`<circle cx="${f(sx(p.x))}" cy="${f(sy(p.y))}" r="3" fill="${escapeXml(s.color)}"><title>${escapeXml(tip)}</title></circle>`);
    }
    out.push('</g>');
  }
  // Legend below the plot.
  series.forEach((s, i) => {
    const y = height + 4 + i * 16;
    out.push(`<g class="legend-item"><line x1="${m.left}" y1="${y}" x2="${m.left + 24}" y2="${y}" stroke="${escapeXml(s.color)}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>` +
      `<text class="legend" x="${m.left + 30}" y="${y + 4}">${escapeXml(s.name)}</text></g>`);
  });
  out.push('</svg>');
  return out.join('\n');
}

function rangeInt(a: number, b: number): number[] {
  const r: number[] = [];
  for (let i = a; i <= b; i++) r.push(i);
  return r;
}

/** Background colour for a heat-map cell: white (lo) to deep blue (hi); text colour to stay readable. */
export function heatColor(v: number, lo: number, hi: number): { background: string; text: string } {
  const t = hi > lo ? Math.min(1, Math.max(0, (v - lo) / (hi - lo))) : 1;
  const mix = (a: number, b: number) => Math.round(a + (b - a) * t);
  return { background: `rgb(${mix(247, 8)}, ${mix(251, 48)}, ${mix(255, 107)})`, text: t > 0.55 ? '#fff' : '#111' };
}
