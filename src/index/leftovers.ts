// Files a store write creates carry the writing process's id in their name, so that after a crash
// the files nobody refers to can be told apart from files another process is writing right now:
// an unreferenced file whose writer is dead (or is this process, outside any write) is garbage —
// the transaction that would have referred to it never committed. Files another live process is
// writing are left alone (it commits or dies; a later open sweeps them then).
import { existsSync, readFileSync, readdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';

let counter = 0;

/** Files this process is writing inside an open store transaction (never swept). */
export const inFlight = new Set<string>();

/** A fresh file name `<stem>-p<pid>-<unique>.<ext>` (unique per process and per call). */
export function ownedName(stem: string, ext: string): string {
  return `${stem}-p${process.pid}-${Date.now().toString(36)}${(counter++).toString(36)}.${ext}`;
}

/** The writer's pid in a file name: owned names, older segment names, atomic-write temp files. */
export function writerPid(name: string): number | null {
  const m = /-p(\d+)-[0-9a-z]+\.[a-z]+$/.exec(name)        // ownedName
    ?? /^v\d+-[0-9a-z]+-(\d+)-[0-9a-z]+\.seg$/.exec(name)  // segments of store format 1
    ?? /\.(\d+)\.\d+\.tmp$/.exec(name);                     // writeFileAtomic temp files
  return m ? Number(m[1]) : null;
}

export function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try { process.kill(pid, 0); } catch (e) { return (e as NodeJS.ErrnoException).code === 'EPERM'; }
  return !zombie(pid);
}

/** A process that has died but not been reaped (its parent gone or not waiting) is no writer (Linux). */
function zombie(pid: number): boolean {
  if (process.platform !== 'linux') return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return /^[ZX]$/.test(stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3));
  } catch { return false; }
}

/**
 * Deletes the files in `dir` with extension `ext` (and temp files) that `referenced` does not hold
 * and whose writer is gone; returns their names. Files without a writer id are left alone.
 */
export function sweepFolder(dir: string, ext: string, referenced: ReadonlySet<string>): string[] {
  if (!existsSync(dir)) return [];
  const removed: string[] = [];
  for (const f of readdirSync(dir)) {
    if (!(f.endsWith(`.${ext}`) || f.endsWith('.tmp')) || referenced.has(f)) continue;
    const path = join(dir, f);
    if (inFlight.has(path)) continue;
    const pid = writerPid(f);
    if (pid === null || (pid !== process.pid && processAlive(pid))) continue;
    try { unlinkSync(path); removed.push(f); } catch { /* gone already */ }
  }
  return removed;
}
