// A small real collection for service tests: synthetic data (3 sessions of 2 classes), CCMH-GAM with
// tiny nets trained for a few epochs, a vocabulary w0…w47 over the binary text features (so raw
// text queries work), and a folder of generated photos for thumbnail tests.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSynthetic } from '../../src/data/synthetic.js';
import { vocabularyFromTerms } from '../../src/data/text-features.js';
import { createContinualHasher as createContinualMethod } from '../../src/methods/registry.js';
import { buildContinualCollection } from '../../src/product/build-collection.js';
import { Collection } from '../../src/product/collection.js';
import type { Dataset } from '../../src/data/dataset.js';

export const BITS = 16;
export const TERMS = Array.from({ length: 48 }, (_, i) => `w${i}`);

export interface Fixture { root: string; dir: string; imageRoot: string; ds: Dataset; collection: Collection }

/** Builds the collection in a fresh temp folder (about 2 s). */
export async function buildFixture(name = 'syn'): Promise<Fixture> {
  const root = mkdtempSync(join(tmpdir(), 'cmhash-server-'));
  const imageRoot = join(root, 'photos');
  mkdirSync(imageRoot);
  const sharp = (await import('sharp')).default;
  const png = await sharp({ create: { width: 40, height: 30, channels: 3, background: { r: 200, g: 60, b: 30 } } }).png().toBuffer();
  writeFileSync(join(imageRoot, 'red.png'), png);
  writeFileSync(join(root, 'secret.png'), png);
  writeFileSync(join(imageRoot, 'not-an-image.png'), 'hello');
  const ds = generateSynthetic({ n: 500, numLabels: 6, imageDim: 32, textDim: TERMS.length, seed: 3 });
  const dir = join(root, 'collections', name);
  const hasher = createContinualMethod('ccmh-gam', { bits: BITS, hidden: 32 });
  const r = await buildContinualCollection(ds, {
    dir, name, hasher, bits: BITS, sessions: '3x2', seed: 1, train: { epochs: 3, labelSteps: 30 },
    vocabulary: vocabularyFromTerms(TERMS), imageRoot,
  });
  return { root, dir, imageRoot, ds, collection: r.collection };
}

export function features(ds: Dataset, row: number): { image: number[]; text: number[] } {
  return { image: Array.from(ds.imageRow(row)), text: Array.from(ds.textRow(row)) };
}
