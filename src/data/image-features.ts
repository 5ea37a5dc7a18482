// Built-in image descriptors for raw photos (no network, no model): an HSV colour histogram and a
// HOG-like multi-scale gradient-orientation descriptor, each L2-normalised and weighted so both
// halves count equally, concatenated into one unit-length vector. Decoding/resizing is sharp's.
import { InputError, NotFoundError } from '../util/errors.js';
import { existsSync } from 'node:fs';

/** Side of the square the image is resized to before describing it. */
export const DESCRIBE_SIZE = 128;
export const HSV_BINS = { h: 8, s: 8, v: 4 } as const;
export const COLOUR_DIM = HSV_BINS.h * HSV_BINS.s * HSV_BINS.v; // 256
export const HOG_GRID = 4; export const HOG_BINS = 9; export const HOG_SCALES = 2;
export const TEXTURE_DIM = HOG_SCALES * HOG_GRID * HOG_GRID * HOG_BINS; // 288
export const IMAGE_DESCRIPTOR_DIM = COLOUR_DIM + TEXTURE_DIM; // 544

export interface RgbImage { data: Uint8Array; width: number; height: number }

/** Decodes a JPEG/PNG/… file into size×size RGB (EXIF orientation applied, aspect ignored; sharp's resampling kernel). */
export async function loadRgb(path: string, size = DESCRIBE_SIZE, kernel: 'lanczos3' | 'linear' = 'lanczos3'): Promise<RgbImage> {
  if (!existsSync(path)) throw new NotFoundError(`${path}: no such image`);
  const sharp = (await import('sharp')).default;
  try {
    const { data, info } = await sharp(path, { failOn: 'error' }).rotate().resize(size, size, { fit: 'fill', kernel }).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded ${info.channels} channels`);
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
  } catch (e) {
    throw new InputError(`${path}: cannot decode image (${(e as Error).message})`);
  }
}

/** 8×8×4 HSV histogram, L1-normalised (fractions of pixels). */
export function colourHistogram(img: RgbImage): Float32Array {
  const out = new Float32Array(COLOUR_DIM);
  const { data } = img; const n = img.width * img.height;
  for (let p = 0; p < n; p++) {
    const r = data[3 * p]! / 255, g = data[3 * p + 1]! / 255, b = data[3 * p + 2]! / 255;
    const max = Math.max(r, g, b), min = Math.min(r, g, b), d = max - min;
    let h = 0;
    if (d > 0) {
      if (max === r) h = ((g - b) / d + 6) % 6; else if (max === g) h = (b - r) / d + 2; else h = (r - g) / d + 4;
      h /= 6;
    }
    const s = max > 0 ? d / max : 0; const v = max;
    const hi = Math.min(HSV_BINS.h - 1, Math.floor(h * HSV_BINS.h));
    const si = Math.min(HSV_BINS.s - 1, Math.floor(s * HSV_BINS.s));
    const vi = Math.min(HSV_BINS.v - 1, Math.floor(v * HSV_BINS.v));
    out[(hi * HSV_BINS.s + si) * HSV_BINS.v + vi]! += 1;
  }
  if (n > 0) for (let i = 0; i < out.length; i++) out[i]! /= n;
  return out;
}

export function toGray(img: RgbImage): Float32Array {
  const n = img.width * img.height; const g = new Float32Array(n);
  for (let p = 0; p < n; p++) g[p] = 0.299 * img.data[3 * p]! + 0.587 * img.data[3 * p + 1]! + 0.114 * img.data[3 * p + 2]!;
  return g;
}

/** 2×2 box downsampling (next coarser scale). */
export function halve(g: Float32Array, w: number, h: number): { g: Float32Array; w: number; h: number } {
  const w2 = w >> 1, h2 = h >> 1; const o = new Float32Array(w2 * h2);
  for (let y = 0; y < h2; y++) for (let x = 0; x < w2; x++) {
    o[y * w2 + x] = 0.25 * (g[2 * y * w + 2 * x]! + g[2 * y * w + 2 * x + 1]! + g[(2 * y + 1) * w + 2 * x]! + g[(2 * y + 1) * w + 2 * x + 1]!);
  }
  return { g: o, w: w2, h: h2 };
}

/**
 * HOG-like descriptor of one scale: central-difference gradients, unsigned orientation in `bins`
 * bins (linear vote between neighbours), magnitudes summed per cell of a grid×grid layout,
 * then L2-Hys normalised (clip at 0.2, renormalise) as in Dalal & Triggs.
 */
export function gradientHistogram(g: Float32Array, w: number, h: number, grid = HOG_GRID, bins = HOG_BINS): Float32Array {
  const out = new Float32Array(grid * grid * bins);
  for (let y = 1; y < h - 1; y++) {
    const cy = Math.min(grid - 1, Math.floor((y * grid) / h));
    for (let x = 1; x < w - 1; x++) {
      const gx = g[y * w + x + 1]! - g[y * w + x - 1]!; const gy = g[(y + 1) * w + x]! - g[(y - 1) * w + x]!;
      const mag = Math.sqrt(gx * gx + gy * gy);
      if (mag === 0) continue;
      let ang = Math.atan2(gy, gx); if (ang < 0) ang += Math.PI; // unsigned: [0, π)
      const pos = (ang / Math.PI) * bins - 0.5;
      const b0 = Math.floor(pos); const frac = pos - b0;
      const cx = Math.min(grid - 1, Math.floor((x * grid) / w));
      const base = (cy * grid + cx) * bins;
      out[base + ((b0 + bins) % bins)]! += mag * (1 - frac);
      out[base + ((b0 + 1) % bins)]! += mag * frac;
    }
  }
  l2(out); for (let i = 0; i < out.length; i++) if (out[i]! > 0.2) out[i] = 0.2; l2(out);
  return out;
}

export function l2(v: Float32Array): Float32Array {
  let s = 0; for (let i = 0; i < v.length; i++) s += v[i]! * v[i]!;
  if (s > 0) { const k = 1 / Math.sqrt(s); for (let i = 0; i < v.length; i++) v[i]! *= k; }
  return v;
}

/** The full 544-d descriptor of decoded pixels: [colour (256) | texture (2 scales × 144)], unit L2 norm. */
export function describePixels(img: RgbImage): Float32Array {
  const colour = l2(colourHistogram(img));
  let gray = { g: toGray(img), w: img.width, h: img.height };
  const texture = new Float32Array(TEXTURE_DIM);
  const per = HOG_GRID * HOG_GRID * HOG_BINS;
  for (let s = 0; s < HOG_SCALES; s++) {
    texture.set(gradientHistogram(gray.g, gray.w, gray.h), s * per);
    gray = halve(gray.g, gray.w, gray.h);
  }
  l2(texture);
  const out = new Float32Array(IMAGE_DESCRIPTOR_DIM);
  // Equal weight per half (each half has unit norm, scaled by 1/√2), so the whole is unit length
  // unless a half is all zero (a blank image has no texture).
  const k = Math.SQRT1_2;
  for (let i = 0; i < COLOUR_DIM; i++) out[i] = colour[i]! * k;
  for (let i = 0; i < TEXTURE_DIM; i++) out[COLOUR_DIM + i] = texture[i]! * k;
  return out;
}

/** Describes one image file (decode + descriptor). */
export async function describeImage(path: string): Promise<Float32Array> {
  return describePixels(await loadRgb(path));
}
