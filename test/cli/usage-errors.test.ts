// Usage errors are one line like every other error, naming the command's --help, with exit 2:
// the whole help is printed only when asked for.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cli } from './tiny-demo.js';
import { usageLine } from '../../src/cli/usage-errors.js';

test('an unknown option: one line with the nearest option and the command\'s --help, exit 2', () => {
  const r = cli(['train', '--gama', '3']);
  assert.equal(r.stderr, "cmhash: unknown option '--gama' (did you mean --gamma?); see cmhash train --help\n");
  assert.equal(r.stdout, '');
  assert.equal(r.status, 2);
  // reported before the required options it may be a typo of
  const typo = cli(['train', '--mehtod', 'dcmh', '--data', 'wikipedia']);
  assert.equal(typo.stderr, "cmhash: unknown option '--mehtod' (did you mean --method?); see cmhash train --help\n");
  assert.equal(typo.status, 2);
});

test('other usage errors of commands and subcommands: one line each, exit 2', () => {
  for (const [args, line] of [
    [['serch'], "cmhash: unknown command 'serch' (did you mean search?); see cmhash --help"],
    [['bench', 'gemm', '--sizez', '3'], "cmhash: unknown option '--sizez'; see cmhash bench gemm --help"],
    [['train', '--data', 'wikipedia'], "cmhash: required option '--method <name>' not specified; see cmhash train --help"],
    [['search'], "cmhash: missing required argument 'collection'; see cmhash search --help"],
    [['search', 'a', '--k'], "cmhash: option '--k <n>' argument missing; see cmhash search --help"],
  ] as const) {
    const r = cli([...args]);
    assert.equal(r.stderr, `${line}\n`, args.join(' '));
    assert.equal(r.status, 2, args.join(' '));
  }
});

test('--help still prints the help on stdout, exit 0', () => {
  const r = cli(['train', '--help']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^Usage: cmhash train \[options\]/);
  assert.match(r.stdout, /--gamma/);
  assert.equal(r.stderr, '');
});

test('usageLine: commander\'s message in one line', () => {
  assert.equal(usageLine("error: unknown option '--gama'\n(Did you mean --gamma?)\n"), "unknown option '--gama' (did you mean --gamma?)");
  assert.equal(usageLine("error: too many arguments for 'search'. Expected 1 argument but got 2.\n"), "too many arguments for 'search'. Expected 1 argument but got 2");
});
