// Runs every compiled test file with Node's built-in runner (its TAP/spec summary is what CI reads).
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}
const filter = process.argv[2];
const files = walk('dist/test', []).filter((f) => !filter || f.includes(filter)).sort();
if (files.length === 0) { console.error('no test files found under dist/test'); process.exit(1); }
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=2', ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
