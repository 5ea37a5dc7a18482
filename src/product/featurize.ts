// Raw inputs → the feature vectors a collection's model takes: text through the collection's
// vocabulary (bag of words as at training time), images through the image encoder the collection
// records (collection.json imageDescriptor: the built-in descriptor or the CenterNet encoder), so an
// upload is encoded exactly as the items were. Widths are checked against the collection so a
// mismatch is a clear InputError, never a wrong answer.
import { DESCRIBE_SIZE, type RgbImage } from '../data/image-features.js';
import { getImageEncoder, IMAGE_ENCODERS } from '../data/image-encoders/encoder.js';
import { vectorize, type Vocabulary } from '../data/text-features.js';
import { encodeTexts, loadWordTable, type WordVectorTable } from '../data/word-vectors.js';
import { statSync } from 'node:fs';
import type { Modality } from '../methods/hasher.js';
import { InputError } from '../util/errors.js';
import type { CollectionConfig } from './collection-config.js';

/** Largest decoded image accepted (pixels), so a small file cannot expand into gigabytes. */
export const MAX_IMAGE_PIXELS = 40_000_000;
/**
 * Longest side and most extreme aspect ratio accepted, read from the header before decoding: a
 * 40,000,000×1 PNG is within the pixel limit yet takes seconds to decode and resize, and nothing
 * that thin is a photo.
 */
export const MAX_IMAGE_SIDE = 16_384;
export const MAX_IMAGE_ASPECT = 50;

/** Refuses image dimensions (from the header) that no photo has. */
export function checkImageGeometry(width: number | undefined, height: number | undefined, what = 'image'): void {
  if (!width || !height) throw new InputError(`${what}: the image header gives no size`);
  if (width > MAX_IMAGE_SIDE || height > MAX_IMAGE_SIDE) throw new InputError(`${what}: ${width}×${height} pixels; the longest side accepted is ${MAX_IMAGE_SIDE}`);
  const aspect = Math.max(width / height, height / width);
  if (aspect > MAX_IMAGE_ASPECT) throw new InputError(`${what}: ${width}×${height} pixels is ${Math.round(aspect)}:1; aspect ratios beyond ${MAX_IMAGE_ASPECT}:1 are not accepted`);
  if (width * height > MAX_IMAGE_PIXELS) throw new InputError(`${what}: ${width}×${height} pixels; at most ${MAX_IMAGE_PIXELS} pixels are accepted`);
}

/** Largest finite float32 magnitude: JSON numbers beyond it would silently become ±Infinity. */
const FLOAT32_MAX = 3.4028234663852886e38;

/** Checks a feature vector (numbers, finite in float32, the collection's width) and returns it as float32. */
export function checkFeatures(values: ArrayLike<number>, config: CollectionConfig, modality: Modality, what = 'features'): Float32Array {
  const dim = modality === 'image' ? config.imageDim : config.textDim;
  if (values.length !== dim) throw new InputError(`${what}: collection "${config.name}" expects ${dim} ${modality} features, got ${values.length}`);
  const out = new Float32Array(dim);
  for (let i = 0; i < dim; i++) {
    const v = values[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new InputError(`${what}[${i}]: ${typeof v === 'number' ? String(v) : JSON.stringify(v)} is not a finite number`);
    out[i] = v;
    // values just above FLOAT32_MAX round down to it; only those that overflow are refused
    if (!Number.isFinite(out[i]!)) throw new InputError(`${what}[${i}]: ${v} is outside the float32 range (±${FLOAT32_MAX.toPrecision(8)})`);
  }
  return out;
}

const wordTables = new Map<string, { mtimeMs: number; table: WordVectorTable }>();

/** The collection's word-vector table, read once (again when the file changes). */
export function collectionWordTable(config: CollectionConfig): WordVectorTable {
  const wv = config.wordVectors!;
  let st;
  try { st = statSync(wv.path); } catch { throw new InputError(`collection "${config.name}": its word-vector table ${wv.path} is missing (was the collection moved? its text features need ${wv.file})`); }
  const hit = wordTables.get(wv.path);
  if (hit && hit.mtimeMs === st.mtimeMs) return hit.table;
  const table = loadWordTable(wv.path);
  wordTables.set(wv.path, { mtimeMs: st.mtimeMs, table });
  return table;
}

/** Raw text (words or tags) → text features through the collection's vocabulary, or its word vectors. */
export function textToFeatures(text: string | string[], vocab: Vocabulary | null, config: CollectionConfig): Float32Array {
  if (config.wordVectors) {
    const table = collectionWordTable(config);
    if (table.dim !== config.textDim) throw new InputError(`collection "${config.name}": word vectors are ${table.dim}-d but the model takes ${config.textDim} text features`);
    return someWordKnown(encodeTexts([text], table), text, `has no word vector in collection "${config.name}"`);
  }
  if (!vocab) throw new InputError(`collection "${config.name}" has no vocabulary for raw text (its text features came without one); query by features or item id instead`);
  if (vocab.terms.length !== config.textDim) throw new InputError(`collection "${config.name}": vocabulary has ${vocab.terms.length} terms but the model takes ${config.textDim} text features`);
  const sample = vocab.terms.slice(0, 5).map((t) => JSON.stringify(t)).join(', ');
  return someWordKnown(vectorize([text], vocab), text, `is in collection "${config.name}"'s vocabulary (${vocab.terms.length} terms, e.g. ${sample})`);
}

/**
 * Text with no known word gives the all-zero feature vector: its code says nothing about the text,
 * yet it would rank the database (or be stored) as if it did. Refused, naming the text.
 */
function someWordKnown(features: Float32Array, text: string | string[], notKnown: string): Float32Array {
  for (let i = 0; i < features.length; i++) if (features[i] !== 0) return features;
  const shown = (Array.isArray(text) ? text.join(' ') : text).slice(0, 80);
  throw new InputError(`text ${JSON.stringify(shown)}: no word of it ${notKnown}`);
}

/** Decodes an uploaded image (any format sharp reads) into an RGB square of `size` (the encoder's input; sharp's `kernel`). */
export async function decodeImage(bytes: Uint8Array, what = 'image', size = DESCRIBE_SIZE, kernel: 'lanczos3' | 'linear' = 'lanczos3'): Promise<RgbImage> {
  if (bytes.length === 0) throw new InputError(`${what}: empty upload`);
  const sharp = (await import('sharp')).default;
  let meta: { width?: number; height?: number };
  try { meta = await sharp(bytes, { failOn: 'error' }).metadata(); } catch (e) {
    throw new InputError(`${what}: not a readable image (JPEG, PNG, WebP, GIF, TIFF or AVIF expected): ${(e as Error).message}`);
  }
  checkImageGeometry(meta.width, meta.height, what); // header only: refused before any decoding
  try {
    const { data, info } = await sharp(bytes, { failOn: 'error', limitInputPixels: MAX_IMAGE_PIXELS })
      .rotate().resize(size, size, { fit: 'fill', kernel }).removeAlpha().toColourspace('srgb').raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded ${info.channels} channels`);
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
  } catch (e) {
    throw new InputError(`${what}: not a readable image (JPEG, PNG, WebP, GIF, TIFF or AVIF expected): ${(e as Error).message}`);
  }
}

/** Uploaded image bytes → image features, through the image encoder the collection was built with. */
export async function imageToFeatures(bytes: Uint8Array, config: CollectionConfig): Promise<Float32Array> {
  const entry = IMAGE_ENCODERS.find((e) => e.id === config.imageDescriptor);
  if (!entry || entry.dim !== config.imageDim) {
    throw new InputError(`collection "${config.name}" was trained on image features cmhash cannot compute from a photo (${config.imageDim}-d, descriptor ${config.imageDescriptor ?? 'unknown'}); query by features or item id instead`);
  }
  const encoder = await getImageEncoder(entry.name);
  if (config.imageEncoderVersion && config.imageEncoderVersion !== encoder.version) {
    // Another model file or preprocessing would give features the model was not trained on: refuse rather than answer wrongly.
    throw new InputError(`collection "${config.name}" was built with image encoder ${config.imageEncoderVersion}; this install has ${encoder.version}: install the versions the collection was built with, or rebuild it`);
  }
  return encoder.encodePixels(await decodeImage(bytes, 'image', encoder.inputSize, encoder.kernel));
}
