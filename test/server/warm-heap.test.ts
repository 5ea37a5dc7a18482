// The serving thread's heap warmed at start (warm-heap.ts, native warmHeap): with the native backend
// and freed memory retained, buffers allocated afterwards reuse touched pages (a fraction of the
// page faults of a cold process); with retention off nothing is warmed. Run in fresh processes so
// the test runner's own heap does not hide the difference. V8's young generation (warmNewSpace) is
// grown once at start and stays grown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { getNativeBackend } from '../../src/tensor/backends.js';
import { NEW_SPACE_WARM_BYTES } from '../../src/server/warm-heap.js';

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

const newSpaceScript = (warm: boolean) => `
  const { warmNewSpace } = await import(${JSON.stringify(warmModule)});
  const { getHeapSpaceStatistics } = await import('node:v8');
  const size = () => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size;
  const before = size();
  const after = ${warm} ? warmNewSpace() : before;
  const again = ${warm} ? warmNewSpace() : before;
  // light traffic afterwards: the young generation stays grown
  for (let k = 0; k < 200; k++) { const x = []; for (let i = 0; i < 1000; i++) x.push({ i }); }
  process.stdout.write(JSON.stringify({ before, after, again, later: size() }));`;

test('warm new space: the young generation of V8 is grown once at start and stays grown', () => {
  const out = (warm: boolean) => JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', newSpaceScript(warm)]).toString()) as { before: number; after: number; again: number; later: number };
  const cold = out(false), warm = out(true);
  assert.ok(warm.before < NEW_SPACE_WARM_BYTES, `a fresh process starts below the target: ${warm.before}`);
  assert.ok(warm.after >= NEW_SPACE_WARM_BYTES, `grown to ${warm.after}, expected >= ${NEW_SPACE_WARM_BYTES}`);
  assert.equal(warm.again, warm.after, 'a second call does nothing');
  assert.ok(warm.later >= NEW_SPACE_WARM_BYTES, `still ${warm.later} after light traffic`);
  assert.ok(cold.later < NEW_SPACE_WARM_BYTES, `without warming light traffic leaves it at ${cold.later}`);
});
