// `eval --model` takes a collection folder as `encode --model` and `export` do (its current model's
// checkpoint); a folder that is no collection is refused in one line by both, not with a raw EISDIR.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, tinyDemo } from './tiny-demo.js';

let root = '';
before(() => { root = mkdtempSync(join(tmpdir(), 'cmhash-eval-coll-')); tinyDemo(join(root, 'demo')); });
after(() => { if (root) rmSync(root, { recursive: true, force: true }); });

test('eval --model <collection folder> evaluates the collection\'s current model', () => {
  const r = cli(['eval', '--model', join(root, 'demo'), '--data', 'synthetic:300', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 1);
  const rec = JSON.parse(lines[0]!);
  assert.equal(rec.method, 'ccmh-gam');
  assert.equal(rec.bits, 16);
  assert.ok(rec.map_all.i2t > 0 && rec.map_all.i2t <= 1);
});

test('eval / encode --model <a folder that is no collection>: one line, exit 2', () => {
  const plain = join(root, 'plain');
  mkdirSync(plain);
  const features = join(root, 'q.json');
  writeFileSync(features, '[1, 2]');
  for (const args of [['eval', '--model', plain, '--data', 'synthetic:300'], ['encode', '--model', plain, '--modality', 'image', '--features', features]]) {
    const r = cli(args);
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stderr, `cmhash: ${plain}: a folder but not a collection (collection.json missing); give a .ckpt file or a collection folder\n`);
  }
});
