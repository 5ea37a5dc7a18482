// `cmhash bench store --backend postgresql` at tiny sizes (no server-side search): one JSON object
// with both backends' figures, the replica rows and the cross-replica write delay; no timing is
// asserted, only that every figure is measured. A bad --backend is a clear error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { localClusterUnavailable } from '../../src/index/pg/local-cluster.js';

const BIN = resolve('bin/cmhash.js');
const unavailable = localClusterUnavailable();

test('bench store --backend postgresql --json: both backends, 1 and 2 replicas, write visibility', { skip: unavailable ? `no local PostgreSQL: ${unavailable}` : false, timeout: 300_000 }, () => {
  const r = spawnSync(process.execPath, [BIN, 'bench', 'store', '--backend', 'postgresql', '--no-server-search', '--batches', '2', '--batch-size', '200',
    '--adds', '5', '--repeats', '1', '--hidden', '32', '--duration', '1', '--connections', '2', '--json'], { encoding: 'utf8', timeout: 280_000, env: { ...process.env, CMHASH_STORE: '' } });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 1, 'one JSON object');
  const x = JSON.parse(lines[0]!);
  assert.equal(x.bench, 'store-backends');
  for (const b of [x.embedded, x.postgresql]) {
    assert.equal(b.items, x.embedded.items);
    for (const f of ['batchItemsPerSec', 'singleAddMsMedian', 'openSearchMs', 'cliSearchMs']) assert.ok(Number.isFinite(b[f]) && b[f] > 0, `${f} = ${b[f]}`);
  }
  assert.deepEqual(x.replicas.map((row: { replicas: number }) => row.replicas), [0, 1, 2]);
  for (const row of x.replicas) { assert.ok(row.requests > 0); assert.equal(row.errors, 0); }
  assert.equal(x.visibility.samplesMs.length, 5);
  assert.equal(x.serverSearch, null);
  assert.ok(x.cores >= 1 && x.loadavgBefore.length === 3);
});

test('bench store --backend: an unknown backend is a clear error (exit 2)', () => {
  const r = spawnSync(process.execPath, [BIN, 'bench', 'store', '--backend', 'mysql'], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--backend.*sqlite, postgresql or both/);
});
