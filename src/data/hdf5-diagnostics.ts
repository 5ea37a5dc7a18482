// HDF5 (inside h5wasm) prints its error stack — many "HDF5-DIAG: … #003: H5VLcallback.c line …"
// lines — straight to the process's stderr, and h5wasm then throws messages such as
// "error - name not defined!". Here the library's stderr is sent to a private temp file instead,
// and a failure is explained in one line from the deepest frame of the first stack (e.g.
// "truncated file: eof = 1168024, …"), so a damaged file gives one clear error and no noise.
import { closeSync, fstatSync, ftruncateSync, openSync, readSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CmhashError, CorruptDataError } from '../util/errors.js';

let diagFd = -1;

/** Redirects h5wasm's stderr (fd 2 of its NODERAWFS file system) to a temp file. Idempotent. */
export function captureH5Diagnostics(h5: unknown): void {
  if (diagFd >= 0) return;
  const stream = (h5 as { FS?: { streams?: ({ nfd?: number } | null)[] } }).FS?.streams?.[2];
  if (!stream || typeof stream.nfd !== 'number') return; // another h5wasm build: leave it alone
  const file = join(tmpdir(), `cmhash-hdf5-diag-${process.pid}-${Date.now()}.txt`);
  // append mode: after a truncate the next write lands at offset 0 again
  diagFd = openSync(file, 'a+', 0o600);
  try { unlinkSync(file); } catch { /* Windows keeps open files; it is tiny and in tmp */ }
  stream.nfd = diagFd;
  process.once('exit', () => { try { closeSync(diagFd); } catch { /* already closed */ } });
}

/** Text HDF5 printed since the last call (cleared afterwards). */
export function takeH5Diagnostics(): string {
  if (diagFd < 0) return '';
  const size = Math.min(fstatSync(diagFd).size, 1 << 20);
  const buf = Buffer.alloc(size);
  if (size > 0) readSync(diagFd, buf, 0, size, 0);
  ftruncateSync(diagFd, 0);
  return buf.toString('utf8');
}

/** The deepest frame's message of the first error stack in HDF5's printout, or ''. */
export function h5Reason(diag: string): string {
  const stack = diag.split(/HDF5-DIAG: Error detected[^\n]*\n/).find((s) => s.trim() !== '') ?? '';
  const frames = [...stack.matchAll(/#\d+: .*? in [\w.]+\(\): ([^\n]+)/g)].map((m) => m[1]!.trim());
  return frames.at(-1) ?? '';
}

/**
 * The one error for a failed h5wasm call on `path`: errors of our own pass through; anything from
 * the library becomes a CorruptDataError (exit 4) naming the file and the library's reason.
 */
export function h5Error(path: string, e: unknown, what: string): CmhashError {
  const diag = takeH5Diagnostics();
  if (e instanceof CmhashError) return e;
  const thrown = e instanceof Error ? e.message : String(e);
  // h5wasm's own messages say little ("error - name not defined!" = an object could not be opened)
  const fallback = /name not defined/.test(thrown) ? 'an object in the file cannot be opened' : thrown.split('\n')[0]!;
  return new CorruptDataError(`${path}: damaged or unreadable HDF5 file — ${what}: ${h5Reason(diag) || fallback}`);
}

/**
 * h5wasm sometimes swallows a failure (an unreadable object comes back as an empty Group): when
 * HDF5 printed an error since the last check, that is the failure.
 */
export function assertH5Quiet(path: string, what: string): void {
  const diag = takeH5Diagnostics();
  if (!diag.includes('HDF5-DIAG')) return;
  throw new CorruptDataError(`${path}: damaged or unreadable HDF5 file — ${what}: ${h5Reason(diag) || 'HDF5 reported an error'}`);
}
