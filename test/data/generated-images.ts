// Generated test photos (no data files): a colour gradient with a bright disc.
import sharp from 'sharp';

/** A w×h PNG: a colour gradient with a bright disc whose place and colour depend on k. */
export async function generatedImage(path: string, k: number, w = 96, h = 80): Promise<void> {
  const px = Buffer.alloc(w * h * 3);
  const cx = (17 * k) % w, cy = (29 * k) % h, r = 12 + (k % 5) * 4;
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const p = 3 * (y * w + x); const inDisc = (x - cx) ** 2 + (y - cy) ** 2 < r * r;
    px[p] = inDisc ? (80 * k) % 256 : (x * 255) / w; px[p + 1] = inDisc ? 255 - ((40 * k) % 256) : (y * 255) / h; px[p + 2] = inDisc ? 30 : ((x + y) * 97 + k * 50) % 256;
  }
  await sharp(px, { raw: { width: w, height: h, channels: 3 } }).png().toFile(path);
}
