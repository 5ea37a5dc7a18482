// The `cmhash` command. Each command lives in its own file under commands/ and exports `register`.
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { CmhashError } from '../util/errors.js';
import { register as doctor } from './commands/doctor.js';
import { register as benchGemm } from './commands/bench-gemm.js';
import { register as benchVector } from './commands/bench-vector.js';
import { register as dataCmd } from './commands/data.js';
import { register as train } from './commands/train.js';
import { register as evalCmd } from './commands/eval.js';
import { register as continual } from './commands/continual.js';
import { register as benchTrain } from './commands/bench-train.js';
import { register as demo } from './commands/demo.js';
import { register as serve } from './commands/serve.js';
import { register as search } from './commands/search.js';
import { register as encode } from './commands/encode.js';
import { register as add } from './commands/add.js';
import { register as remove } from './commands/remove.js';
import { register as compact } from './commands/compact.js';
import { register as update } from './commands/update.js';
import { register as exportCmd } from './commands/export.js';
import { register as benchServe } from './commands/bench-serve.js';
import { register as benchSearch } from './commands/bench-search.js';
import { register as benchEval } from './commands/bench-eval.js';
import { register as benchQuality } from './commands/bench-quality.js';

/** cmhash's version, read from its package.json at run time (this file is dist/src/cli/main.js). */
export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { name?: string; version?: string };
  if (pkg.name !== 'cmhash' || typeof pkg.version !== 'string') throw new Error('cmhash: package.json next to the program is not cmhash\'s');
  return pkg.version;
}

export function buildProgram(): Command {
  const program = new Command('cmhash')
    .description('Cross-modal retrieval with learned binary codes that keeps learning')
    .version(packageVersion(), '-V, --version', 'print the version of cmhash')
    .option('--debug', 'print stack traces on error')
    .showHelpAfterError()
    .exitOverride();
  const bench = program.command('bench').description('benchmarks (each prints a table, or JSON lines with --json)');
  doctor(program);
  benchGemm(bench);
  benchVector(bench);
  benchSearch(bench);
  benchEval(bench);
  dataCmd(program);
  train(program);
  evalCmd(program);
  continual(program);
  benchTrain(bench);
  demo(program);
  serve(program);
  search(program);
  encode(program);
  add(program);
  remove(program);
  compact(program);
  update(program);
  exportCmd(program);
  benchServe(bench);
  benchQuality(bench);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  // A reader that stops early (`cmhash … --json | head`) closes the pipe: later output is dropped
  // and the command finishes its work (a long run still writes its --out files; the exit status is
  // the command's own), instead of crashing on an unhandled EPIPE.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => { if (e.code !== 'EPIPE') throw e; });
  const program = buildProgram();
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
