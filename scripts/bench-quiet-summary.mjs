// The summary line of scripts/bench-quiet.sh: over the runs' /tmp/qst<label>.json records, how many
// met the serve-while-training bar (search p99 during the update ≤ 2× outside, ≤ 250 ms), the median
// ratio and the ranges; with per-run samples (`--samples …{run}…` in the bench arguments), the
// searches of each phase slower than twice that run's outside p99.
// Usage: node scripts/bench-quiet-summary.mjs "<bench args>" <label>...
import { existsSync, readFileSync } from 'node:fs';

const [benchArgs = '', ...labels] = process.argv.slice(2);
const samplesPattern = /--samples\s+(\S+)/.exec(benchArgs)?.[1] ?? null;
const runs = labels.map((label) => {
  try { return { label, j: JSON.parse(readFileSync(`/tmp/qst${label}.json`, 'utf8')) }; } catch { return null; }
}).filter(Boolean);
if (runs.length === 0) process.exit(0);

const ratios = runs.map((r) => r.j.p99_ratio).sort((a, b) => a - b);
const mid = ratios.length >> 1;
const median = ratios.length % 2 ? ratios[mid] : (ratios[mid - 1] + ratios[mid]) / 2;
const range = (f) => `${Math.min(...runs.map((r) => f(r.j)))}-${Math.max(...runs.map((r) => f(r.j)))}`;
const count = (f) => runs.filter((r) => f(r.j)).length;
let line = `summary: ${runs.length} runs, p99 during <= 2x outside in ${count((j) => j.p99_ratio <= 2)}` +
  ` (training part in ${count((j) => j.p99_ratio_training <= 2)}), <= 250 ms in ${count((j) => j.during.p99_ms <= 250)};` +
  ` median ratio ${median.toFixed(2)} (${ratios[0]}-${ratios.at(-1)}); p99 outside ${range((j) => j.outside.p99_ms)} ms,` +
  ` during ${range((j) => j.during.p99_ms)} ms, max during ${range((j) => j.during.max_ms)} ms; errors ${runs.reduce((s, r) => s + r.j.errors, 0)}`;

// per phase: searches slower than 2× the run's outside p99 (CSV: mode,start_s,latency_ms,class)
if (samplesPattern) {
  const slow = new Map(), all = new Map();
  for (const { label, j } of runs) {
    const file = samplesPattern.replaceAll('{run}', label);
    if (!existsSync(file)) continue;
    const limit = 2 * j.outside.p99_ms;
    for (const row of readFileSync(file, 'utf8').trim().split('\n').slice(1)) {
      const [, , ms, phase] = row.split(',');
      if (ms === '' || phase === 'outside') continue;
      all.set(phase, (all.get(phase) ?? 0) + 1);
      if (Number(ms) > limit) slow.set(phase, (slow.get(phase) ?? 0) + 1);
    }
  }
  if (all.size) line += '; slower than 2x outside p99: ' + [...all].map(([p, n]) => `${p} ${slow.get(p) ?? 0} of ${n}`).join(', ');
}
console.log(line);
