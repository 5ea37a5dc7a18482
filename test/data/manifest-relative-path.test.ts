// A manifest named by a relative path (the documented layout: photos beside it, named relative to
// it) loads from any working folder: image paths are made absolute against the manifest's folder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { repoRoot } from '../../src/data/presets/common.js';
import { tempDir } from './helpers.js';
import { generatedImage } from './generated-images.js';

test('`data info man/rel.jsonl` from the folder above reads the photos named relative to the manifest', async () => {
  const t = tempDir();
  try {
    const man = join(t.dir, 'man'); mkdirSync(man);
    for (let k = 0; k < 2; k++) await generatedImage(join(man, `im${k + 5}.png`), k, 40, 32);
    writeFileSync(join(man, 'rel.jsonl'), Array.from({ length: 12 }, (_, i) => JSON.stringify({ id: `r${i}`, image: `im${5 + (i % 2)}.png`, text: 'dog', labels: ['ab'[i % 2]] })).join('\n') + '\n');
    const env = { ...process.env, CMHASH_CACHE: join(t.dir, 'cache') };
    const r = spawnSync(process.execPath, [join(repoRoot(), 'bin', 'cmhash.js'), 'data', 'info', join('man', 'rel.jsonl'), '--json'], { cwd: t.dir, encoding: 'utf8', env });
    assert.equal(r.status, 0, r.stderr);
    const s = JSON.parse(r.stdout.trim().split('\n').pop()!);
    assert.equal(s.items, 12); assert.equal(s.image_dim, 544);
  } finally { t.done(); }
});
