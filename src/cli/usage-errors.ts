// Usage errors (an unknown option or command, a missing argument or value) in the one-line shape
// of every other error, `cmhash: unknown option '--gama' (did you mean --gamma?); see cmhash train
// --help`, instead of commander's message followed by the whole help. `--help` still prints it.
import type { Command, Option } from 'commander';

/** `cmhash bench gemm` for the command `gemm` under `bench`. */
function fullName(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** Commander's "error: unknown option '--gama'\n(Did you mean --gamma?)\n" → "unknown option '--gama' (did you mean --gamma?)". */
export function usageLine(message: string): string {
  return message.trim().replace(/^error: /, '').replace(/\s*\n\(Did you mean (.*)\?\)$/, ' (did you mean $1?)').replace(/\s*\n\s*/g, ' ').replace(/\.$/, '');
}

/** Applies to `program` and every command under it; call once all commands are registered. */
export function oneLineUsageErrors(program: Command): void {
  const required = new Map<Command, Option[]>();
  const visit = (cmd: Command): void => {
    cmd.configureOutput({ outputError: (str, write) => write(`${program.name()}: ${usageLine(str)}; see ${fullName(cmd)} --help\n`) });
    // Commander reports a missing required option before an unknown one, but the unknown one is
    // often the typo behind it (`--mehtod`): required options are checked after it, before the action.
    const mandatory = cmd.options.filter((opt) => opt.mandatory);
    for (const opt of mandatory) opt.mandatory = false;
    if (mandatory.length > 0) required.set(cmd, mandatory);
    cmd.commands.forEach(visit);
  };
  visit(program);
  program.hook('preAction', (_program, action) => {
    for (const opt of required.get(action) ?? []) {
      if (action.getOptionValue(opt.attributeName()) === undefined) action.error(`error: required option '${opt.flags}' not specified`, { code: 'commander.missingMandatoryOptionValue' });
    }
  });
}
