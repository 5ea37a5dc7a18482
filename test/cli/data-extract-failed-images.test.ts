// `data extract` never writes a made-up row: an image it cannot decode is left out of the .npy and
// the ids file, listed (path and reason) in the output and the JSON, and the exit status is 2 (bad
// input), so a script cannot take a partial result for a complete one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { readNpy } from '../../src/data/npy.js';
import { repoRoot } from '../../src/data/presets/common.js';
import { tempDir } from '../data/helpers.js';
import { generatedImage } from '../data/generated-images.js';

test('data extract: an undecodable image is left out, listed with its reason, exit 2', async () => {
  const t = tempDir();
  try {
    const img = join(t.dir, 'imgs'); mkdirSync(img);
    for (let k = 0; k < 3; k++) await generatedImage(join(img, `im${k + 1}.png`), k, 40, 32);
    writeFileSync(join(img, 'bad.jpg'), 'x\n');
    const out = join(t.dir, 'f.npy');
    const r = spawnSync(process.execPath, [join(repoRoot(), 'bin', 'cmhash.js'), 'data', 'extract', img, '--out', out, '--cache-dir', join(t.dir, 'cache'), '--json'], { encoding: 'utf8' });
    assert.equal(r.status, 2, r.stderr);
    const s = JSON.parse(r.stdout.trim().split('\n').pop()!);
    assert.equal(s.images, 3); assert.equal(s.failed, 1);
    assert.equal(s.failures.length, 1);
    assert.equal(s.failures[0].file, join(img, 'bad.jpg'));
    assert.match(s.failures[0].error, /cannot decode image/);
    assert.match(r.stderr, /1 of 4 images .*could not be encoded.*bad\.jpg/);
    const a = readNpy(out);
    assert.deepEqual(a.shape, [3, 544]);
    for (let i = 0; i < 3; i++) assert.ok(a.data.slice(i * 544, (i + 1) * 544).some((x) => x !== 0), `row ${i} is a real feature`);
    assert.deepEqual(readFileSync(`${out}.ids.txt`, 'utf8').trim().split('\n'), ['im1.png', 'im2.png', 'im3.png']);
  } finally { t.done(); }
});
