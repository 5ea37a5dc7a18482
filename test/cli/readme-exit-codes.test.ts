// The README's exit-code table lists every code the CLI exits with for a user-facing error class,
// and an unreachable PostgreSQL server is the documented 5 in one line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { CorruptDataError, InputError, NotFoundError, UnavailableError } from '../../src/util/errors.js';
import { cli } from './tiny-demo.js';

test('README documents the exit code of every error class', () => {
  const readme = readFileSync('README.md', 'utf8');
  const documented = new Set([...readme.matchAll(/^\| (\d) \| /gm)].map((m) => Number(m[1])));
  for (const e of [new InputError(''), new NotFoundError(''), new CorruptDataError(''), new UnavailableError('')]) {
    assert.ok(documented.has(e.exitCode), `${e.name}: exit ${e.exitCode} is not in the README's table`);
  }
  assert.ok(documented.has(1), 'exit 1 (an unexpected error)');
});

test('a PostgreSQL server that refuses the connection: exit 5, one line', () => {
  const r = cli(['search', 'demo', '--store', 'postgresql://127.0.0.1:1/db', '--text', 'w1'], { timeout: 20_000 });
  assert.equal(r.status, 5, r.stderr);
  assert.match(r.stderr, /^cmhash: cannot connect to PostgreSQL at postgresql:\/\/127\.0\.0\.1:1\/db: .*\n$/);
  assert.equal(r.stderr.split('\n').length, 2);
});
