// The serving thread's heap warmed at start (warm-heap.ts, native warmHeap): with the native backend
// and freed memory retained, buffers allocated afterwards reuse touched pages (a fraction of the
// page faults of a cold process); with retention off nothing is warmed. Run in fresh processes so
// the test runner's own heap does not hide the difference.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { getNativeBackend } from '../../src/tensor/backends.js';

const warmModule = fileURLToPath(new URL('../../src/server/warm-heap.js', import.meta.url));
const script = (warm: boolean) => `
  const { warmServingHeap } = await import(${JSON.stringify(warmModule)});
  const flt = () => process.resourceUsage().minorPageFault;
  const warmed = ${warm} ? warmServingHeap() : 0;
  const f0 = flt(); const keep = [];
  for (let i = 0; i < 160; i++) { const b = Buffer.allocUnsafe(65536); b.fill(2); keep.push(b); }
  for (let i = 0; i < 4; i++) keep.push(new Float32Array(250000).fill(1));
  process.stdout.write(JSON.stringify({ warmed, faults: flt() - f0 }));`;

function run(warm: boolean, env: Record<string, string> = {}): { warmed: number; faults: number } {
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script(warm)], { env: { ...process.env, CMHASH_BACKEND: 'native', ...env } });
  return JSON.parse(out.toString()) as { warmed: number; faults: number };
}

test('warm heap: 14 MB of buffers after warming fault in far fewer pages than in a cold process', (t) => {
  if (!getNativeBackend()) { t.skip('native addon unavailable'); return; }
  if (process.platform !== 'linux') { t.skip('glibc malloc retention is Linux-only'); return; }
  const cold = run(false), warm = run(true);
  assert.equal(warm.warmed, 32 << 20);
  // 14 MB is ~3,500 pages; a warmed heap reuses its touched pages
  assert.ok(cold.faults > 2000, `cold process: ${cold.faults} faults`);
  assert.ok(warm.faults < cold.faults / 4, `warmed ${warm.faults} vs cold ${cold.faults} faults`);
  const off = run(true, { CMHASH_MALLOC_RETAIN: '0' });
  assert.equal(off.warmed, 0);
});
