// Where a fit()/update() spends its time: wall and process CPU seconds per named phase, reported as
// lastPhaseSeconds (`phase` wall seconds, `phase_cpu` CPU seconds), which the continual runner keeps
// in report.json detail.per_session[t].phase_seconds (DLCMH, CCMH-GAM). Process CPU is user + system
// of every thread of the process.

/** Process CPU seconds (user + system) so far. */
export function cpuSeconds(): number { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; }

export class PhaseClock {
  private readonly wall = new Map<string, number>();
  private readonly cpu = new Map<string, number>();

  /** Runs fn and adds its wall and CPU seconds to `phase` (phases may be timed many times). */
  time<T>(phase: string, fn: () => T): T {
    const stop = this.start(phase);
    try { return fn(); } finally { stop(); }
  }

  /** Starts timing `phase`; the returned function stops it and adds the seconds (for a stretch of code, not one callback). */
  start(phase: string): () => void {
    const w0 = performance.now(), c0 = cpuSeconds();
    return () => this.add(phase, (performance.now() - w0) / 1000, cpuSeconds() - c0);
  }

  add(phase: string, wallSeconds: number, cpuSecs: number): void {
    this.wall.set(phase, (this.wall.get(phase) ?? 0) + wallSeconds);
    this.cpu.set(phase, (this.cpu.get(phase) ?? 0) + cpuSecs);
  }

  /** { phase: wall seconds, …, phase_cpu: CPU seconds, … } in the order phases were first timed. */
  report(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [k, v] of this.wall) out[k] = v;
    for (const [k, v] of this.cpu) out[`${k}_cpu`] = v;
    return out;
  }
}
