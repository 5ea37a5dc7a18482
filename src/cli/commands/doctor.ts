import type { Command } from 'commander';
import { cpus } from 'node:os';
import { getBackend, nativeError } from '../../tensor/backends.js';
import { Output } from '../output.js';

export function register(program: Command): void {
  program.command('doctor')
    .description('show the backend in use, CPU features, threads and versions')
    .option('--json', 'machine-readable output')
    .addHelpText('after', '\nExample:\n  cmhash doctor --json')
    .action((opts: { json?: boolean }) => {
      const out = new Output(!!opts.json);
      const b = getBackend();
      const info = {
        backend: b.name, variant: b.variant, threads: b.getThreads(), native_error: b.name === 'native' ? null : nativeError(),
        cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version,
      };
      out.record(info);
      for (const [k, v] of Object.entries(info)) out.text(`${k.padEnd(14)} ${v}`);
    });
}
