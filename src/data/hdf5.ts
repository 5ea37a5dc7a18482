// Generic HDF5 access through h5wasm (HDF5 compiled to WebAssembly; its Node build reads files
// from the real filesystem). Loaders for .h5 files and MATLAB v7.3 files sit on top of this.
// Every read checks the claimed size against a bound derived from the file size before h5wasm
// allocates, so a corrupt header cannot trigger an unbounded allocation. A damaged file gives one
// CorruptDataError (exit 4) naming it; HDF5's own diagnostics are kept off stderr (hdf5-diagnostics.ts).
import { statSync, openSync, readSync, closeSync, renameSync, existsSync, unlinkSync } from 'node:fs';
import { CorruptDataError, InputError, NotFoundError } from '../util/errors.js';
import { assertH5Quiet, captureH5Diagnostics, h5Error, takeH5Diagnostics } from './hdf5-diagnostics.js';
import { DTYPE_BYTES, elementCount, type DType, type NdArray, type TypedData } from './ndarray.js';

type H5Module = typeof import('h5wasm');
let h5Promise: Promise<H5Module> | null = null;

/** The initialised h5wasm module (loaded once). */
export async function h5wasm(): Promise<H5Module> {
  h5Promise ??= (async () => {
    const mod = (await import('h5wasm/node')) as unknown as { default: H5Module } & H5Module;
    const h5 = (mod.default ?? mod) as H5Module;
    await h5.ready;
    captureH5Diagnostics(mod); // the module namespace holds the live FS binding (default export does not)
    return h5;
  })();
  return h5Promise;
}

const HDF5_MAGIC = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

/** Offset of the HDF5 superblock (0, 512, 1024, … — MATLAB v7.3 files start at 512), or -1. */
export function hdf5SignatureOffset(path: string): number {
  const fd = openSync(path, 'r');
  try {
    const size = statSync(path).size;
    const buf = Buffer.alloc(8);
    for (let off = 0; off + 8 <= size && off <= 1 << 20; off = off === 0 ? 512 : off * 2) {
      readSync(fd, buf, 0, 8, off);
      if (HDF5_MAGIC.every((b, i) => buf[i] === b)) return off;
    }
    return -1;
  } finally { closeSync(fd); }
}

export interface H5DatasetInfo { name: string; shape: number[]; dtype: DType | string; attrs: Record<string, unknown> }

type H5File = InstanceType<H5Module['File']>;
type H5Dataset = InstanceType<H5Module['Dataset']>;
type H5Group = InstanceType<H5Module['Group']>;

/** Opens an HDF5 file read-only, with clear errors for missing / non-HDF5 files. */
export async function openH5(path: string): Promise<H5File> {
  if (!existsSync(path)) throw new NotFoundError(`${path}: no such file`);
  if (hdf5SignatureOffset(path) < 0) throw new CorruptDataError(`${path}: not an HDF5 file (no HDF5 signature at byte 0/512/1024/…)`);
  const h5 = await h5wasm();
  takeH5Diagnostics(); // start from a clean slate: what follows belongs to this file
  let f: H5File;
  try { f = new h5.File(path, 'r'); } catch (e) { throw h5Error(path, e, 'cannot open'); }
  // h5wasm does not throw when HDF5 refuses the file: it hands back a negative id
  if (f.file_id < 0n) throw h5Error(path, new Error('HDF5 refused to open the file'), 'cannot open');
  return f;
}

/** Closes a file, ignoring what HDF5 says about handles a damaged file left invalid. */
export function closeH5(f: H5File): void {
  try { f.close(); } catch { /* already invalid */ }
  takeH5Diagnostics();
}

export function dtypeOf(meta: { type: number; size: number; signed: boolean }): DType | null {
  if (meta.type === 1) return meta.size === 4 ? 'float32' : meta.size === 8 ? 'float64' : null;
  if (meta.type === 0) {
    const table: Record<number, [DType, DType]> = { 1: ['int8', 'uint8'], 2: ['int16', 'uint16'], 4: ['int32', 'uint32'], 8: ['int64', 'uint64'] };
    const pair = table[meta.size]; return pair ? (meta.signed ? pair[0] : pair[1]) : null;
  }
  if (meta.type === 8 && meta.size === 1) return 'uint8'; // enum-backed booleans (h5py bool)
  return null;
}

function attrsOf(obj: H5Dataset | H5Group): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  try { for (const k of Object.keys(obj.attrs)) { try { out[k] = obj.get_attribute(k, true); } catch { /* unreadable attribute */ } } } catch { /* none */ }
  return out;
}

/** Lists every dataset in the file (recursively), with shape, dtype and attributes. */
export async function listH5(path: string): Promise<H5DatasetInfo[]> {
  const f = await openH5(path);
  try {
    const out: H5DatasetInfo[] = [];
    const h5 = await h5wasm();
    const walk = (g: H5Group, prefix: string) => {
      for (const k of g.keys()) {
        const e = g.get(k);
        const name = prefix ? `${prefix}/${k}` : k;
        if (e instanceof h5.Dataset) out.push({ name, shape: e.shape ?? [], dtype: dtypeOf(e.metadata) ?? String(e.dtype), attrs: attrsOf(e) });
        else if (e instanceof h5.Group) walk(e, name);
      }
    };
    walk(f, '');
    assertH5Quiet(path, 'listing datasets');
    return out;
  } catch (e) {
    throw h5Error(path, e, 'listing datasets');
  } finally { closeH5(f); }
}

/** Biggest byte size we let h5wasm materialise for one dataset of a file of `fileBytes` bytes. */
export function h5ReadLimit(fileBytes: number): number {
  // deflate cannot expand more than ~1032×; uncompressed data can never exceed the file.
  return Math.min(2 ** 31, Math.max(64 * 2 ** 20, fileBytes * 1100));
}

/** Reads one dataset of an open file as stored (C order over the HDF5 shape). */
export function readH5DatasetFrom(f: H5File, h5: H5Module, path: string, name: string, fileBytes: number): NdArray & { attrs: Record<string, unknown> } {
  let e: ReturnType<H5File['get']>;
  try { e = f.get(name); } catch (err) { throw h5Error(path, err, `dataset '${name}'`); }
  assertH5Quiet(path, `dataset '${name}'`);
  if (!e) throw new NotFoundError(`${path}: no dataset '${name}' (found: ${f.keys().join(', ')})`);
  if (!(e instanceof h5.Dataset)) throw new InputError(`${path}: '${name}' is a ${(e as { type?: string }).type ?? 'non-dataset'}, expected a numeric dataset`);
  const meta = e.metadata;
  const dtype = dtypeOf(meta);
  if (!dtype) throw new InputError(`${path}: dataset '${name}' has an unsupported type (HDF5 class ${meta.type}, ${meta.size} bytes); expected a float or integer array`);
  const shape = e.shape ?? [];
  const n = elementCount(shape, `${path}: dataset '${name}'`);
  const limit = h5ReadLimit(fileBytes);
  if (n * DTYPE_BYTES[dtype] > limit) throw new CorruptDataError(`${path}: dataset '${name}' claims shape [${shape.join(', ')}] (${n * DTYPE_BYTES[dtype]} bytes), more than a ${fileBytes}-byte file can hold (limit ${limit})`);
  let data: TypedData;
  try { data = e.value as TypedData; } catch (err) { throw h5Error(path, err, `dataset '${name}': cannot read data`); }
  if (!data || typeof (data as { length?: number }).length !== 'number' || data.length !== n) {
    throw new CorruptDataError(`${path}: dataset '${name}': read ${data ? (data as { length?: number }).length : 0} values, shape implies ${n}`);
  }
  return { shape, dtype, data, attrs: attrsOf(e) };
}

/** Reads datasets by name (e.g. 'features' or 'group/labels') from a generic .h5 file. */
export async function readH5(path: string, names: string[]): Promise<Map<string, NdArray>> {
  const h5 = await h5wasm();
  const f = await openH5(path);
  const size = statSync(path).size;
  try {
    const out = new Map<string, NdArray>();
    for (const name of names) out.set(name, readH5DatasetFrom(f, h5, path, name, size));
    return out;
  } catch (e) {
    throw h5Error(path, e, 'reading datasets');
  } finally { closeH5(f); }
}

export interface H5WriteItem { name: string; array: NdArray; attrs?: Record<string, string | number> }

const H5_DTYPE: Partial<Record<DType, string>> = { float32: '<f', float64: '<d', int8: '<b', uint8: '<B', int16: '<h', uint16: '<H', int32: '<i', uint32: '<I', bool: '<B' };

/** Writes arrays (C order, shape as given) to a new HDF5 file, atomically. */
export async function writeH5(path: string, items: H5WriteItem[]): Promise<void> {
  const h5 = await h5wasm();
  const tmp = `${path}.tmp-${process.pid}.h5`;
  if (existsSync(tmp)) unlinkSync(tmp);
  const f = new h5.File(tmp, 'w');
  try {
    for (const it of items) {
      const dtype = H5_DTYPE[it.array.dtype];
      if (!dtype) throw new InputError(`writeH5: dtype ${it.array.dtype} not supported`);
      const ds = f.create_dataset({ name: it.name, data: it.array.data as Float32Array, shape: it.array.shape, dtype });
      for (const [k, v] of Object.entries(it.attrs ?? {})) ds.create_attribute(k, v);
    }
  } finally { f.close(); }
  renameSync(tmp, path);
}
