// `--epochs` of a session trained into a collection has the HTTP API's bound: `update` (and `demo`)
// refuse more in one line instead of training for days.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, tinyDemo } from './tiny-demo.js';
import { schemas } from '../../src/server/schemas.js';
import { DEFAULT_LIMITS } from '../../src/server/limits.js';
import { MAX_SESSION_EPOCHS } from '../../src/product/session-limits.js';

let root = '';
let demo = '';
before(() => { root = mkdtempSync(join(tmpdir(), 'cmhash-session-epochs-')); demo = join(root, 'demo'); tinyDemo(demo); });
after(() => { if (root) rmSync(root, { recursive: true, force: true }); });

test('the CLI bound is the HTTP API\'s', () => {
  assert.equal(MAX_SESSION_EPOCHS, schemas(DEFAULT_LIMITS).sessionBody.properties.epochs.maximum);
});

test('update --epochs beyond the bound: exit 2 at once; within it the session is applied', () => {
  const items = join(root, 'session.json');
  const row = (d: number, k: number) => Array.from({ length: d }, (_, j) => ((j * 7 + k) % 10) / 10);
  writeFileSync(items, JSON.stringify([0, 1, 2].map((k) => ({ id: `s-${k}`, image: row(128, k), text: row(256, k), labels: ['class0'] }))));
  const want = `cmhash: --epochs: expected an integer from 1 to ${MAX_SESSION_EPOCHS} (the most a session may train, as in the HTTP API), got `;
  for (const bad of ['100000000', String(MAX_SESSION_EPOCHS + 1), '0']) {
    const r = cli(['update', demo, '--items', items, '--epochs', bad], { timeout: 20_000 });
    assert.equal(r.stderr, `${want}${bad}\n`);
    assert.equal(r.status, 2);
  }
  const ok = cli(['update', demo, '--items', items, '--epochs', '1', '--json']);
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal(JSON.parse(ok.stdout).items, 3);
});

test('demo --epochs beyond the bound: exit 2 before training', () => {
  const r = cli(['demo', '--no-serve', '--epochs', String(MAX_SESSION_EPOCHS + 1), '--dir', join(root, 'demo2')], { timeout: 20_000 });
  assert.equal(r.stderr, `cmhash: --epochs: expected an integer from 1 to ${MAX_SESSION_EPOCHS} (the most a session may train, as in the HTTP API), got ${MAX_SESSION_EPOCHS + 1}\n`);
  assert.equal(r.status, 2);
});
