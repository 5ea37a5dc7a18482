// Small JPEG thumbnails of item photos, made with sharp on first request and kept in a bounded
// in-memory cache (least recently used dropped first).
import { InputError } from '../../util/errors.js';

export const THUMBNAIL_SIZE = 160;

export class Thumbnails {
  private cache = new Map<string, Buffer>();
  constructor(private readonly maxEntries = 1000) {}

  async get(file: string): Promise<Buffer> {
    const hit = this.cache.get(file);
    if (hit) { this.cache.delete(file); this.cache.set(file, hit); return hit; }
    const sharp = (await import('sharp')).default;
    let jpeg: Buffer;
    try {
      jpeg = await sharp(file, { failOn: 'error', limitInputPixels: 40_000_000 }).rotate().resize(THUMBNAIL_SIZE, THUMBNAIL_SIZE, { fit: 'cover' }).jpeg({ quality: 80 }).toBuffer();
    } catch (e) {
      throw new InputError(`thumbnail: the item's image cannot be decoded (${(e as Error).message})`);
    }
    this.cache.set(file, jpeg);
    if (this.cache.size > this.maxEntries) this.cache.delete(this.cache.keys().next().value!);
    return jpeg;
  }
}
