// `data extract` on a folder without images says so (folder and the extensions looked for), exit 2,
// instead of a raw file-system error about its cache.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { repoRoot } from '../../src/data/presets/common.js';
import { tempDir } from '../data/helpers.js';

test('data extract on a folder with no images: a clear error naming the folder and the extensions, exit 2', () => {
  const t = tempDir();
  try {
    const e = join(t.dir, 'e'); mkdirSync(e);
    writeFileSync(join(e, 'notes.txt'), 'not an image\n');
    const out = join(t.dir, 'x.npy');
    const r = spawnSync(process.execPath, [join(repoRoot(), 'bin', 'cmhash.js'), 'data', 'extract', e, '--out', out, '--cache-dir', join(t.dir, 'cache')], { encoding: 'utf8' });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`no images in folder ${e.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(looked for \\.jpg, \\.jpeg, \\.png`));
    assert.match(r.stderr, /found 1 other file: notes\.txt/);
    assert.doesNotMatch(r.stderr, /ENOENT/);
    assert.equal(existsSync(out), false);
  } finally { t.done(); }
});
