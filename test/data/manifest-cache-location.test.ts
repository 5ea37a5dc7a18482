// Image features of a manifest are cached like `data extract`'s: in the cache folder (cacheDir,
// $CMHASH_CACHE/extract, …), keyed by the manifest's absolute path, never beside the user's data;
// the cache is kept (one line per photo) so a second load does not describe unchanged photos again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { checkCacheOutsideData } from '../../src/data/extract.js';
import { loadDataset } from '../../src/data/load.js';
import { repoRoot } from '../../src/data/presets/common.js';
import { tempDir } from './helpers.js';
import { generatedImage } from './generated-images.js';

async function manifestFolder(dir: string): Promise<string> {
  mkdirSync(dir, { recursive: true });
  for (let k = 0; k < 3; k++) await generatedImage(join(dir, `p${k}.png`), k, 40, 32);
  const m = join(dir, 'pairs.jsonl');
  writeFileSync(m, Array.from({ length: 6 }, (_, i) => JSON.stringify({ id: `x${i}`, image: `p${i % 3}.png`, text: 'sea sky', labels: [i % 2 ? 'a' : 'b'] })).join('\n') + '\n');
  return m;
}

test('a manifest\'s image cache goes to the cache folder, is kept and reused, and nothing is written beside the manifest', async () => {
  const t = tempDir();
  try {
    const data = join(t.dir, 'data'); const m = await manifestFolder(data);
    const listed = readdirSync(data).sort();
    const cacheDir = join(t.dir, 'cache');
    await loadDataset(m, { cacheDir });
    assert.deepEqual(readdirSync(data).sort(), listed, 'nothing new beside the manifest');
    const files = existsSync(cacheDir) ? readdirSync(cacheDir) : [];
    assert.equal(files.length, 1, `one cache file in ${cacheDir}, found ${files.join(', ') || 'none'}`);
    assert.match(files[0]!, /^pairs\.jsonl-[0-9a-f]{12}\.descriptor\.partial\.jsonl$/);
    const cached = readFileSync(join(cacheDir, files[0]!), 'utf8');
    assert.equal(cached.trim().split('\n').length, 3, 'one line per distinct photo');
    await loadDataset(m, { cacheDir });
    assert.equal(readFileSync(join(cacheDir, files[0]!), 'utf8'), cached, 'second load reuses the cache as it is');
    // a replaced photo is described again and its old line dropped: the kept cache does not grow
    await generatedImage(join(data, 'p1.png'), 7, 40, 32);
    const later = new Date(statSync(join(data, 'p1.png')).mtimeMs + 5000); utimesSync(join(data, 'p1.png'), later, later);
    await loadDataset(m, { cacheDir });
    const now = readFileSync(join(cacheDir, files[0]!), 'utf8');
    assert.notEqual(now, cached); assert.equal(now.trim().split('\n').length, 3);
    // a cache folder inside the data folder is refused, as for `data extract`
    await assert.rejects(loadDataset(m, { cacheDir: join(data, 'c') }), /caches never go inside the data folder/);
    assert.equal(existsSync(join(data, 'c')), false);
  } finally { t.done(); }
});

test('`data info <manifest>` with $CMHASH_CACHE writes to $CMHASH_CACHE/extract and not into the data folder', async () => {
  const t = tempDir();
  try {
    const data = join(t.dir, 'data'); const m = await manifestFolder(data);
    const listed = readdirSync(data).sort();
    const env = { ...process.env, CMHASH_CACHE: join(t.dir, 'env-cache') };
    const r = spawnSync(process.execPath, [join(repoRoot(), 'bin', 'cmhash.js'), 'data', 'info', m, '--json'], { encoding: 'utf8', env });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout.trim().split('\n').pop()!).image_dim, 544);
    assert.deepEqual(readdirSync(data).sort(), listed);
    assert.equal(readdirSync(join(t.dir, 'env-cache', 'extract')).filter((f) => f.startsWith('pairs.jsonl-')).length, 1);
  } finally { t.done(); }
});

test('the home folder itself is not a data folder: a manifest kept in ~ may use ~/.cache', () => {
  const t = tempDir(); const home = process.env.HOME;
  try {
    process.env.HOME = t.dir;
    checkCacheOutsideData(join(t.dir, '.cache', 'cmhash', 'extract', 'x.partial.jsonl'), t.dir);
    assert.throws(() => checkCacheOutsideData(join(t.dir, 'photos', 'c', 'x.partial.jsonl'), join(t.dir, 'photos')), /never go inside the data folder/);
  } finally { process.env.HOME = home; t.done(); }
});
