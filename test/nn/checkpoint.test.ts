// Checkpoints: exact round trip, atomic write, and clear errors for every kind of damage.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../../src/util/rng.js';
import { CorruptDataError, InputError, NotFoundError } from '../../src/util/errors.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { mlp, ATanh, saveCheckpoint, loadCheckpoint, moduleTensors, loadIntoModule } from '../../src/nn/index.js';
import { crc32, crc32Portable } from '../../src/util/crc32.js';

const dir = mkdtempSync(join(tmpdir(), 'cmhash-ck-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

function sample(path: string): ReturnType<typeof mlp> {
  const net = mlp([7, 5, 3], { rng: new Rng(11), final: new ATanh(3, { mode: 'nonlinear' }) });
  saveCheckpoint(path, { kind: 'test-net', architecture: { dims: [7, 5, 3] }, tensors: moduleTensors(net), meta: { epoch: 4, note: 'ünïcode' } });
  return net;
}

test('crc32 matches the standard check value', () => {
  assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
  assert.equal(crc32(Buffer.from('56789'), crc32(Buffer.from('1234'))), 0xcbf43926);
  // the portable loop and the native one (when this Node has it) agree, chained or not, on odd lengths
  assert.equal(crc32Portable(Buffer.from('123456789')), 0xcbf43926);
  const bytes = Uint8Array.from({ length: 1001 }, (_, i) => (i * 131 + 7) & 0xff);
  assert.equal(crc32(bytes), crc32Portable(bytes));
  assert.equal(crc32(bytes.subarray(500), crc32(bytes.subarray(0, 500))), crc32Portable(bytes));
  assert.equal(crc32(Buffer.alloc(0), 0x9ea59999), 0x9ea59999); // an empty chunk keeps the running value
});

test('round trip is exact and loads into a fresh model', () => {
  const path = join(dir, 'sub', 'model.ck');
  const net = sample(path);
  assert.deepEqual(readdirSync(join(dir, 'sub')), ['model.ck']); // no temp file left behind
  const ck = loadCheckpoint(path);
  assert.equal(ck.kind, 'test-net');
  assert.deepEqual(ck.architecture, { dims: [7, 5, 3] });
  assert.deepEqual(ck.meta, { epoch: 4, note: 'ünïcode' });
  for (const [name, t] of net.namedParameters()) {
    assert.deepEqual(ck.tensors[name]!.shape, t.shape);
    assert.deepEqual(Array.from(ck.tensors[name]!.data), Array.from(t.data), name);
  }
  const fresh = mlp([7, 5, 3], { rng: new Rng(999), final: new ATanh(3, { mode: 'nonlinear' }) });
  loadIntoModule(fresh, ck.tensors);
  const x = Tensor.randn(4, 7, new Rng(1));
  assert.deepEqual(Array.from(fresh.forward(x).data), Array.from(net.forward(x).data));
  const other = mlp([7, 6, 3], { rng: new Rng(1) });
  assert.throws(() => loadIntoModule(other, ck.tensors), (e: unknown) => e instanceof InputError && /0\.weight/.test((e as Error).message));
});

test('empty and zero-size tensors round-trip', () => {
  const path = join(dir, 'empty.ck');
  saveCheckpoint(path, { kind: 'k', architecture: null, tensors: { e: Tensor.zeros(0, 3) } });
  assert.deepEqual(loadCheckpoint(path).tensors.e!.shape, [0, 3]);
});

function damaged(name: string, edit: (b: Buffer) => Buffer): string {
  const src = join(dir, `${name}-src.ck`);
  sample(src);
  const p = join(dir, `${name}.ck`);
  writeFileSync(p, edit(readFileSync(src)));
  return p;
}

const corrupt = (re: RegExp) => (e: unknown): boolean => e instanceof CorruptDataError && re.test((e as Error).message);

test('truncated files are rejected', () => {
  for (const cut of [0, 5, 20, 40, 100]) {
    const p = damaged(`trunc${cut}`, (b) => b.subarray(0, Math.min(cut, b.length)));
    assert.throws(() => loadCheckpoint(p), corrupt(/truncated/), `cut at ${cut}`);
  }
  const p = damaged('trunc-last', (b) => b.subarray(0, b.length - 1));
  assert.throws(() => loadCheckpoint(p), corrupt(/truncated: \d+ bytes, expected \d+/));
});

test('a flipped byte anywhere in header or payload fails the checksum', () => {
  const len = readFileSync((sample(join(dir, 'len.ck')), join(dir, 'len.ck'))).length;
  for (const pos of [30, 60, len - 1, len - 50]) {
    const p = damaged(`flip${pos}`, (b) => { const c = Buffer.from(b); c[pos] = c[pos]! ^ 0x10; return c; });
    assert.throws(() => loadCheckpoint(p), corrupt(/checksum mismatch/), `byte ${pos}`);
  }
});

test('wrong magic, newer version, trailing bytes, missing file', () => {
  const magic = damaged('magic', (b) => { const c = Buffer.from(b); c.write('NOTCMHSH', 0, 'latin1'); return c; });
  assert.throws(() => loadCheckpoint(magic), corrupt(/bad magic/));
  const ver = damaged('ver', (b) => { const c = Buffer.from(b); c.writeUInt32LE(99, 8); return c; });
  assert.throws(() => loadCheckpoint(ver), corrupt(/version 99 is newer/));
  const extra = damaged('extra', (b) => Buffer.concat([b, Buffer.from([1, 2, 3])]));
  assert.throws(() => loadCheckpoint(extra), corrupt(/trailing/));
  assert.throws(() => loadCheckpoint(join(dir, 'nope.ck')), NotFoundError);
});

test('overwriting keeps the old file intact until the new one is complete', () => {
  const p = join(dir, 'over.ck');
  saveCheckpoint(p, { kind: 'a', architecture: 1, tensors: { w: Tensor.fromArray(1, 2, [1, 2]) } });
  saveCheckpoint(p, { kind: 'b', architecture: 2, tensors: { w: Tensor.fromArray(1, 2, [3, 4]) } });
  const ck = loadCheckpoint(p);
  assert.equal(ck.kind, 'b');
  assert.deepEqual(Array.from(ck.tensors.w!.data), [3, 4]);
  assert.throws(() => saveCheckpoint(join(dir, 'bad.ck'), { kind: '', architecture: null, tensors: {} }), InputError);
});
