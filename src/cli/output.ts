// Output discipline for every command: with --json, stdout carries only JSON (one object, or one
// object per line for benchmarks) and human text goes to stderr or nowhere.
import { SingleBar, Presets } from 'cli-progress';

export interface OutputOptions { json?: boolean; quiet?: boolean }

export class Output {
  constructor(readonly json: boolean, readonly quiet = false) {}

  /** One machine-readable record (JSON mode) — a JSON line on stdout. */
  record(obj: unknown): void { if (this.json) process.stdout.write(JSON.stringify(obj) + '\n'); }

  /** Human text: stdout normally, stderr in JSON mode (so stdout stays parseable). */
  text(line: string): void {
    if (this.quiet) return;
    (this.json ? process.stderr : process.stdout).write(line + '\n');
  }

  /** Prints a table of rows (human mode only). */
  table(rows: Record<string, unknown>[]): void {
    if (this.json || this.quiet || rows.length === 0) return;
    const cols = Object.keys(rows[0]!);
    const cell = (v: unknown) => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(4)) : String(v ?? ''));
    const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
    const line = (vals: string[]) => vals.map((v, i) => v.padStart(width[i]!)).join('  ');
    this.text(line(cols));
    this.text(width.map((w) => '-'.repeat(w)).join('  '));
    for (const r of rows) this.text(line(cols.map((c) => cell(r[c]))));
  }

  /** A progress bar on stderr (off in JSON/quiet mode or when stderr is not a terminal). */
  progress(total: number, label: string): Progress {
    if (this.json || this.quiet || !process.stderr.isTTY) return new Progress(null);
    const bar = new SingleBar({ format: `${label} [{bar}] {value}/{total} {status}`, stream: process.stderr, hideCursor: true }, Presets.shades_classic);
    bar.start(total, 0, { status: '' });
    return new Progress(bar);
  }
}

export class Progress {
  constructor(private bar: SingleBar | null) {}
  update(value: number, status = ''): void { this.bar?.update(value, { status }); }
  setTotal(total: number): void { this.bar?.setTotal(total); }
  stop(): void { this.bar?.stop(); }
}
