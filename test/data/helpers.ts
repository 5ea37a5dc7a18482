import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { repoRoot } from '../../src/data/presets/common.js';

/** /work/shared/data (../shared/data from the repo root), or null when absent. */
export const SHARED = resolve(repoRoot(), '..', 'shared', 'data');
export const hasShared = (sub: string) => existsSync(join(SHARED, sub));

export function tempDir(): { dir: string; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'cmhash-data-'));
  return { dir, done: () => rmSync(dir, { recursive: true, force: true }) };
}

export function assertClose(a: ArrayLike<number>, b: ArrayLike<number>, tol = 0): void {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  for (let i = 0; i < a.length; i++) if (Math.abs(a[i]! - b[i]!) > tol) throw new Error(`index ${i}: ${a[i]} vs ${b[i]}`);
}
