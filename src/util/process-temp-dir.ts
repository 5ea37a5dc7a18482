// Temporary folders that belong to this process: named <prefix><pid>-XXXXXX, removed when the process
// exits (the main thread's 'exit': a worker thread's own 'exit' handler does not run when the process
// ends under it), and — for a process that was killed before it could — by the next process that
// makes one with the same prefix: a folder whose pid no longer runs is left over, so it is removed.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isMainThread } from 'node:worker_threads';

const removeAtExit = new Set<string>();
const swept = new Set<string>();
let hooked = false;

/** True while a process with this id runs (EPERM: it runs under another user). */
function running(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch (e) { return (e as NodeJS.ErrnoException).code === 'EPERM'; }
}

/** Removes `<prefix><pid>-*` folders in `root` whose process no longer runs; returns how many. */
export function sweepLeftoverDirs(prefix: string, root = tmpdir()): number {
  let removed = 0;
  let names: string[];
  try { names = readdirSync(root); } catch { return 0; }
  const pattern = new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(\\d+)-[^/]+$`);
  for (const name of names) {
    const m = pattern.exec(name);
    if (!m || Number(m[1]) === process.pid || running(Number(m[1]))) continue;
    try { rmSync(join(root, name), { recursive: true, force: true }); removed++; } catch { /* another sweeper got it, or not ours to remove */ }
  }
  return removed;
}

/**
 * A new folder `<root>/<prefix><pid>-XXXXXX`, removed at this process's exit. Prefer the main thread
 * (made in a worker thread, its exit hook may not run; the sweep of a later process then removes it).
 */
export function processTempDir(prefix: string, root = tmpdir()): string {
  if (!swept.has(prefix + root)) { swept.add(prefix + root); sweepLeftoverDirs(prefix, root); }
  const dir = mkdtempSync(join(root, `${prefix}${process.pid}-`));
  removeAtExit.add(dir);
  if (!hooked && isMainThread) {
    hooked = true;
    process.on('exit', () => { for (const d of removeAtExit) rmSync(d, { recursive: true, force: true }); });
  }
  return dir;
}

/** Removes a folder made by processTempDir now (and forgets it). */
export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  removeAtExit.delete(dir);
}
