// Parsing of numeric command-line options: one message shape for every command.
import { InputError } from '../util/errors.js';

/** An integer option in [min, max]; `name` is the option without dashes. */
export function intOption(v: string, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `from ${min} to ${max}`;
    throw new InputError(`--${name}: expected an integer ${range}, got ${v}`);
  }
  return n;
}

/** The same for an option that may be absent (undefined stays undefined). */
export function optionalInt(v: string | undefined, name: string, min: number, max?: number): number | undefined {
  return v === undefined ? undefined : intOption(v, name, min, max);
}

/** A finite number option in [min, max] that may be absent. */
export function optionalNumber(v: string | undefined, name: string, min: number, max = Infinity): number | undefined {
  if (v === undefined) return undefined;
  const x = Number(v);
  if (v.trim() === '' || !Number.isFinite(x) || x < min || x > max) {
    const range = max === Infinity ? `≥ ${min}` : `from ${min} to ${max}`;
    throw new InputError(`--${name}: expected a number ${range}, got ${v}`);
  }
  return x;
}
