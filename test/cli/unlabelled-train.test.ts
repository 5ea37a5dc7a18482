// `train` on data where no item has a label: supervised methods are refused (exit 2, naming those
// that train without labels); unsupervised ones train with a warning on stderr that mAP is not measurable.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeNpy } from '../../src/data/npy.js';
import { cli } from './tiny-demo.js';

let root = '';

/** A folder of image.npy / text.npy / labels.npy with 60 items, 3 classes (all rows zero when !labelled). */
function npyFolder(name: string, labelled: boolean): string {
  const dir = join(root, name), n = 60, di = 8, dt = 6, c = 3;
  mkdirSync(dir);
  const labels = new Uint8Array(n * c);
  if (labelled) for (let i = 0; i < n; i++) labels[i * c + (i % c)] = 1;
  writeNpy(join(dir, 'image.npy'), { shape: [n, di], dtype: 'float32', data: Float32Array.from({ length: n * di }, (_, i) => Math.sin(i * 1.7)) });
  writeNpy(join(dir, 'text.npy'), { shape: [n, dt], dtype: 'float32', data: Float32Array.from({ length: n * dt }, (_, i) => Math.cos(i * 0.3)) });
  writeNpy(join(dir, 'labels.npy'), { shape: [n, c], dtype: 'uint8', data: labels });
  return dir;
}

before(() => { root = mkdtempSync(join(tmpdir(), 'cmhash-unlabelled-')); });
after(() => { if (root) rmSync(root, { recursive: true, force: true }); });

test('a supervised method (or baseline) on data without labels: exit 2, one line naming the methods that need none', () => {
  const data = npyFolder('unlabelled', false);
  const r = cli(['train', '--method', 'dcmh', '--data', data, '--bits', '16', '--epochs', '1']);
  assert.equal(r.stderr, 'cmhash: unlabelled: no item has a label, and dcmh and the linear baseline learn from labels; methods that train without labels: dbrc, cca (mAP still needs labels to be measured)\n');
  assert.equal(r.status, 2);
  assert.equal(r.stdout, '');
  const baseline = cli(['train', '--method', 'dbrc', '--baseline', 'linear', '--data', data, '--bits', '16', '--epochs', '1']);
  assert.match(baseline.stderr, /^cmhash: unlabelled: no item has a label, and the linear baseline learns from labels \(--baseline cca or none\)/);
  assert.equal(baseline.status, 2);
  // an unsupervised method trains, and says why its mAP is 0
  const cca = cli(['train', '--method', 'cca', '--data', data, '--bits', '16', '--json']);
  assert.equal(cca.status, 0, cca.stderr);
  assert.match(cca.stderr, /^cmhash: warning: unlabelled: no item has a label, so mAP cannot be measured/);
  assert.equal(JSON.parse(cca.stdout).method, 'cca');
});

test('labelled data: no warning', () => {
  const r = cli(['train', '--method', 'cca', '--data', npyFolder('labelled', true), '--bits', '16', '--json']);
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /warning/);
});
