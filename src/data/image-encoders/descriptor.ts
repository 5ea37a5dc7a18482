// The built-in hand-crafted descriptor (image-features.ts) as an ImageEncoder.
import { describePixels, DESCRIBE_SIZE, IMAGE_DESCRIPTOR_DIM, loadRgb, type RgbImage } from '../image-features.js';
import type { ImageEncoder } from './encoder.js';

async function resize(img: RgbImage, size: number): Promise<RgbImage> {
  if (img.width === size && img.height === size) return img;
  const sharp = (await import('sharp')).default;
  const { data, info } = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .resize(size, size, { fit: 'fill' }).raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
}

export const descriptorEncoder: ImageEncoder = {
  name: 'descriptor',
  id: 'cmhash-544',
  dim: IMAGE_DESCRIPTOR_DIM,
  version: 'cmhash-544/1 (hsv 8x8x4 + hog 4x4x9x2, 128px lanczos3)',
  inputSize: DESCRIBE_SIZE,
  kernel: 'lanczos3',
  async encodePixels(img) { return describePixels(await resize(img, DESCRIBE_SIZE)); },
  async encodeFile(path) { return describePixels(await loadRgb(path, DESCRIBE_SIZE)); },
};
