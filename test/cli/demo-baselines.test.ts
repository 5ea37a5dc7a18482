// `cmhash demo --method linear|cca`: the baselines are in demo's method list, so the demo must build
// their collections (it used to pass them a hidden width they do not take); --hidden is refused for them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const BIN = resolve('bin/cmhash.js');

test('demo --method linear and cca build a collection; --hidden with a baseline is a clear error', () => {
  const root = mkdtempSync(join(tmpdir(), 'cmhash-demo-baselines-'));
  try {
    for (const method of ['linear', 'cca']) {
      const dir = join(root, method);
      const r = spawnSync(process.execPath, [BIN, 'demo', '--method', method, '--no-serve', '--json', '--dir', dir], { encoding: 'utf8', timeout: 120_000 });
      assert.equal(r.status, 0, r.stderr);
      const summary = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
      assert.ok(summary.collection.items > 0, JSON.stringify(summary).slice(0, 300));
      assert.ok(existsSync(join(dir, 'collection.json')));
    }
    const bad = spawnSync(process.execPath, [BIN, 'demo', '--method', 'linear', '--hidden', '64', '--no-serve', '--dir', join(root, 'x')], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--hidden: linear has no hidden layer \(its options: ridge, center\)/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
