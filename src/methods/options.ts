// Method options as data: each method declares a schema (type, default, range, one-line doc), and
// one checker refuses what a method does not have, through the library and the CLI alike. The CLI
// builds its flags from the same schemas, so help text and validation cannot drift apart.
import { InputError } from '../util/errors.js';

export type OptionType = 'integer' | 'number' | 'boolean' | 'enum' | 'numbers' | 'hook';

export interface OptionSpec {
  type: OptionType;
  /** One line: what the option does (and its unit). */
  doc: string;
  /** The value the method uses when the option is absent (documentation; the method applies it). */
  default?: number | string | boolean | readonly number[];
  /** Why the default has no fixed value (e.g. "round(epochs·2/15)"). */
  defaultText?: string;
  min?: number;
  max?: number;
  /** Exclusive upper bound (for fractions in [0, 1)). */
  below?: number;
  /** Allowed values of an enum. */
  values?: readonly string[];
  /** Required length of a 'numbers' list. */
  length?: number;
  /** CLI flag name when it is not the kebab-case of the option name. */
  flag?: string;
  /** 'model': fixed when the model is built (architecture); 'train' (default): read by fit()/update(). */
  at?: 'model' | 'train';
  /** Values `--tune` tries for this option (methods/tune.ts); absent = not searched. */
  tune?: readonly (number | string | boolean)[];
  /** 'continual': the option acts only in increments, so a single fit (`train --tune`) does not search it. */
  tuneIn?: 'continual';
}

export type OptionSchema = Readonly<Record<string, OptionSpec>>;

/**
 * Options every method's fit()/update() takes (TrainOptions). Not part of a method's schema: the
 * runner and CLI set them for every method.
 */
export const COMMON_TRAIN_KEYS: readonly string[] = ['bits', 'epochs', 'batchSize', 'learningRate', 'seed', 'threads', 'validation', 'patience', 'onProgress'];

/** The CLI flag of an option: its `flag`, or the kebab-case of its name (alphaReg → alpha-reg). */
export function flagOf(name: string, spec: OptionSpec): string {
  return spec.flag ?? name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** "gamma (number ≥ 0, default 1): weight of …" — one line per option for help and errors. */
export function describeOption(name: string, spec: OptionSpec): string {
  const range: string[] = [];
  if (spec.type === 'enum') range.push(spec.values!.join(' | '));
  else range.push(spec.type === 'numbers' ? `${spec.length ?? ''} numbers` : spec.type);
  if (spec.min !== undefined) range.push(`≥ ${spec.min}`);
  if (spec.max !== undefined) range.push(`≤ ${spec.max}`);
  if (spec.below !== undefined) range.push(`< ${spec.below}`);
  const def = spec.defaultText ?? (spec.default !== undefined ? String(spec.default) : undefined);
  return `${name} (${range.join(', ')}${def !== undefined ? `, default ${def}` : ''}): ${spec.doc}`;
}

function checkValue(method: string, name: string, spec: OptionSpec, v: unknown): void {
  const bad = (expected: string) => new InputError(`${method}: option ${name} must be ${expected}, got ${JSON.stringify(v)}`);
  const checkRange = (x: number) => {
    if (spec.min !== undefined && x < spec.min) throw bad(`≥ ${spec.min}`);
    if (spec.max !== undefined && x > spec.max) throw bad(`≤ ${spec.max}`);
    if (spec.below !== undefined && x >= spec.below) throw bad(`< ${spec.below}`);
  };
  switch (spec.type) {
    case 'integer': if (typeof v !== 'number' || !Number.isInteger(v)) throw bad('an integer'); checkRange(v); return;
    case 'number': if (typeof v !== 'number' || !Number.isFinite(v)) throw bad('a finite number'); checkRange(v); return;
    case 'boolean': if (typeof v !== 'boolean') throw bad('true or false'); return;
    case 'enum': if (typeof v !== 'string' || !spec.values!.includes(v)) throw bad(`one of ${spec.values!.join(', ')}`); return;
    case 'numbers':
      if (!Array.isArray(v) || v.some((x) => typeof x !== 'number' || !Number.isFinite(x))) throw bad('a list of numbers');
      if (spec.length !== undefined && v.length !== spec.length) throw bad(`${spec.length} numbers`);
      v.forEach((x: number) => checkRange(x));
      return;
    case 'hook': return; // internal (a callback or an array one method hands another); typed by TypeScript
  }
}

/**
 * Checks `options` against `schema` (plus `allowed` names such as COMMON_TRAIN_KEYS): an unknown
 * name is an InputError that names it and lists the method's options; a value of the wrong type or
 * out of range names the option and the expected range; with `phase` 'train' (fit/update), an option
 * fixed at model creation is refused. Undefined values count as absent.
 */
export function checkOptions(method: string, schema: OptionSchema, options: object, allowed: readonly string[] = [], phase?: 'train'): void {
  for (const [name, v] of Object.entries(options)) {
    if (v === undefined) continue;
    const spec = schema[name];
    if (spec && phase === 'train' && spec.at === 'model') {
      throw new InputError(`${method}: option ${name} is fixed when the model is built: give it when creating the model, not to fit() or update()`);
    }
    if (!spec) {
      if (allowed.includes(name)) continue;
      const own = Object.keys(schema).filter((k) => schema[k]!.type !== 'hook');
      throw new InputError(`${method} has no option "${name}" (its options: ${own.join(', ') || 'none'}${allowed.length ? `; and ${allowed.filter((k) => k !== 'onProgress' && k !== 'validation').join(', ')}` : ''})`);
    }
    checkValue(method, name, spec, v);
  }
}

/** The entries of `options` whose schema says they are read at `at` time (model or train). */
export function pickOptions(schema: OptionSchema, options: object, at: 'model' | 'train'): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, v] of Object.entries(options)) {
    const spec = schema[name];
    if (spec && (spec.at ?? 'train') === at && v !== undefined) out[name] = v;
  }
  return out;
}
