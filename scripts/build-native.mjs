// Builds the native addon from source during `npm install`. A failed build is not fatal:
// cmhash then runs on the portable TypeScript backend and says so once at start-up.
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';

if (process.env.CMHASH_SKIP_NATIVE === '1') {
  console.log('cmhash: CMHASH_SKIP_NATIVE=1, native addon not built (portable backend will be used)');
  process.exit(0);
}
let gyp = process.env.npm_config_node_gyp;
if (!gyp || !existsSync(gyp)) {
  try { gyp = createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js'); } catch { gyp = undefined; }
}
const args = gyp ? [gyp, 'rebuild', '--release'] : null;
const r = args
  ? spawnSync(process.execPath, args, { stdio: 'inherit' })
  : spawnSync('node-gyp', ['rebuild', '--release'], { stdio: 'inherit', shell: true });
if (r.status !== 0) {
  rmSync('build', { recursive: true, force: true });
  console.warn('cmhash: native addon build failed; the portable TypeScript backend will be used (see `cmhash doctor`).');
}
