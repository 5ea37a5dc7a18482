// Deep image features, offline: the CenterNet object detector (MobileNetV3 backbone, trained on
// COCO's 80 classes) that @vladmandic/human ships as a TensorFlow.js graph model
// (models/centernet.json + centernet.bin, 4.2 MB), run with TensorFlow.js on its WebAssembly
// backend (the .wasm binaries ship inside @tensorflow/tfjs-backend-wasm; nothing is downloaded).
// The model files are read in place from node_modules. Only tfjs-core, -converter and
// -backend-wasm are loaded; @vladmandic/human's own code is never imported.
//
// Features (560-d): the backbone's last feature map (node tower_0/extern1/hard_swish/mul_1,
// 16×16×480 at 512×512 input) averaged over space, and the 80 class heatmaps (tower_0/keypoints,
// 128×128×80, sigmoid) max-pooled over space ("is there a dog anywhere"); each part L2-normalised
// and scaled by 1/√2, so both count equally and the whole has unit length.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { NotFoundError } from '../../util/errors.js';
import { l2, loadRgb, type RgbImage } from '../image-features.js';
import type { ImageEncoder } from './encoder.js';

export const CENTERNET_INPUT = 512;
export const CENTERNET_BACKBONE_NODE = 'tower_0/extern1/hard_swish/mul_1';
export const CENTERNET_CLASSES_NODE = 'tower_0/keypoints';
export const CENTERNET_BACKBONE_DIM = 480;
export const CENTERNET_CLASSES_DIM = 80;
export const CENTERNET_DIM = CENTERNET_BACKBONE_DIM + CENTERNET_CLASSES_DIM;
/** Package whose model files are used, at the version package.json pins. */
export const CENTERNET_PACKAGE = '@vladmandic/human';

const require = createRequire(import.meta.url);

/** Where the model files are: node_modules/@vladmandic/human/models/centernet.{json,bin}. */
export function centernetModelFiles(): { json: string; bin: string; packageVersion: string } {
  let main: string;
  try { main = require.resolve(CENTERNET_PACKAGE); } catch {
    throw new NotFoundError(`the centernet image encoder needs the model files of ${CENTERNET_PACKAGE} (a dependency of cmhash); it is not installed: run 'npm install' (or use --encoder descriptor)`);
  }
  const root = join(dirname(main), '..');
  const json = join(root, 'models', 'centernet.json'); const bin = join(root, 'models', 'centernet.bin');
  if (!existsSync(json) || !existsSync(bin)) throw new NotFoundError(`${root}/models: centernet.json / centernet.bin missing; reinstall ${CENTERNET_PACKAGE}`);
  let packageVersion = 'unknown';
  try { packageVersion = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version ?? 'unknown'; } catch { /* version stays unknown */ }
  return { json, bin, packageVersion };
}

// Minimal shapes of the TensorFlow.js API used here (its typings assume a browser's DOM).
interface Tensor { shape: number[]; data(): Promise<Float32Array>; dispose(): void }
interface Tf {
  setBackend(name: string): Promise<boolean>; ready(): Promise<void>; getBackend(): string;
  tidy<T>(fn: () => T): T; tensor4d(v: Float32Array, shape: number[]): Tensor;
  mean(x: Tensor, axis: number[]): Tensor; max(x: Tensor, axis: number[]): Tensor; concat(xs: Tensor[], axis: number): Tensor;
  image: { resizeBilinear(x: Tensor, size: [number, number]): Tensor };
  io: { fromMemory(a: unknown): unknown }; env(): { set(k: string, v: unknown): void };
  version_core?: string;
}
interface GraphModel { execute(x: Tensor, outputs: string[]): Tensor[]; inputs: { name: string; shape?: number[] }[] }

let runtime: Promise<{ tf: Tf; model: GraphModel; version: string }> | null = null;

async function loadRuntime(): Promise<{ tf: Tf; model: GraphModel; version: string }> {
  const files = centernetModelFiles();
  let tf: Tf; let conv: { loadGraphModel(h: unknown): Promise<GraphModel> }; let wasm: { setWasmPaths(p: string): void; setThreadsCount?(n: number): void };
  try {
    tf = await import('@tensorflow/tfjs-core') as unknown as Tf;
    conv = await import('@tensorflow/tfjs-converter') as unknown as typeof conv;
    wasm = await import('@tensorflow/tfjs-backend-wasm') as unknown as typeof wasm;
  } catch (e) {
    throw new NotFoundError(`the centernet image encoder needs @tensorflow/tfjs-core, -converter and -backend-wasm (dependencies of cmhash): ${(e as Error).message.split('\n')[0]}; run 'npm install'`);
  }
  // The .wasm files sit next to the backend's entry point (dist/); a path, not a URL: Node reads them with fs.
  wasm.setWasmPaths(dirname(require.resolve('@tensorflow/tfjs-backend-wasm')) + '/');
  if (!(await tf.setBackend('wasm'))) throw new NotFoundError('TensorFlow.js: the WebAssembly backend failed to initialise');
  await tf.ready();
  const j = JSON.parse(readFileSync(files.json, 'utf8')) as { modelTopology: { node: { name: string; attr?: Record<string, { shape?: { dim?: { size: string }[] } }> }[] }; weightsManifest: { weights: unknown[] }[] };
  const bin = readFileSync(files.bin);
  const model = await conv.loadGraphModel(tf.io.fromMemory({
    modelTopology: j.modelTopology, weightSpecs: j.weightsManifest.flatMap((w) => w.weights),
    weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength),
  }));
  const version = `centernet-mnv3-coco/1 (${CENTERNET_PACKAGE}@${files.packageVersion} centernet.bin ${bin.length} B; tfjs-core ${tf.version_core ?? '?'} wasm; ${CENTERNET_INPUT}px bilinear; backbone mean + class max, l2 halves)`;
  return { tf, model, version };
}

function runtimeOnce(): Promise<{ tf: Tf; model: GraphModel; version: string }> {
  if (!runtime) { runtime = loadRuntime(); runtime.catch(() => { runtime = null; }); }
  return runtime;
}

/** RGB bytes (any size) → the 560-d CenterNet features. */
async function encode(tf: Tf, model: GraphModel, img: RgbImage): Promise<Float32Array> {
  const n = img.width * img.height * 3;
  const px = new Float32Array(n);
  for (let i = 0; i < n; i++) px[i] = img.data[i]!;
  const out = tf.tidy(() => {
    let x = tf.tensor4d(px, [1, img.height, img.width, 3]);
    if (img.width !== CENTERNET_INPUT || img.height !== CENTERNET_INPUT) x = tf.image.resizeBilinear(x, [CENTERNET_INPUT, CENTERNET_INPUT]);
    const [bb, cls] = model.execute(x, [CENTERNET_BACKBONE_NODE, CENTERNET_CLASSES_NODE]) as [Tensor, Tensor];
    return tf.concat([tf.mean(bb, [1, 2]), tf.max(cls, [1, 2])], 1);
  });
  const raw = await out.data(); out.dispose();
  const v = new Float32Array(CENTERNET_DIM);
  const bb = l2(raw.slice(0, CENTERNET_BACKBONE_DIM)); const cls = l2(raw.slice(CENTERNET_BACKBONE_DIM, CENTERNET_DIM));
  const k = Math.SQRT1_2;
  for (let i = 0; i < CENTERNET_BACKBONE_DIM; i++) v[i] = bb[i]! * k;
  for (let i = 0; i < CENTERNET_CLASSES_DIM; i++) v[CENTERNET_BACKBONE_DIM + i] = cls[i]! * k;
  return v;
}

/** Loads TensorFlow.js (WebAssembly) and the model once per process (~0.3 s), then encodes at ~2–3 images/s per thread. */
export async function loadCenterNetEncoder(): Promise<ImageEncoder> {
  const { tf, model, version } = await runtimeOnce();
  // One image at a time through the graph: TensorFlow.js's engine is not re-entrant across awaits.
  let chain: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => { const p = chain.then(fn, fn); chain = p.catch(() => undefined); return p; };
  return {
    name: 'centernet', id: 'centernet-mnv3-coco-560', dim: CENTERNET_DIM, version, inputSize: CENTERNET_INPUT, kernel: 'linear',
    encodePixels: (img) => serial(() => encode(tf, model, img)),
    encodeFile: async (path) => { const img = await loadRgb(path, CENTERNET_INPUT, 'linear'); return serial(() => encode(tf, model, img)); },
  };
}
