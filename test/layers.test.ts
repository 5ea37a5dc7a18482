import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('../../scripts/check-layers.mjs', import.meta.url)); // from dist/test/

// The layering rule of src/ (scripts/check-layers.mjs): imports between top-level folders point
// only downward and no two folders import each other.
test('imports between the layers of src/ point one way, with no cycle', () => {
  const r = spawnSync(process.execPath, [script, '--json'], { encoding: 'utf8' });
  const counts = JSON.parse(r.stdout.split('\n')[0]!) as { edges: number; upward: number; cycles: number };
  assert.ok(counts.edges > 20, `the checker saw ${counts.edges} edges: it is not reading src/`);
  assert.equal(counts.upward, 0, r.stdout);
  assert.equal(counts.cycles, 0, r.stdout);
  assert.equal(r.status, 0);
});
