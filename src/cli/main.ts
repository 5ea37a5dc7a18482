// The `cmhash` command. Each command lives in its own file under commands/ and exports `register`.
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { CmhashError } from '../util/errors.js';
import { oneLineUsageErrors } from './usage-errors.js';

/** cmhash's version, read from its package.json at run time (this file is dist/src/cli/main.js). */
export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { name?: string; version?: string };
  if (pkg.name !== 'cmhash' || typeof pkg.version !== 'string') throw new Error('cmhash: package.json next to the program is not cmhash\'s');
  return pkg.version;
}

/** Every command: where it hangs and its module, loaded only when needed (see buildProgram). */
const COMMANDS: { parent: 'program' | 'bench'; name: string; load: () => Promise<{ register(c: Command): void }> }[] = [
  { parent: 'program', name: 'doctor', load: () => import('./commands/doctor.js') },
  { parent: 'bench', name: 'gemm', load: () => import('./commands/bench-gemm.js') },
  { parent: 'bench', name: 'vector', load: () => import('./commands/bench-vector.js') },
  { parent: 'bench', name: 'search', load: () => import('./commands/bench-search.js') },
  { parent: 'bench', name: 'eval', load: () => import('./commands/bench-eval.js') },
  { parent: 'program', name: 'data', load: () => import('./commands/data.js') },
  { parent: 'program', name: 'train', load: () => import('./commands/train.js') },
  { parent: 'program', name: 'eval', load: () => import('./commands/eval.js') },
  { parent: 'program', name: 'continual', load: () => import('./commands/continual.js') },
  { parent: 'bench', name: 'train', load: () => import('./commands/bench-train.js') },
  { parent: 'program', name: 'demo', load: () => import('./commands/demo.js') },
  { parent: 'program', name: 'serve', load: () => import('./commands/serve.js') },
  { parent: 'program', name: 'search', load: () => import('./commands/search.js') },
  { parent: 'program', name: 'encode', load: () => import('./commands/encode.js') },
  { parent: 'program', name: 'add', load: () => import('./commands/add.js') },
  { parent: 'program', name: 'remove', load: () => import('./commands/remove.js') },
  { parent: 'program', name: 'compact', load: () => import('./commands/compact.js') },
  { parent: 'program', name: 'update', load: () => import('./commands/update.js') },
  { parent: 'program', name: 'export', load: () => import('./commands/export.js') },
  { parent: 'bench', name: 'serve', load: () => import('./commands/bench-serve.js') },
  { parent: 'bench', name: 'serve-train', load: () => import('./commands/bench-serve-train.js') },
  { parent: 'bench', name: 'quality', load: () => import('./commands/bench-quality.js') },
  { parent: 'bench', name: 'store', load: () => import('./commands/bench-store.js') },
  { parent: 'bench', name: 'extract', load: () => import('./commands/bench-extract.js') },
  { parent: 'bench', name: 'concepts', load: () => import('./commands/bench-concepts.js') },
];

/**
 * The program with the commands `argv` can reach: only the named command's module is imported
 * (the service's, image and HDF5 libraries take ~0.7 s to load, a search needs none of them);
 * help, --version or an unknown name load them all, so help lists every command.
 */
export async function buildProgram(argv: readonly string[] = []): Promise<Command> {
  const program = new Command('cmhash')
    .description('Cross-modal retrieval with learned binary codes that keeps learning')
    .version(packageVersion(), '-V, --version', 'print the version of cmhash')
    .option('--debug', 'print stack traces on error')
    .exitOverride();
  const bench = program.command('bench').description('benchmarks (each prints a table, or JSON lines with --json)');
  const words = argv.slice(2).filter((a) => !a.startsWith('-'));
  const wants = (parent: 'program' | 'bench', name: string) => {
    const top = COMMANDS.some((c) => c.parent === 'program' && c.name === words[0]);
    if (top) return parent === 'program' && name === words[0];
    if (words[0] === 'bench' && COMMANDS.some((c) => c.parent === 'bench' && c.name === words[1])) return parent === 'bench' && name === words[1];
    if (words[0] === 'bench') return parent === 'bench';
    return true;
  };
  const chosen = COMMANDS.filter((c) => wants(c.parent, c.name));
  const modules = await Promise.all(chosen.map((c) => c.load()));
  chosen.forEach((c, i) => modules[i]!.register(c.parent === 'bench' ? bench : program));
  oneLineUsageErrors(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  // A reader that stops early (`cmhash … --json | head`) closes the pipe: later output is dropped
  // and the command finishes its work (a long run still writes its --out files; the exit status is
  // the command's own), instead of crashing on an unhandled EPIPE.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => { if (e.code !== 'EPIPE') throw e; });
  const program = await buildProgram(argv);
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) process.exit(e.exitCode === 0 ? 0 : 2);
    const debug = argv.includes('--debug');
    const err = e as Error;
    console.error(`cmhash: ${debug ? err.stack : err.message}`);
    process.exit(e instanceof CmhashError ? e.exitCode : 1);
  }
}
