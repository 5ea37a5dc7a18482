// A tiny labelled two-modality set for fast method tests: each item has 1–2 of `classes` labels;
// image and text features are different random linear maps of the label vector (plus noise), so
// a method that learns anything cross-modal beats chance clearly. Deterministic from the seed.
import { Rng } from '../../src/util/rng.js';
import type { TrainingData } from '../../src/methods/hasher.js';

export function tinyData(n: number, seed: number, opts: { classes?: number; imageDim?: number; textDim?: number; noise?: number; mapSeed?: number } = {}): TrainingData {
  const C = opts.classes ?? 4, dx = opts.imageDim ?? 24, dy = opts.textDim ?? 12, noise = opts.noise ?? 0.3;
  const mapRng = new Rng(opts.mapSeed ?? 99); // the same maps for every split drawn from one "dataset"
  const Wx = Float32Array.from({ length: C * dx }, () => mapRng.normal());
  const Wy = Float32Array.from({ length: C * dy }, () => mapRng.normal());
  const rng = new Rng(seed);
  const labels = new Uint8Array(n * C), image = new Float32Array(n * dx), text = new Float32Array(n * dy);
  for (let i = 0; i < n; i++) {
    labels[i * C + rng.int(C)] = 1;
    if (rng.uniform() < 0.25) labels[i * C + rng.int(C)] = 1;
    for (let j = 0; j < dx; j++) { let s = 0; for (let k = 0; k < C; k++) s += labels[i * C + k]! * Wx[k * dx + j]!; image[i * dx + j] = Math.tanh(s) + noise * rng.normal(); }
    for (let j = 0; j < dy; j++) { let s = 0; for (let k = 0; k < C; k++) s += labels[i * C + k]! * Wy[k * dy + j]!; text[i * dy + j] = Math.max(0, s) + noise * rng.normal(); }
  }
  return { n, imageDim: dx, textDim: dy, image, text, labels, numClasses: C };
}
