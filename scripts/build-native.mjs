// Builds the native addon from source during `npm install`. A failed build is not fatal:
// cmhash then runs on the portable TypeScript backend and says so once at start-up.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

if (process.env.CMHASH_SKIP_NATIVE === '1') {
  console.log('cmhash: CMHASH_SKIP_NATIVE=1, native addon not built (portable backend will be used)');
  process.exit(0);
}
let gyp = process.env.npm_config_node_gyp;
if (!gyp || !existsSync(gyp)) {
  try { gyp = createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js'); } catch { gyp = undefined; }
}
if (!gyp) {
  // npm bundles node-gyp; outside `npm install` (running this script by hand) look for that copy.
  const bundled = join(dirname(dirname(process.execPath)), 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  if (existsSync(bundled)) gyp = bundled;
}
// Headers installed next to this node binary (e.g. /usr/include/node from a distro package) let
// node-gyp build without downloading them, which also works offline. Used only when they are the
// running version's headers.
function localNodeDir() {
  const prefix = dirname(dirname(process.execPath));
  const versionH = join(prefix, 'include', 'node', 'node_version.h');
  if (!existsSync(versionH) || !existsSync(join(prefix, 'include', 'node', 'common.gypi'))) return null;
  const h = readFileSync(versionH, 'utf8');
  const part = (name) => (h.match(new RegExp(`#define NODE_${name}_VERSION (\\d+)`)) ?? [])[1];
  const v = `v${part('MAJOR')}.${part('MINOR')}.${part('PATCH')}`;
  return v === process.version ? prefix : null;
}
const extra = [];
const nodedir = process.env.npm_config_nodedir ? null : localNodeDir();
if (nodedir) extra.push(`--nodedir=${nodedir}`);
const args = gyp ? [gyp, 'rebuild', '--release', ...extra] : null;
const r = args
  ? spawnSync(process.execPath, args, { stdio: 'inherit' })
  : spawnSync('node-gyp', ['rebuild', '--release', ...extra], { stdio: 'inherit', shell: true });
if (r.status !== 0) {
  rmSync('build', { recursive: true, force: true });
  console.warn('cmhash: native addon build failed; the portable TypeScript backend will be used (see `cmhash doctor`).');
}
