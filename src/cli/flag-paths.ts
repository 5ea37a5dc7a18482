// Files and folders named by command-line flags, to read or to write: a missing or wrong-kind path
// is reported as `--flag path: …` with the exit code of its kind (3 not found, 2 bad input), never
// as a raw ENOENT / EISDIR / EEXIST from the file system.
import { mkdirSync, readFileSync, statSync, type Stats } from 'node:fs';
import { InputError, NotFoundError } from '../util/errors.js';

const codeOf = (e: unknown): string => (e as NodeJS.ErrnoException).code ?? (e as Error).message;

function statOf(flag: string, path: string, what: 'file' | 'folder'): Stats {
  try { return statSync(path); } catch (e) {
    if (codeOf(e) === 'ENOENT' || codeOf(e) === 'ENOTDIR') throw new NotFoundError(`${flag} ${path}: no such ${what}`);
    throw new InputError(`${flag} ${path}: cannot be read (${codeOf(e)})`);
  }
}

/** Checks that `path` is an existing file before a reader elsewhere opens it; returns it. */
export function checkFlagFile(flag: string, path: string): string {
  if (statOf(flag, path, 'file').isDirectory()) throw new InputError(`${flag} ${path}: a folder, expected a file`);
  return path;
}

/** The bytes of the file named by `flag`. */
export function readFlagFile(flag: string, path: string): Buffer {
  checkFlagFile(flag, path);
  try { return readFileSync(path); } catch (e) {
    // removed or made unreadable between the check and the read
    if (codeOf(e) === 'ENOENT') throw new NotFoundError(`${flag} ${path}: no such file`);
    throw new InputError(`${flag} ${path}: cannot be read (${codeOf(e)})`);
  }
}

/** Checks that `path` is an existing folder (something to read from); returns it. */
export function checkFlagFolder(flag: string, path: string): string {
  if (!statOf(flag, path, 'folder').isDirectory()) throw new InputError(`${flag} ${path}: not a folder`);
  return path;
}

/** Checks, before any work is done, that the output file named by `flag` is not a folder; returns it. */
export function checkOutputFile(flag: string, path: string): string {
  let st: Stats;
  try { st = statSync(path); } catch { return path; } // absent: the writer creates it (and its folders)
  if (st.isDirectory()) throw new InputError(`${flag} ${path}: a folder, expected a file`);
  return path;
}

/** Creates the output folder named by `flag` (and its parents) unless it exists; returns it. */
export function makeFlagFolder(flag: string, path: string): string {
  try { mkdirSync(path, { recursive: true }); } catch (e) {
    if (codeOf(e) === 'EEXIST') throw new InputError(`${flag} ${path}: exists and is not a folder`);
    if (codeOf(e) === 'ENOTDIR') throw new InputError(`${flag} ${path}: a part of the path is a file, not a folder`);
    throw new InputError(`${flag} ${path}: cannot be created (${codeOf(e)})`);
  }
  return path;
}
