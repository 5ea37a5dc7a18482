// A cached feature row stands for one version of one file: a photo replaced in place (another size
// or mtime) is described again, and cache lines that do not record the file's size and mtime (older
// caches) are misses — stale features would silently change retrieval results.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { extractImages } from '../../src/data/extract.js';
import { describeImage } from '../../src/data/image-features.js';
import { descriptorEncoder } from '../../src/data/image-encoders/descriptor.js';
import { loadDataset } from '../../src/data/load.js';
import { tempDir } from './helpers.js';
import { generatedImage } from './generated-images.js';

test('a manifest photo replaced in place gets the new photo\'s features, not the cached ones', async () => {
  const t = tempDir();
  try {
    const data = join(t.dir, 'data'); mkdirSync(data);
    const img = join(data, 'a.png');
    await generatedImage(img, 1);
    const m = join(data, 'm.jsonl');
    writeFileSync(m, Array.from({ length: 12 }, (_, i) => JSON.stringify({ id: `r${i}`, image: 'a.png', text: i % 2 ? 'dog' : 'sky', labels: [i % 2 ? 'a' : 'b'] })).join('\n') + '\n');
    const opts = { cacheDir: join(t.dir, 'cache') };
    const before = await loadDataset(m, opts);
    assert.deepEqual([...before.imageRow(0)], [...await describeImage(img)]);
    await generatedImage(img, 4); // another picture under the same name
    const later = new Date(statSync(img).mtimeMs + 5000); utimesSync(img, later, later); // coarse-mtime filesystems too
    const after = await loadDataset(m, opts);
    assert.deepEqual([...after.imageRow(0)], [...await describeImage(img)], 'features of the photo now on disk');
    assert.notDeepEqual([...after.imageRow(0)], [...before.imageRow(0)]);
  } finally { t.done(); }
});

test('a cache line is reused only while the file keeps its size and mtime; lines without them are misses', async () => {
  const t = tempDir();
  try {
    const img = join(t.dir, 'imgs'); mkdirSync(img);
    for (let k = 0; k < 2; k++) await generatedImage(join(img, `p${k}.png`), k, 40, 32);
    const partial = join(t.dir, 'cache', 'p.jsonl'); mkdirSync(join(t.dir, 'cache'));
    // an older cache: encoder version but no size/mtime, and (to make reuse visible) zero features
    const zeros = Buffer.alloc(544 * 4).toString('base64');
    writeFileSync(partial, ['p0.png', 'p1.png'].map((id) => JSON.stringify({ id, dim: 544, enc: descriptorEncoder.version, f: zeros })).join('\n') + '\n');
    const first = await extractImages(img, { partialFile: partial, encoder: 'descriptor' });
    assert.equal(first.resumed, 0, 'old lines are recomputed');
    assert.deepEqual([...first.features.subarray(0, 544)], [...await describeImage(join(img, 'p0.png'))]);
    assert.equal((await extractImages(img, { partialFile: partial, encoder: 'descriptor' })).resumed, 2, 'unchanged files are reused');
    const later = new Date(statSync(join(img, 'p1.png')).mtimeMs + 5000);
    utimesSync(join(img, 'p1.png'), later, later); // touched: same bytes, new mtime
    const touched = await extractImages(img, { partialFile: partial, encoder: 'descriptor' });
    assert.equal(touched.resumed, 1, 'only the touched file is redone');
    assert.equal((await extractImages(img, { partialFile: partial, encoder: 'descriptor' })).resumed, 2);
  } finally { t.done(); }
});
