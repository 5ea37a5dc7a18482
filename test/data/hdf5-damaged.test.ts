// Damaged HDF5 files (.h5 and MATLAB v7.3 .mat, generated here with h5wasm): truncated and
// byte-flipped copies give one CorruptDataError (exit 4) naming the file and HDF5's reason, and
// none of the library's HDF5-DIAG printout reaches stderr (checked through the CLI).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { listH5, readH5, writeH5 } from '../../src/data/hdf5.js';
import { listMatV73, readMatV73 } from '../../src/data/mat-v73.js';
import { h5Reason } from '../../src/data/hdf5-diagnostics.js';
import { CorruptDataError } from '../../src/util/errors.js';
import { tempDir } from './helpers.js';

const BIN = resolve('bin/cmhash.js');
let t: ReturnType<typeof tempDir>;
const files: Record<string, string> = {};

/** MATLAB v7.3 = a 512-byte MATLAB header (HDF5 user block) followed by the HDF5 file. */
function matHeader(): Buffer {
  const head = Buffer.alloc(512, 0x20);
  head.write('MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Mon Jan  1 00:00:00 2024 HDF5 schema 1.00 .');
  head.writeUInt16LE(0x0200, 124);
  head.write('IM', 126);
  return head;
}

before(async () => {
  t = tempDir();
  const n = 2000;
  const good = join(t.dir, 'good.h5');
  await writeH5(good, [
    { name: 'IAll', array: { shape: [n, 64], dtype: 'float32', data: new Float32Array(n * 64).map((_, i) => (i % 97) / 97) } },
    { name: 'YAll', array: { shape: [n, 32], dtype: 'float32', data: new Float32Array(n * 32).map((_, i) => (i % 13) / 13) } },
    { name: 'LAll', array: { shape: [n, 4], dtype: 'uint8', data: new Uint8Array(n * 4).map((_, i) => (i % 4 === Math.floor(i / 4) % 4 ? 1 : 0)) } },
  ]);
  const bytes = readFileSync(good);
  const write = (name: string, b: Buffer) => { files[name] = join(t.dir, name); writeFileSync(files[name]!, b); };
  write('good.h5', bytes);
  write('truncated.h5', bytes.subarray(0, bytes.length >> 1));
  const flipped = Buffer.from(bytes);
  for (let i = 100; i < 400; i += 7) flipped[i]! ^= 0xff; // the root group's metadata (checksummed)
  write('flipped.h5', flipped);
  const mat = Buffer.concat([matHeader(), bytes]);
  write('good.mat', mat);
  write('truncated.mat', mat.subarray(0, 500_000));
  write('flipped.mat', Buffer.concat([matHeader(), flipped]));
});
after(() => t.done());

const corrupt = (file: string) => (e: unknown) => e instanceof CorruptDataError && e.exitCode === 4 && e.message.startsWith(`${file}: damaged or unreadable HDF5 file — `) && !e.message.includes('\n') && !/name not defined/.test(e.message);

test('the undamaged files read (so the damage is what fails below)', async () => {
  assert.equal((await readH5(files['good.h5']!, ['IAll'])).get('IAll')!.shape.join('x'), '2000x64');
  assert.deepEqual((await listMatV73(files['good.mat']!)).map((v) => v.name).sort(), ['IAll', 'LAll', 'YAll']);
});

test('truncated .h5 and .mat: CorruptDataError naming the file and "truncated file"', async () => {
  for (const f of [files['truncated.h5']!, files['truncated.mat']!]) {
    const check = corrupt(f);
    await assert.rejects(f.endsWith('.h5') ? listH5(f) : listMatV73(f), (e) => check(e) && /truncated file: eof = \d+/.test((e as Error).message));
    await assert.rejects(f.endsWith('.h5') ? readH5(f, ['IAll']) : readMatV73(f), check);
  }
});

test('byte-flipped .h5 and .mat: CorruptDataError naming the file and the checksum failure', async () => {
  for (const f of [files['flipped.h5']!, files['flipped.mat']!]) {
    const check = corrupt(f);
    await assert.rejects(f.endsWith('.h5') ? listH5(f) : listMatV73(f), (e) => check(e) && /checksum/.test((e as Error).message));
    await assert.rejects(f.endsWith('.h5') ? readH5(f, ['IAll']) : readMatV73(f), check);
  }
  // the library keeps working on good files afterwards
  assert.equal((await readH5(files['good.h5']!, ['LAll'])).get('LAll')!.shape.join('x'), '2000x4');
});

test('cmhash data info on damaged files: exit 4, one line on stderr, no HDF5-DIAG', () => {
  for (const name of ['truncated.h5', 'flipped.h5', 'truncated.mat', 'flipped.mat']) {
    const r = spawnSync(process.execPath, [BIN, 'data', 'info', files[name]!], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 4, `${name}: ${r.stderr}`);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `${name}: ${r.stderr}`);
    assert.ok(lines[0]!.includes(files[name]!), lines[0]);
    assert.doesNotMatch(r.stderr, /HDF5-DIAG|#00\d|name not defined/);
  }
});

test('the reason is the deepest frame of the first HDF5 error stack', () => {
  const diag = 'HDF5-DIAG: Error detected in HDF5 (2.0.0):\n  #000: a.c line 1 in H5Fopen(): unable to open file\n    major: x\n  #001: b.c line 2 in H5F__super_read(): truncated file: eof = 10\n'
    + 'HDF5-DIAG: Error detected in HDF5 (2.0.0):\n  #000: c.c line 3 in H5Fclose(): not a file ID\n';
  assert.equal(h5Reason(diag), 'truncated file: eof = 10');
  assert.equal(h5Reason(''), '');
});
