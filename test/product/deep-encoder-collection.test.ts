// A collection built from photos encoded by the CenterNet encoder records it (collection.json), and an
// uploaded image is then encoded with that same encoder: the upload of an item's photo gives exactly
// that item's stored image features. A collection of the descriptor refuses nothing it can compute;
// one whose image features came from elsewhere refuses uploads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Dataset } from '../../src/data/dataset.js';
import { generateSynthetic } from '../../src/data/synthetic.js';
import { encodeDatasetImages } from '../../src/data/image-encoders/dataset.js';
import { createContinualHasher } from '../../src/methods/registry.js';
import { buildContinualCollection } from '../../src/product/build-collection.js';
import { Collection } from '../../src/product/collection.js';
import { CENTERNET_IMAGE_ENCODER, readConfig } from '../../src/product/collection-config.js';
import { imageToFeatures } from '../../src/product/featurize.js';
import { generatedImage } from '../data/generated-images.js';

test('a collection built with the centernet encoder encodes uploads with it', async () => {
  const root = mkdtempSync(join(tmpdir(), 'cmhash-deep-'));
  try {
    const photos = join(root, 'photos'); mkdirSync(photos);
    const P = 6;
    for (let k = 0; k < P; k++) await generatedImage(join(photos, `p${k}.png`), k, 64, 48);
    const syn = generateSynthetic({ n: 120, numLabels: 4, imageDim: 8, textDim: 32, seed: 2 });
    const splits: Record<string, Int32Array> = {}; for (const [k, v] of syn.splits) splits[k] = v;
    const withPhotos = new Dataset({
      name: 'photos', image: syn.image, imageDim: syn.imageDim, text: syn.text, textDim: syn.textDim, labels: syn.labels, labelNames: syn.labelNames,
      ids: syn.ids, splits, raw: syn.ids.map((_, i) => ({ image: join(photos, `p${i % P}.png`) })),
    });
    const enc = await encodeDatasetImages(withPhotos, 'centernet', { cacheDir: join(root, 'cache') });
    const ds = enc.dataset;
    assert.equal(ds.imageDim, 560);
    const dir = join(root, 'coll');
    const hasher = createContinualHasher('ccmh-gam', { bits: 16, hidden: 16 });
    const built = await buildContinualCollection(ds, {
      dir, name: 'deep', hasher, bits: 16, sessions: '2x2', seed: 1, train: { epochs: 2, labelSteps: 10 },
      imageDescriptor: CENTERNET_IMAGE_ENCODER, imageEncoderVersion: enc.version, imageRoot: photos,
    });
    built.collection.close();
    const cfg = readConfig(dir);
    assert.equal(cfg.imageDescriptor, 'centernet-mnv3-coco-560');
    assert.equal(cfg.imageEncoderVersion, enc.version);
    const c = Collection.open(dir);
    try {
      assert.equal(c.info().image_upload, true);
      const bytes = readFileSync(join(photos, 'p3.png'));
      const f = await imageToFeatures(bytes, c.config);
      assert.equal(f.length, 560);
      // row 3 holds photo p3: the upload is encoded exactly as that item was
      assert.deepEqual([...f], [...ds.imageRow(3)]);
      const snap = c.snapshot();
      const q = Collection.encodeQuery(snap, 'image', f);
      const r = c.search(snap, q, { modality: 'image', k: 5 }, 100);
      assert.equal(r.results.length, 5);
      // the same upload against a collection whose image features are not computable from photos
      await assert.rejects(imageToFeatures(bytes, { ...c.config, imageDescriptor: null }), /cannot compute from a photo/);
      await assert.rejects(imageToFeatures(bytes, { ...c.config, imageDescriptor: 'cmhash-544' }), /cannot compute from a photo/, 'the descriptor id with a 560-d model is refused');
      await assert.rejects(imageToFeatures(bytes, { ...c.config, imageEncoderVersion: 'centernet-mnv3-coco/0 (older files)' }), /was built with image encoder centernet-mnv3-coco\/0/, 'another encoder version is refused');
    } finally { c.close(); }
  } finally { rmSync(root, { recursive: true, force: true }); }
});
