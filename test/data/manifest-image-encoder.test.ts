// A manifest's image features take the width of the encoder that made them ($CMHASH_IMAGE_ENCODER),
// not the built-in descriptor's 544: rows cut at the wrong width would mix neighbouring photos.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getImageEncoder } from '../../src/data/image-encoders/encoder.js';
import { loadDataset } from '../../src/data/load.js';
import { tempDir } from './helpers.js';
import { generatedImage } from './generated-images.js';

test('CMHASH_IMAGE_ENCODER=centernet: a manifest loads 560-d rows, each its own photo\'s', async () => {
  const t = tempDir(); const env = process.env.CMHASH_IMAGE_ENCODER;
  try {
    const data = join(t.dir, 'data'); mkdirSync(data);
    for (let k = 0; k < 2; k++) await generatedImage(join(data, `p${k}.png`), k, 40, 32);
    const m = join(data, 'm.jsonl');
    writeFileSync(m, Array.from({ length: 4 }, (_, i) => JSON.stringify({ id: `x${i}`, image: `p${i % 2}.png`, text: 'sky', labels: ['ab'[i % 2]] })).join('\n') + '\n');
    process.env.CMHASH_IMAGE_ENCODER = 'centernet';
    const ds = await loadDataset(m, { cacheDir: join(t.dir, 'cache') });
    assert.equal(ds.imageDim, 560);
    const enc = await getImageEncoder('centernet');
    for (let i = 0; i < 4; i++) assert.deepEqual([...ds.imageRow(i)], [...await enc.encodeFile(join(data, `p${i % 2}.png`))], `row ${i}`);
  } finally {
    if (env === undefined) delete process.env.CMHASH_IMAGE_ENCODER; else process.env.CMHASH_IMAGE_ENCODER = env;
    t.done();
  }
});
