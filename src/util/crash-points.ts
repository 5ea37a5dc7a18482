// Named crash points for the all-or-nothing tests. Every step of a stored write (each file
// created, synced or renamed, each transaction about to commit or just committed) calls
// crashPoint(name). Normally that does nothing. Under test, CMHASH_CRASH_AT=N makes the N-th point
// reached kill the process with SIGKILL — a real crash, no cleanup handlers — so a test can crash a
// write at every point in turn, not a sample; CMHASH_CRASH_TRACE=<file> appends each point's
// name to that file, so the test knows how many points a write has.
import { appendFileSync } from 'node:fs';

const at = Number(process.env.CMHASH_CRASH_AT ?? 0);
const trace = process.env.CMHASH_CRASH_TRACE;
let reached = 0;

/**
 * Whether crash points are armed in this process (CMHASH_CRASH_AT). A writer whose helper process
 * (the service's training process) was killed at one of them then kills itself too, so the test
 * sees the whole writer crash, as a machine failure would.
 */
export function crashPointsArmed(): boolean {
  return at !== 0;
}

export function crashPoint(name: string): void {
  if (at === 0 && !trace) return;
  reached++;
  if (trace) appendFileSync(trace, `${reached} ${name}\n`);
  if (reached === at) process.kill(process.pid, 'SIGKILL');
}
