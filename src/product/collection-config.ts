// collection.json: what a collection directory holds besides the store — the code width, the
// method, the feature widths queries must have, and how raw inputs become features (a vocabulary
// file for raw text, the built-in image descriptor for uploads, a folder of photos for thumbnails).
// Label names are not here: they grow with sessions, so they live in each model version's metadata
// and change atomically with it.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CorruptDataError, InputError, NotFoundError } from '../util/errors.js';
import { writeFileAtomic } from '../util/atomic-write.js';

export const COLLECTION_FORMAT = 1;
export const CONFIG_FILE = 'collection.json';
/** The built-in 544-d colour + texture descriptor of src/data/image-features.ts. */
export const BUILTIN_IMAGE_DESCRIPTOR = 'cmhash-544';
/** The 560-d CenterNet (MobileNetV3, COCO) encoder of src/data/image-encoders/centernet.ts. */
export const CENTERNET_IMAGE_ENCODER = 'centernet-mnv3-coco-560';

export interface CollectionConfig {
  format: number;
  name: string;
  bits: number;
  /** Method of the models (null for a codes-only collection). */
  method: string | null;
  imageDim: number;
  textDim: number;
  /** Vocabulary file (relative to the collection) that turns raw text into text features, or null. */
  vocabulary: string | null;
  /**
   * Image encoder that turns an uploaded image into image features, by id (src/data/image-encoders:
   * BUILTIN_IMAGE_DESCRIPTOR, CENTERNET_IMAGE_ENCODER), or null when the image features came from
   * elsewhere (uploads are then refused).
   */
  imageDescriptor: string | null;
  /** The encoder's full version string when the collection was built (informational: model files, preprocessing). */
  imageEncoderVersion?: string;
  /**
   * Raw text through word vectors instead of a vocabulary: the compact table stored in the collection
   * (`file`, relative) and its absolute path when written (`path`; featurize reads it from there, as
   * it sees only this config), with the embedding it was cut from, width, OOV policy and weighting.
   */
  wordVectors?: { file: string; path: string; source: string; dim: number; terms: number; oov: string; weighting: string } | null;
  /** Folder holding the items' photos (metadata.image is relative to it), for thumbnails; or null. */
  imageRoot: string | null;
  /** Index kind used when loading ('flat', 'multi', 'multi:m=4'); default chosen by size. */
  index?: string;
  created: string;
  /** 'demo' when `cmhash demo` made it (the next demo run may replace it). */
  createdBy?: string;
}

export function readConfig(dir: string): CollectionConfig {
  const p = join(dir, CONFIG_FILE);
  if (!existsSync(p)) throw new NotFoundError(`${dir}: not a cmhash collection (${CONFIG_FILE} missing)`);
  let c: CollectionConfig;
  try { c = JSON.parse(readFileSync(p, 'utf8')); } catch (e) { throw new CorruptDataError(`${p}: not valid JSON (${(e as Error).message})`); }
  if (typeof c !== 'object' || c === null || typeof c.bits !== 'number' || typeof c.name !== 'string') {
    throw new CorruptDataError(`${p}: expected an object with name and bits`);
  }
  if (c.format > COLLECTION_FORMAT) throw new CorruptDataError(`${p}: written by a newer cmhash (format ${c.format}; this version reads ${COLLECTION_FORMAT})`);
  return c;
}

/** Atomic write (temp file + rename). */
export function writeConfig(dir: string, c: CollectionConfig): void {
  checkConfigWidths(c);
  writeFileAtomic(join(dir, CONFIG_FILE), JSON.stringify(c, null, 2) + '\n');
}

export function checkConfigWidths(c: CollectionConfig): void {
  if (!Number.isInteger(c.imageDim) || !Number.isInteger(c.textDim) || c.imageDim < 0 || c.textDim < 0) {
    throw new InputError(`collection config: feature widths must be non-negative integers, got image ${c.imageDim}, text ${c.textDim}`);
  }
}
