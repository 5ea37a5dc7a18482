// Helpers of the CLI tests: run bin/cmhash.js in a child process, and build a tiny demo collection
// (300 synthetic items, 16-bit codes; under a second) for commands that need one.
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

export const BIN = resolve('bin/cmhash.js');

export interface CliResult { status: number | null; stdout: string; stderr: string }

export function cli(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeout?: number } = {}): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: opts.timeout ?? 60_000, cwd: opts.cwd, env: opts.env ?? process.env });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Writes a tiny demo collection into `dir` (which must not hold anything else). */
export function tinyDemo(dir: string): void {
  const r = cli(['demo', '--no-serve', '--json', '--n', '300', '--epochs', '1', '--hidden', '8', '--bits', '16', '--dir', dir]);
  if (r.status !== 0) throw new Error(`demo failed (${r.status}): ${r.stderr}`);
}
