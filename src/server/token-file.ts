// The access-token file of `cmhash serve --token-file F`: one token per line, `read TOKEN` or
// `write TOKEN`; blank lines and `#` comments are skipped. Anything else stops the service before it
// listens (exit 2, naming file and line), so a typo never silently leaves a route open.
import { readFileSync } from 'node:fs';
import { InputError } from '../util/errors.js';
import type { AccessToken } from './access.js';

/** Shorter tokens are refused: they could be guessed. */
export const MIN_TOKEN_LENGTH = 16;

export function parseTokens(text: string, source: string): AccessToken[] {
  const tokens: AccessToken[] = [];
  const seen = new Set<string>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const where = `${source}:${i + 1}`;
    const m = /^(read|write)\s+(\S+)$/.exec(line);
    if (!m) throw new InputError(`${where}: expected "read TOKEN" or "write TOKEN" (blank lines and # comments are allowed), got ${JSON.stringify(line.slice(0, 40))}`);
    const scope = m[1] as AccessToken['scope'], token = m[2]!;
    if (token.length < MIN_TOKEN_LENGTH) throw new InputError(`${where}: the ${scope} token has ${token.length} characters; tokens need at least ${MIN_TOKEN_LENGTH} (e.g. openssl rand -hex 24)`);
    if (seen.has(token)) throw new InputError(`${where}: this token is already listed on an earlier line (give each token one scope)`);
    seen.add(token);
    tokens.push({ scope, token });
  });
  if (tokens.length === 0) throw new InputError(`${source}: no tokens (lines "read TOKEN" or "write TOKEN")`);
  return tokens;
}

export function readTokenFile(path: string): AccessToken[] {
  let text: string;
  try { text = readFileSync(path, 'utf8'); } catch (e) {
    throw new InputError(`token file ${path}: cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return parseTokens(text, path);
}
