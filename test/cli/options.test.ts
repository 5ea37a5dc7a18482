import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InputError } from '../../src/util/errors.js';
import { intOption, optionalInt, optionalNumber } from '../../src/cli/options.js';

test('numeric CLI options: ranges, absence, and one error shape naming the option', () => {
  assert.equal(optionalNumber(undefined, 'replay', 0), undefined);
  assert.equal(optionalNumber('0.5', 'image-shrink', 0, 1), 0.5);
  assert.equal(optionalNumber('3', 'replay', 0), 3);
  for (const [v, min, max, msg] of [['abc', 0, Infinity, /--x: expected a number ≥ 0, got abc/], ['', 0, Infinity, /got $/], ['1.5', 0, 1, /from 0 to 1, got 1.5/], ['-1', 0, Infinity, /≥ 0, got -1/], ['Infinity', 0, Infinity, /got Infinity/]] as const) {
    assert.throws(() => optionalNumber(v, 'x', min, max), (e: Error) => e instanceof InputError && msg.test(e.message));
  }
  assert.equal(intOption('7', 'k', 1, 10), 7);
  assert.equal(optionalInt(undefined, 'k', 1), undefined);
  assert.throws(() => intOption('2.5', 'k', 1), /--k: expected an integer ≥ 1, got 2.5/);
});
