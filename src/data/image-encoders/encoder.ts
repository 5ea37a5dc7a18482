// Image encoders: what turns a photo into the image features a model trains on and a collection
// encodes uploads with. Each has a CLI name, a fixed width, a version string that changes whenever
// its output would (model file, preprocessing, pooling), and the id a collection records in
// collection.json (imageDescriptor) so an upload is encoded exactly as the items were.
import { InputError } from '../../util/errors.js';
import type { RgbImage } from '../image-features.js';

export interface ImageEncoder {
  /** CLI name: `descriptor`, `centernet`. */
  readonly name: string;
  /** What a collection records (collection.json imageDescriptor): names encoder and output layout. */
  readonly id: string;
  readonly dim: number;
  /** Changes whenever the output would change (model files, preprocessing, pooling); cache records carry it. */
  readonly version: string;
  /** Side of the square an image is resized to (by sharp) before encoding. */
  readonly inputSize: number;
  /** Resampling kernel used to reach inputSize (sharp kernel name). */
  readonly kernel: 'lanczos3' | 'linear';
  /** Encodes decoded RGB pixels (any size; resized to inputSize when it is not). */
  encodePixels(img: RgbImage): Promise<Float32Array>;
  /** Decodes an image file and encodes it. */
  encodeFile(path: string): Promise<Float32Array>;
}

export interface EncoderEntry {
  name: string;
  id: string;
  dim: number;
  summary: string;
  load: () => Promise<ImageEncoder>;
}

/** Every built-in image encoder (loaded on first use: the deep one pulls in TensorFlow.js). */
export const IMAGE_ENCODERS: EncoderEntry[] = [
  {
    name: 'descriptor', id: 'cmhash-544', dim: 544,
    summary: 'hand-crafted: 256-bin HSV colour histogram + 288-d HOG-like texture (128×128), no model',
    load: async () => (await import('./descriptor.js')).descriptorEncoder,
  },
  {
    name: 'centernet', id: 'centernet-mnv3-coco-560', dim: 560,
    summary: 'CenterNet (MobileNetV3 backbone, COCO 80 classes; TensorFlow.js graph model from @vladmandic/human): backbone mean (480) + class heatmap max (80), 512×512',
    load: async () => (await import('./centernet.js')).loadCenterNetEncoder(),
  },
];

export const DEFAULT_IMAGE_ENCODER = 'descriptor';

export function imageEncoderNames(): string[] { return IMAGE_ENCODERS.map((e) => e.name); }

/** The registry entry for a CLI name or a collection id. */
export function imageEncoderEntry(nameOrId: string): EncoderEntry {
  const e = IMAGE_ENCODERS.find((x) => x.name === nameOrId || x.id === nameOrId);
  if (!e) throw new InputError(`unknown image encoder '${nameOrId}' (known: ${IMAGE_ENCODERS.map((x) => `${x.name} (${x.id}, ${x.dim}-d)`).join(', ')})`);
  return e;
}

const loaded = new Map<string, Promise<ImageEncoder>>();

/** The encoder of that name or id, loaded once per process. */
export function getImageEncoder(nameOrId: string): Promise<ImageEncoder> {
  const e = imageEncoderEntry(nameOrId);
  let p = loaded.get(e.name);
  if (!p) {
    p = e.load();
    loaded.set(e.name, p);
    p.catch(() => loaded.delete(e.name));
  }
  return p;
}

/**
 * The encoder image extraction uses when none is named: $CMHASH_IMAGE_ENCODER, else the
 * descriptor. (Dataset loaders that extract features from photos, e.g. `--image-features
 * extracted`, take it from here.)
 */
export function defaultImageEncoderName(): string {
  const env = process.env.CMHASH_IMAGE_ENCODER?.trim();
  if (env) { imageEncoderEntry(env); return env; }
  return DEFAULT_IMAGE_ENCODER;
}
