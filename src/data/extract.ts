// Feature extraction over a folder of images, resumable: every finished image is appended as one
// JSON line to a partial-results file, so an interrupted run picks up where it stopped (a line cut
// short by a crash is ignored and that image is redone). Each line names the encoder version that
// made it and the file's size and mtime when it was read: a line is reused only for the same
// encoder version and an unchanged file (lines of another encoder, of a replaced or touched file,
// or without size/mtime are misses), so a cache never hands back features of an older photo.
// Caches live in a cache folder (--cache-dir, $CMHASH_CACHE, $XDG_CACHE_HOME/cmhash or
// ~/.cache/cmhash), never inside the data folder: one file per image folder (extractionCacheFile)
// or per manifest (manifestCacheFile) and encoder.
import { appendFileSync, existsSync, mkdirSync, readFileSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { homedir } from 'node:os';
import { basename, dirname, join, relative, resolve, isAbsolute, sep } from 'node:path';
import { InputError, NotFoundError } from '../util/errors.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { describeImage, IMAGE_DESCRIPTOR_DIM } from './image-features.js';
import { defaultImageEncoderName, imageEncoderEntry } from './image-encoders/encoder.js';
import { descriptorEncoder } from './image-encoders/descriptor.js';
import { EncoderPool } from './image-encoders/pool.js';

/** File extensions read as images (any case). */
export const IMAGE_EXTENSION_LIST = ['.jpg', '.jpeg', '.png', '.webp', '.gif', '.tif', '.tiff', '.bmp', '.avif'];
export const IMAGE_EXTENSIONS = new RegExp(`(${IMAGE_EXTENSION_LIST.map((e) => e.replace('.', '\\.')).join('|')})$`, 'i');

export interface ExtractOptions {
  /** Partial-results file (JSONL). Created if missing; reused when `resume` is on. */
  partialFile: string;
  resume?: boolean;
  /** Image encoder by name (descriptor, centernet); default $CMHASH_IMAGE_ENCODER or descriptor. Ignored when `describe` is given. */
  encoder?: string;
  /** Threads (worker threads, each with its own encoder); default 1. */
  threads?: number;
  /** A custom descriptor function instead of a named encoder (with `dim` and `version`). */
  describe?: (path: string) => Promise<Float32Array>;
  dim?: number;
  version?: string;
  onProgress?: (done: number, total: number, file: string) => void;
  /** Stop after this many new images (for tests of resumption). */
  limit?: number;
  /**
   * After a complete run without failures, rewrite the partial file to hold just this run's rows
   * when it holds others (rows of replaced files, of images no longer asked for, of older encoder
   * versions): for a cache kept across runs, which would otherwise grow with every change.
   */
  compact?: boolean;
}

export interface ExtractResult {
  /** File names relative to the folder, in the order of the rows. */
  ids: string[];
  files: string[];
  dim: number;
  /** Encoder name and version string that made the rows. */
  encoder: string;
  version: string;
  /** ids.length × dim, row-major; rows of failed images are zero. */
  features: Float32Array;
  ok: Uint8Array;
  failed: { id: string; error: string }[];
  /** Rows taken from the partial file instead of recomputed. */
  resumed: number;
  complete: boolean;
}

/** Image files of a folder in natural order (im2 before im10); a folder without any is bad input. */
export function listImages(dir: string): string[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new NotFoundError(`${dir}: no such folder`);
  const collator = new Intl.Collator('en', { numeric: true });
  const names = readdirSync(dir);
  const images = names.filter((f) => IMAGE_EXTENSIONS.test(f)).sort(collator.compare);
  if (images.length === 0) {
    const others = names.sort(collator.compare);
    const found = others.length === 0 ? 'the folder is empty' : `found ${others.length} other file${others.length === 1 ? '' : 's'}: ${others.slice(0, 5).join(', ')}${others.length > 5 ? ', …' : ''}`;
    throw new InputError(`no images in folder ${dir} (looked for ${IMAGE_EXTENSION_LIST.join(', ')}, any case; ${found})`);
  }
  return images;
}

/** A cached row and the file it was computed from (size in bytes, mtime in ms). */
interface PartialRecord { v: Float32Array; size: number; mtime: number; line: string }

/** The file's size and mtime, or null when it cannot be read (the encoder then reports why). */
function fileStamp(path: string): { size: number; mtime: number } | null {
  try { const st = statSync(path); return { size: st.size, mtime: st.mtimeMs }; } catch { return null; }
}

/**
 * Partial records made by `version` that name the file's size and mtime (the last line of an id
 * wins), and the number of lines in the file.
 */
function readPartial(path: string, dim: number, version: string): { done: Map<string, PartialRecord>; lines: number } {
  const done = new Map<string, PartialRecord>(); let lines = 0;
  if (!existsSync(path)) return { done, lines };
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    lines++;
    let rec: { id?: string; dim?: number; enc?: string; size?: number; mtime?: number; f?: string };
    try { rec = JSON.parse(line); } catch { continue; } // torn last line
    if (typeof rec.id !== 'string' || typeof rec.f !== 'string') continue;
    if (rec.enc !== version) continue; // another encoder's row (or one from before versions were written)
    if (rec.dim !== dim) throw new InputError(`${path}: partial results of ${version} have dim ${rec.dim}, this extraction makes ${dim}; delete the file or use another cache`);
    if (typeof rec.size !== 'number' || typeof rec.mtime !== 'number') continue; // from before files were stamped: cannot tell if still valid
    const b = Buffer.from(rec.f, 'base64');
    if (b.length !== dim * 4) continue;
    const v = new Float32Array(dim); new Uint8Array(v.buffer).set(b);
    done.set(rec.id, { v, size: rec.size, mtime: rec.mtime, line });
  }
  return { done, lines };
}

/**
 * Encodes every image in `dirOrFiles` (a folder, or explicit paths with a base folder for ids).
 * Failures (undecodable files) are recorded, not fatal; they are retried on the next resume.
 */
export async function extractImages(dirOrFiles: string | { base: string; files: string[] }, o: ExtractOptions): Promise<ExtractResult> {
  const base = typeof dirOrFiles === 'string' ? resolve(dirOrFiles) : resolve(dirOrFiles.base);
  const ids = typeof dirOrFiles === 'string' ? listImages(base) : dirOrFiles.files;
  let pool: EncoderPool | null = null;
  let describe: (path: string) => Promise<Float32Array>; let dim: number; let version: string; let encoder: string;
  if (o.describe) {
    describe = o.describe; dim = o.dim ?? IMAGE_DESCRIPTOR_DIM; version = o.version ?? 'custom'; encoder = 'custom';
  } else {
    encoder = imageEncoderEntry(o.encoder ?? defaultImageEncoderName()).name;
    if (encoder === 'descriptor' && (o.threads ?? 1) === 1) { describe = describeImage; dim = IMAGE_DESCRIPTOR_DIM; version = descriptorEncoder.version; }
    else { pool = await EncoderPool.open(encoder, o.threads ?? 1); describe = (p) => pool!.encodeFile(p); dim = pool.dim; version = pool.version; }
  }
  try {
    const { done, lines: linesBefore } = o.resume === false ? { done: new Map<string, PartialRecord>(), lines: 0 } : readPartial(o.partialFile, dim, version);
    if (!existsSync(dirname(resolve(o.partialFile)))) mkdirSync(dirname(resolve(o.partialFile)), { recursive: true });
    // A run killed mid-write leaves a line without its newline: end it, so the next record starts a line of its own.
    if (existsSync(o.partialFile)) { const b = readFileSync(o.partialFile); if (b.length > 0 && b[b.length - 1] !== 0x0a) appendFileSync(o.partialFile, '\n'); }
    const features = new Float32Array(ids.length * dim); const ok = new Uint8Array(ids.length);
    const failed: { id: string; error: string }[] = [];
    const rowLines = new Map<string, string>(); // id → the cache line of its row now, for compact
    let resumed = 0; let fresh = 0; let complete = true; let progressed = 0; let written = 0;
    const window = Math.max(1, 2 * (o.threads ?? 1));
    const todo: number[] = [];
    for (let i = 0; i < ids.length; i++) {
      const prev = done.get(ids[i]!);
      const now = prev ? fileStamp(join(base, ids[i]!)) : null;
      if (prev && now && now.size === prev.size && now.mtime === prev.mtime) { features.set(prev.v, i * dim); ok[i] = 1; resumed++; rowLines.set(ids[i]!, prev.line); o.onProgress?.(++progressed, ids.length, ids[i]!); continue; }
      todo.push(i);
    }
    const one = async (i: number) => {
      const id = ids[i]!;
      try {
        // stamped before reading: a file changed while it is described is redone next time
        const stamp = fileStamp(join(base, id));
        const v = await describe(join(base, id));
        if (v.length !== dim) throw new InputError(`descriptor returned ${v.length} values, expected ${dim}`);
        features.set(v, i * dim); ok[i] = 1;
        if (stamp) {
          const line = JSON.stringify({ id, dim, enc: version, size: stamp.size, mtime: stamp.mtime, f: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') });
          appendFileSync(o.partialFile, line + '\n'); rowLines.set(id, line); written++;
        }
      } catch (e) {
        failed.push({ id, error: (e as Error).message });
      }
      o.onProgress?.(++progressed, ids.length, id);
    };
    for (let s = 0; s < todo.length; s += window) {
      let batch = todo.slice(s, s + window);
      if (o.limit !== undefined) { batch = batch.slice(0, Math.max(0, o.limit - fresh)); if (batch.length === 0) { complete = false; break; } }
      await Promise.all(batch.map(one));
      fresh += batch.length;
    }
    if (o.compact && complete && failed.length === 0 && linesBefore + written > rowLines.size) writeFileAtomic(o.partialFile, [...rowLines.values()].join('\n') + '\n');
    return { ids, files: ids.map((f) => join(base, f)), dim, encoder, version, features, ok, failed, resumed, complete };
  } finally {
    await pool?.close();
  }
}

/** The cache folder: $CMHASH_CACHE, else $XDG_CACHE_HOME/cmhash, else ~/.cache/cmhash. */
export function defaultCacheDir(): string {
  if (process.env.CMHASH_CACHE) return resolve(process.env.CMHASH_CACHE);
  if (process.env.XDG_CACHE_HOME) return join(resolve(process.env.XDG_CACHE_HOME), 'cmhash');
  return join(homedir(), '.cache', 'cmhash');
}

function real(p: string): string {
  // The nearest existing ancestor, resolved through symlinks, plus the rest of the path.
  let cur = resolve(p); const rest: string[] = [];
  while (!existsSync(cur)) { const up = dirname(cur); if (up === cur) break; rest.unshift(basename(cur)); cur = up; }
  try { cur = realpathSync(cur); } catch { /* keep as is */ }
  return join(cur, ...rest);
}

function inside(child: string, parent: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (!rel.startsWith('..' + sep) && rel !== '..' && !isAbsolute(rel));
}

/**
 * The data folders an image folder belongs to: itself, and the nearest ancestor (up to 3 levels)
 * that is a dataset root (holds a manifest.json or README.md next to data), e.g. mirflickr25k/ for
 * mirflickr25k/images.
 */
export function dataFoldersOf(folder: string): string[] {
  const out = [real(folder)];
  let cur = out[0]!;
  for (let k = 0; k < 3; k++) {
    const up = dirname(cur); if (up === cur) break; cur = up;
    if (existsSync(join(cur, 'manifest.json'))) { out.push(cur); break; }
  }
  return out;
}

/**
 * Refuses a cache (or partial-results) location inside the data folder being read. The home folder
 * itself does not count as one: it holds the default cache (~/.cache), and data kept directly in ~
 * (a manifest there) is not written into by a cache under ~/.cache.
 */
export function checkCacheOutsideData(cachePath: string, dataFolder: string): void {
  const c = real(cachePath); const home = real(homedir());
  for (const d of dataFoldersOf(dataFolder)) {
    if (d === home) continue;
    if (inside(c, d)) throw new InputError(`${cachePath}: caches never go inside the data folder ${d}; pass --cache-dir somewhere else (default ${defaultCacheDir()})`);
  }
}

/** <cacheDir, default <cache>/extract>/<name>-<hash of the absolute path>.<encoder>.partial.jsonl */
function cacheFileFor(abs: string, encoder: string, cacheDir?: string): string {
  const dir = cacheDir ? resolve(cacheDir) : join(defaultCacheDir(), 'extract');
  const key = createHash('sha256').update(abs).digest('hex').slice(0, 12);
  return join(dir, `${basename(abs) || 'root'}-${key}.${imageEncoderEntry(encoder).name}.partial.jsonl`);
}

/**
 * The partial-results file of one (folder, encoder) extraction: <cacheDir>/<folder name>-<hash of
 * its absolute path>.<encoder>.partial.jsonl, cacheDir defaulting to <cache>/extract; refused
 * inside the data folder.
 */
export function extractionCacheFile(folder: string, encoder: string, cacheDir?: string): string {
  const file = cacheFileFor(real(folder), encoder, cacheDir);
  checkCacheOutsideData(file, folder);
  return file;
}

/**
 * The image-feature cache of a manifest, by the same rules: <cacheDir>/<manifest file name>-<hash
 * of its absolute path>.<encoder>.partial.jsonl; refused inside the manifest's folder (its data folder).
 */
export function manifestCacheFile(manifest: string, encoder: string, cacheDir?: string): string {
  const abs = real(manifest);
  const file = cacheFileFor(abs, encoder, cacheDir);
  checkCacheOutsideData(file, dirname(abs));
  return file;
}
