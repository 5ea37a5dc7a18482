// CLI flags for method options, built from the registry's schemas: one flag per option name across
// the given methods, help text per method, and a check that refuses a flag the chosen method does
// not have (exit 2, naming the flag, the method and the method's flags).
import type { Command } from 'commander';
import { InputError } from '../util/errors.js';
import { methodEntry } from '../methods/registry.js';
import { describeOption, flagOf, type OptionSpec } from '../methods/options.js';

/** Commander's attribute name of a flag (memory-size → memorySize). */
const attributeOf = (flag: string) => flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

function valueHint(spec: OptionSpec): string {
  switch (spec.type) {
    case 'integer': return '<n>';
    case 'number': return '<x>';
    case 'boolean': return '<true|false>';
    case 'enum': return '<name>';
    case 'numbers': return '<x,x,…>';
    default: return '<value>';
  }
}

/** Adds one flag per method option of `methods` (hooks excluded), and per-method help after the list. */
export function addMethodOptions(cmd: Command, methods: readonly string[]): Command {
  const flags = new Map<string, { spec: OptionSpec; owners: string[] }>();
  for (const m of methods) {
    for (const [name, spec] of Object.entries(methodEntry(m).options)) {
      if (spec.type === 'hook') continue;
      const f = flagOf(name, spec);
      const have = flags.get(f);
      if (have) have.owners.push(m); else flags.set(f, { spec, owners: [m] });
    }
  }
  for (const [f, { spec, owners }] of flags) {
    const who = owners.length === methods.length ? '' : `${owners.join(', ')}: `;
    // one flag, several methods: when their docs differ, each method's own line is below
    const same = owners.every((m) => Object.entries(methodEntry(m).options).some(([n, s]) => flagOf(n, s) === f && s.doc === spec.doc));
    cmd.option(`--${f} ${valueHint(spec)}`, `${who}${same ? spec.doc : 'see each method\'s options below'}`);
  }
  const sections = methods.map((m) => {
    const e = methodEntry(m);
    const lines = Object.entries(e.options).filter(([, s]) => s.type !== 'hook').map(([name, s]) => `    --${flagOf(name, s)}  ${describeOption(name, s)}`);
    return `  ${m} (${e.kind}; epochs ${e.defaults.epochs}, lr ${e.defaults.learningRate}):\n${lines.join('\n') || '    (none)'}`;
  });
  cmd.addHelpText('after', `\nMethod options (a flag the chosen method does not have is refused):\n${sections.join('\n')}`);
  return cmd;
}

function parseValue(flag: string, spec: OptionSpec, raw: string): unknown {
  const num = (s: string) => {
    const v = Number(s.trim());
    if (s.trim() === '' || !Number.isFinite(v)) throw new InputError(`--${flag}: expected a number, got "${s}"`);
    return v;
  };
  switch (spec.type) {
    case 'integer': case 'number': return num(raw);
    case 'boolean':
      if (raw === 'true') return true;
      if (raw === 'false') return false;
      throw new InputError(`--${flag}: expected true or false, got "${raw}"`);
    case 'numbers': return String(raw).split(',').map(num);
    default: return raw;
  }
}

/**
 * The method options the user gave as flags, as `method` names them, parsed and ready for
 * createHasher (which checks types and ranges). A flag of another method is an InputError.
 */
export function methodOptionsFromFlags(method: string, methods: readonly string[], given: Record<string, unknown>): Record<string, unknown> {
  const own = methodEntry(method).options;
  const ownFlags = new Map(Object.entries(own).filter(([, s]) => s.type !== 'hook').map(([name, s]) => [flagOf(name, s), name]));
  const out: Record<string, unknown> = {};
  const seen = new Set<string>();
  for (const m of methods) {
    for (const [name, spec] of Object.entries(methodEntry(m).options)) {
      if (spec.type === 'hook') continue;
      const f = flagOf(name, spec);
      if (seen.has(f)) continue;
      seen.add(f);
      const raw = given[attributeOf(f)];
      if (raw === undefined) continue;
      const mine = ownFlags.get(f);
      if (mine === undefined) {
        throw new InputError(`--${f} is not an option of ${method} (its options: ${[...ownFlags.keys()].map((k) => `--${k}`).join(', ') || 'none'})`);
      }
      out[mine] = parseValue(f, own[mine]!, String(raw));
    }
  }
  return out;
}
