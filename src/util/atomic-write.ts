// Atomic file writes: a crash mid-write leaves the previous file (or none), never half a file.
// Temp file in the same folder, fsync, rename over the target, fsync the folder.
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { crashPoint } from './crash-points.js';

let counter = 0;

export function writeFileAtomic(path: string, data: string | Uint8Array | readonly Uint8Array[]): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  const chunks = typeof data === 'string' ? [Buffer.from(data, 'utf8')] : data instanceof Uint8Array ? [data] : data;
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${++counter}.tmp`);
  const fd = openSync(tmp, 'w');
  crashPoint(`${basename(path)}: temp file created`);
  try {
    for (const ch of chunks) {
      let off = 0;
      while (off < ch.byteLength) off += writeSync(fd, ch, off, ch.byteLength - off);
    }
    crashPoint(`${basename(path)}: written, not synced`);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    try { unlinkSync(tmp); } catch { /* already gone */ }
    throw e;
  }
  closeSync(fd);
  crashPoint(`${basename(path)}: synced, not renamed`);
  renameSync(tmp, path);
  crashPoint(`${basename(path)}: renamed, folder not synced`);
  fsyncDir(dir);
  crashPoint(`${basename(path)}: durable`);
}

export function fsyncDir(dir: string): void {
  try { const fd = openSync(dir, 'r'); try { fsyncSync(fd); } finally { closeSync(fd); } } catch { /* not supported here */ }
}
