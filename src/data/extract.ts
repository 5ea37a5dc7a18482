// Feature extraction over a folder of images, resumable: every finished image is appended as one
// JSON line to a partial-results file, so an interrupted run picks up where it stopped (a line cut
// short by a crash is ignored and that image is redone).
import { appendFileSync, existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { InputError, NotFoundError } from '../util/errors.js';
import { describeImage, IMAGE_DESCRIPTOR_DIM } from './image-features.js';

export const IMAGE_EXTENSIONS = /\.(jpe?g|png|webp|gif|tiff?|bmp|avif)$/i;

export interface ExtractOptions {
  /** Partial-results file (JSONL). Created if missing; reused when `resume` is on. */
  partialFile: string;
  resume?: boolean;
  /** Descriptor (default: the built-in 544-d colour + texture descriptor). */
  describe?: (path: string) => Promise<Float32Array>;
  dim?: number;
  onProgress?: (done: number, total: number, file: string) => void;
  /** Stop after this many new images (for tests of resumption). */
  limit?: number;
}

export interface ExtractResult {
  /** File names relative to the folder, in the order of the rows. */
  ids: string[];
  files: string[];
  dim: number;
  /** ids.length × dim, row-major; rows of failed images are zero. */
  features: Float32Array;
  ok: Uint8Array;
  failed: { id: string; error: string }[];
  /** Rows taken from the partial file instead of recomputed. */
  resumed: number;
  complete: boolean;
}

/** Image files of a folder in natural order (im2 before im10). */
export function listImages(dir: string): string[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new NotFoundError(`${dir}: no such folder`);
  const collator = new Intl.Collator('en', { numeric: true });
  return readdirSync(dir).filter((f) => IMAGE_EXTENSIONS.test(f)).sort(collator.compare);
}

function readPartial(path: string, dim: number): Map<string, Float32Array> {
  const done = new Map<string, Float32Array>();
  if (!existsSync(path)) return done;
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    let rec: { id?: string; dim?: number; f?: string };
    try { rec = JSON.parse(line); } catch { continue; } // torn last line
    if (typeof rec.id !== 'string' || typeof rec.f !== 'string') continue;
    if (rec.dim !== dim) throw new InputError(`${path}: partial results have dim ${rec.dim}, this extraction makes ${dim}; delete the file or use another --out`);
    const b = Buffer.from(rec.f, 'base64');
    if (b.length !== dim * 4) continue;
    const v = new Float32Array(dim); new Uint8Array(v.buffer).set(b);
    done.set(rec.id, v);
  }
  return done;
}

/**
 * Describes every image in `dirOrFiles` (a folder, or explicit paths with a base folder for ids).
 * Failures (undecodable files) are recorded, not fatal; they are retried on the next resume.
 */
export async function extractImages(dirOrFiles: string | { base: string; files: string[] }, o: ExtractOptions): Promise<ExtractResult> {
  const base = typeof dirOrFiles === 'string' ? resolve(dirOrFiles) : resolve(dirOrFiles.base);
  const ids = typeof dirOrFiles === 'string' ? listImages(base) : dirOrFiles.files;
  const dim = o.dim ?? IMAGE_DESCRIPTOR_DIM;
  const describe = o.describe ?? describeImage;
  const done = o.resume === false ? new Map<string, Float32Array>() : readPartial(o.partialFile, dim);
  const features = new Float32Array(ids.length * dim); const ok = new Uint8Array(ids.length);
  const failed: { id: string; error: string }[] = [];
  let resumed = 0; let fresh = 0; let complete = true;
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    const prev = done.get(id);
    if (prev) { features.set(prev, i * dim); ok[i] = 1; resumed++; o.onProgress?.(i + 1, ids.length, id); continue; }
    if (o.limit !== undefined && fresh >= o.limit) { complete = false; break; }
    const file = join(base, id);
    try {
      const v = await describe(file);
      if (v.length !== dim) throw new InputError(`descriptor returned ${v.length} values, expected ${dim}`);
      features.set(v, i * dim); ok[i] = 1;
      appendFileSync(o.partialFile, JSON.stringify({ id, dim, f: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') }) + '\n');
    } catch (e) {
      failed.push({ id, error: (e as Error).message });
    }
    fresh++;
    o.onProgress?.(i + 1, ids.length, id);
  }
  return { ids, files: ids.map((f) => join(base, f)), dim, features, ok, failed, resumed, complete };
}
