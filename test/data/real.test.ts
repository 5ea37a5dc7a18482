// The shared real data (skipped visibly when ../shared/data is absent).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadDataset } from '../../src/data/load.js';
import { extractImages } from '../../src/data/extract.js';
import { IMAGE_DESCRIPTOR_DIM } from '../../src/data/image-features.js';
import { SHARED, hasShared, tempDir } from './helpers.js';

test('Wikipedia: v5 .mat, v7.3 .mat and the .npy folder load to identical matrices', async (t) => {
  if (!hasShared('wikipedia')) { t.skip(`no ${SHARED}/wikipedia`); return; }
  const dir = join(SHARED, 'wikipedia');
  const npy = await loadDataset('wikipedia', { source: 'npy' });
  const v5 = await loadDataset(join(dir, 'original', 'raw_features.mat'));
  const v73 = await loadDataset(join(dir, 'original', 'wiki_data_v73.mat'));
  for (const d of [npy, v5, v73]) {
    assert.equal(d.n, 2866); assert.equal(d.imageDim, 128); assert.equal(d.textDim, 10); assert.equal(d.numLabels, 10);
    assert.equal(d.split('train').length, 2173); assert.equal(d.split('query').length, 693); assert.equal(d.split('retrieval').length, 2173);
    assert.deepEqual(d.labelCounts(), [172, 360, 340, 333, 267, 236, 237, 185, 285, 451]);
  }
  for (const other of [v5, v73]) {
    assert.deepEqual(other.image, npy.image); assert.deepEqual(other.text, npy.text); assert.deepEqual(other.labels, npy.labels);
    assert.deepEqual(other.ids, npy.ids);
  }
  assert.deepEqual(npy.labelNames.slice(0, 3), ['art', 'biology', 'geography']);
  const v = npy.withValidation(200, 1);
  assert.equal(v.split('validation').length, 200); assert.equal(v.split('train').length, 1973);
  assert.ok([...v.split('validation')].every((r) => r < 2173), 'validation comes from train only');
});

test('MIRFlickr-25K: 20,015 rows, 24 labels with the manifest counts, 2,000 queries; 730 photo rows with image features and tags', async (t) => {
  if (!hasShared('mirflickr25k')) { t.skip(`no ${SHARED}/mirflickr25k`); return; }
  const manifest = JSON.parse(readFileSync(join(SHARED, 'mirflickr25k', 'manifest.json'), 'utf8'));
  const ds = await loadDataset('mirflickr25k', { seed: 3 });
  assert.equal(ds.n, 20015); assert.equal(ds.numLabels, 24); assert.equal(ds.textDim, 1386);
  assert.deepEqual(Object.fromEntries(ds.summary().labels.map((l) => [l.name, l.count])), manifest.label_counts_all);
  assert.equal(ds.split('query').length, 2000); assert.equal(ds.split('retrieval').length, 18015); assert.equal(ds.split('train').length, 10000);
  const q = new Set(ds.split('query')); assert.ok([...ds.split('train')].every((r) => !q.has(r)), 'train is drawn from retrieval');
  assert.equal(ds.rowsWithImage().length, 730);
  const again = await loadDataset('mirflickr25k', { seed: 3 });
  assert.deepEqual(again.split('query'), ds.split('query'), 'same seed → same split');
  const photos = await loadDataset('mirflickr25k-photos');
  assert.equal(photos.n, 730); assert.equal(photos.imageDim, 768);
  assert.deepEqual(Object.fromEntries(photos.summary().labels.map((l) => [l.name, l.count])), manifest.label_counts_subset);
  for (let i = 0; i < photos.n; i++) {
    let s = 0; for (const v of photos.imageRow(i)) s += v; assert.ok(s > 0, `photo row ${i} has image features`);
    assert.ok(photos.raw![i]!.image!.endsWith(`${photos.ids[i]}.jpg`));
    assert.ok((photos.raw![i]!.text ?? '').length > 0, `photo row ${i} has tags`);
  }
});

test('MIRFlickr photos: built-in descriptors over the real images, resumable', async (t) => {
  if (!hasShared('mirflickr25k/images')) { t.skip(`no ${SHARED}/mirflickr25k/images`); return; }
  const tmp = tempDir();
  try {
    const files = ['im1.jpg', 'im2.jpg', 'im3.jpg', 'im4.jpg', 'im5.jpg', 'im6.jpg', 'im7.jpg', 'im8.jpg'];
    const partialFile = join(tmp.dir, 'p.jsonl');
    const first = await extractImages({ base: join(SHARED, 'mirflickr25k', 'images'), files }, { partialFile, limit: 5 });
    assert.equal(first.complete, false);
    const second = await extractImages({ base: join(SHARED, 'mirflickr25k', 'images'), files }, { partialFile });
    assert.equal(second.resumed, 5); assert.equal(second.complete, true); assert.equal(second.failed.length, 0);
    assert.deepEqual(second.features.subarray(0, 5 * IMAGE_DESCRIPTOR_DIM), first.features.subarray(0, 5 * IMAGE_DESCRIPTOR_DIM));
    for (let i = 0; i < files.length; i++) {
      let s = 0; for (let j = 0; j < IMAGE_DESCRIPTOR_DIM; j++) s += second.features[i * IMAGE_DESCRIPTOR_DIM + j]! ** 2;
      assert.ok(Math.abs(s - 1) < 1e-4, `row ${i} is unit length (${s})`);
    }
  } finally { tmp.done(); }
});
