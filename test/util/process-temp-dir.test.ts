// Temp folders of a process (util/process-temp-dir.ts): removed when the process exits, left behind
// when it is killed, and then removed by the next process that makes one with the same prefix — but
// never a folder whose process still runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { processTempDir, removeTempDir, sweepLeftoverDirs } from '../../src/util/process-temp-dir.js';

const MODULE = pathToFileURL(resolve('dist/src/util/process-temp-dir.js')).href;

/** A child that makes a folder under root, prints its path, then exits (or waits to be killed). */
function childScript(root: string, wait: boolean): string {
  return `import(${JSON.stringify(MODULE)}).then((m) => { const d = m.processTempDir('cmhash-test-', ${JSON.stringify(root)}); console.log(d); ${wait ? 'setInterval(() => {}, 1000);' : ''} });`;
}

test('processTempDir: removed at exit; a killed process\'s folder is swept by the next one; a running one\'s is kept', async () => {
  const root = mkdtempSync(join(tmpdir(), 'cmhash-tempdir-test-'));
  try {
    // a normal exit removes the folder
    const r = spawnSync(process.execPath, ['-e', childScript(root, false)], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const exited = r.stdout.trim();
    assert.match(exited, new RegExp(`cmhash-test-\\d+-`));
    assert.equal(existsSync(exited), false, 'removed at exit');

    // a killed process leaves its folder
    const child = spawn(process.execPath, ['-e', childScript(root, true)], { stdio: ['ignore', 'pipe', 'inherit'] });
    const killedDir = await new Promise<string>((res) => child.stdout!.once('data', (d) => res(String(d).trim())));
    assert.ok(existsSync(killedDir));
    // while it runs, a sweep keeps it
    assert.equal(sweepLeftoverDirs('cmhash-test-', root), 0);
    assert.ok(existsSync(killedDir));
    child.kill('SIGKILL');
    await new Promise((res) => child.once('exit', res));
    assert.ok(existsSync(killedDir), 'SIGKILL runs no exit hook');

    // the next process making one removes it; folders of other names are not touched
    const other = join(root, 'cmhash-test-notapid');
    mkdirSync(other);
    const mine = processTempDir('cmhash-test-', root);
    assert.equal(existsSync(killedDir), false, 'swept');
    assert.ok(existsSync(other) && existsSync(mine));
    assert.ok(mine.includes(`cmhash-test-${process.pid}-`));
    removeTempDir(mine);
    assert.deepEqual(readdirSync(root), ['cmhash-test-notapid']);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
