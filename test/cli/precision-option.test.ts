// --precision on train and continual: an unknown value, or bf16 on a backend without the bf16
// kernel (the portable one here), is refused with exit 2 before any data is loaded or trained.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

const BIN = resolve('bin/cmhash.js');
const run = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...env } });

test('train/continual --precision: bad value and unavailable bf16 are clear errors (exit 2)', () => {
  const train = ['train', '--method', 'dcmh', '--data', 'synthetic:200:4', '--bits', '16', '--epochs', '1'];
  const cont = ['continual', '--method', 'ccmh-gam', '--data', 'synthetic:200:4', '--sessions', '2+2', '--bits', '16'];
  for (const base of [train, cont]) {
    const bad = run([...base, '--precision', 'fp16']);
    assert.equal(bad.status, 2, bad.stderr);
    assert.match(bad.stderr, /--precision must be fp32 or bf16/);
    const js = run([...base, '--precision', 'bf16'], { CMHASH_BACKEND: 'js' });
    assert.equal(js.status, 2, js.stderr);
    assert.match(js.stderr, /--precision bf16: the js backend has no bf16 kernel/);
  }
});
