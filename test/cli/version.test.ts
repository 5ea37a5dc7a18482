// Packaging seen from the command line: `cmhash --version` / `-V` print package.json's version, and
// `bench serve` without its dev dependency autocannon stops at once with one line saying how to get it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as nodeModule from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const BIN = resolve('bin/cmhash.js');

test('--version and -V print the version in package.json and exit 0', () => {
  const { version } = JSON.parse(readFileSync(resolve('package.json'), 'utf8')) as { version: string };
  assert.match(version, /^\d+\.\d+\.\d+/);
  for (const flag of ['--version', '-V']) {
    const r = spawnSync(process.execPath, [BIN, flag], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `${version}\n`, flag);
    assert.equal(r.stderr, '');
  }
  const help = spawnSync(process.execPath, [BIN, '--help'], { encoding: 'utf8', timeout: 30_000 });
  assert.match(help.stdout, /-V, --version/);
});

test('bench serve without autocannon: one line saying how to install it, exit 1, no work done', { skip: !('register' in nodeModule) && 'needs module.register (Node ≥ 20.6)' }, () => {
  // A resolve hook makes `autocannon` resolve from an empty folder, as if it were not installed.
  const dir = mkdtempSync(join(tmpdir(), 'cmhash-no-autocannon-'));
  try {
    writeFileSync(join(dir, 'hooks.mjs'), `export async function resolve(specifier, context, next) {
  return next(specifier, specifier === 'autocannon' ? { ...context, parentURL: import.meta.url } : context);
}\n`);
    writeFileSync(join(dir, 'register.mjs'), `import { register } from 'node:module';\nregister('./hooks.mjs', import.meta.url);\n`);
    const r = spawnSync(process.execPath, ['--import', pathToFileURL(join(dir, 'register.mjs')).href, BIN, 'bench', 'serve', '--duration', '1'], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 1, r.stderr);
    assert.equal(r.stdout, '', 'stops before generating codes');
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /^cmhash: bench serve needs .*autocannon.*npm install --no-save autocannon/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
