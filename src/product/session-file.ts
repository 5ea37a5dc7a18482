// A session's arrays go from the relay thread to the training process through a file, not the
// process pipe: sending ~4.6 MB through the pipe made the relay serialise it into a buffer of that
// size in the service's own memory map — ~1,100 fresh pages, faulted in just as the job started,
// while the serving thread stalled 14–20 ms blocked (bench serve-train --stalls). Written straight
// from the arrays the serving thread transferred (no copy in user space; the page cache is not the
// process's memory), read by the training process into its own memory, then removed.
import { closeSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import type { SessionData } from '../methods/hasher.js';

/** Where a session's arrays are: the file, and each array's length in elements, in file order. */
export interface SessionArraysFile { path: string; image: number; text: number; labels: number }

type Arrays = Pick<SessionData, 'image' | 'text' | 'labels'>;

function writeAll(fd: number, a: ArrayBufferView): void {
  const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  for (let at = 0; at < bytes.length;) at += writeSync(fd, bytes, at, bytes.length - at);
}

function readAll(fd: number, into: ArrayBufferView, path: string): void {
  const bytes = new Uint8Array(into.buffer, into.byteOffset, into.byteLength);
  for (let at = 0; at < bytes.length;) {
    const n = readSync(fd, bytes, at, bytes.length - at, null);
    if (n === 0) throw new Error(`${path}: session file ends after ${at} of ${bytes.length} bytes`);
    at += n;
  }
}

/** Writes the session's image, text and label arrays to `path` (created, owner-only). */
export function writeSessionArrays(path: string, s: Arrays): SessionArraysFile {
  const fd = openSync(path, 'wx', 0o600);
  try { writeAll(fd, s.image); writeAll(fd, s.text); writeAll(fd, s.labels); } finally { closeSync(fd); }
  return { path, image: s.image.length, text: s.text.length, labels: s.labels.length };
}

/** Reads the arrays back into fresh memory of this process and removes the file. */
export function readSessionArrays(f: SessionArraysFile): Arrays {
  const out: Arrays = { image: new Float32Array(f.image), text: new Float32Array(f.text), labels: new Uint8Array(f.labels) };
  const fd = openSync(f.path, 'r');
  try { readAll(fd, out.image, f.path); readAll(fd, out.text, f.path); readAll(fd, out.labels, f.path); } finally { closeSync(fd); }
  unlinkSync(f.path);
  return out;
}
