// `cmhash bench vector` through bin/cmhash.js: JSON lines with the documented fields (measured,
// positive), a clear error on bad sizes, and a closed stdout (`| head`) ends the command quietly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { loadNativeAddon } from '../../src/tensor/backend-native.js';

const BIN = resolve('bin/cmhash.js');

test('bench vector --json prints one record per kernel and size', (t) => {
  if (!loadNativeAddon()) { t.skip('native addon not built'); return; }
  const r = spawnSync(process.execPath, [BIN, 'bench', 'vector', '--json', '--sizes', '1025,4099', '--reps', '2'], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  const expected = [1025, 4099].flatMap((n) => ['relu', 'relu_backward', 'dot_f64', 'dots_f64_x3', 'axpy'].map((k) => `${k}@${n}`));
  assert.deepEqual(rows.map((x) => `${x.name}@${x.n}`), expected);
  for (const x of rows) {
    for (const f of ['native_gbps', 'js_gbps', 'copy_gbps', 'speedup', 'ratio']) assert.ok(Number.isFinite(x[f]) && x[f] > 0, `${x.name} ${f} = ${x[f]}`);
    assert.ok(Math.abs(x.speedup - x.native_gbps / x.js_gbps) < 0.01 * x.speedup, `${x.name}: speedup is native / TS`);
  }
});

test('bench vector: a bad size is a clear error (exit 2)', () => {
  const r = spawnSync(process.execPath, [BIN, 'bench', 'vector', '--sizes', '10,0'], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /sizes.*0/);
});

test('a reader that closes stdout early (cmhash … --json | head -1) does not crash the command', async () => {
  const child = spawn(process.execPath, [BIN, 'bench', 'vector', '--json', '--sizes', '1,2,3', '--reps', '1'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d) => { err += d; });
  child.stdout.once('data', () => child.stdout.destroy());
  const code = await new Promise<number | null>((res) => child.on('close', res));
  assert.doesNotMatch(err, /EPIPE|Unhandled/);
  assert.ok(code === 0 || code === null, `exit ${code}: ${err}`);
});
