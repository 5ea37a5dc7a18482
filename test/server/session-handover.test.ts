// What a worker session update leaves the serving thread to do: the features the parsing worker
// delivered go to the training worker as the session's arrays (handed over, not copied: the items'
// views are detached afterwards), and the committed model comes back as the checkpoint's contents,
// from which the serving thread builds the model without reading the checkpoint file. That model is
// exactly the one loadHasher gives from the committed file (same encoder outputs, same saved bytes).
// Items whose features are not laid out as handed over are copied as before.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs, { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSessionBody } from '../../src/server/session-body.js';
import { Collection } from '../../src/product/collection.js';
import { applySessionUpdate } from '../../src/product/session-update.js';
import { checkpointMessage, loadedCheckpointOf } from '../../src/product/train-in-worker.js';
import { hasherFromCheckpointData, loadHasher } from '../../src/methods/registry.js';
import { loadCheckpoint } from '../../src/nn/checkpoint.js';
import type { LoadedCheckpoint } from '../../src/methods/checkpoint-io.js';
import type { Hasher } from '../../src/methods/hasher.js';
import { buildFixture, type Fixture } from './fixture.js';

let fx: Fixture;
let c: Collection;
let tmp: string;
const schema = { type: 'object', required: ['items'] };

before(async () => {
  fx = await buildFixture('syn');
  fx.collection.close();
  c = Collection.open(fx.dir);
  tmp = mkdtempSync(join(tmpdir(), 'cmhash-handover-'));
});
after(() => { c.close(); rmSync(fx.root, { recursive: true, force: true }); rmSync(tmp, { recursive: true, force: true }); });

/** A session body of `n` new items (fixture rows from `from`) as a stream of 64 KiB chunks. */
async function* body(n: number, from: number, name: string): AsyncGenerator<Uint8Array> {
  const ds = fx.ds;
  const bytes = Buffer.from(JSON.stringify({
    name, epochs: 2, seed: 3,
    items: Array.from({ length: n }, (_, i) => ({
      id: `${name}-${i}`, image: Array.from(ds.imageRow((from + i) % ds.n)), text: Array.from(ds.textRow((from + i) % ds.n)),
      labels: i % 3 ? [ds.labelNames[i % ds.labelNames.length]!] : [`${name}-label`],
    })),
  }));
  for (let at = 0; at < bytes.length; at += 65_536) yield Uint8Array.from(bytes.subarray(at, at + 65_536));
}

/** The checkpoint file of the collection's current model version. */
function currentCheckpointPath(col: Collection): string {
  const v = col.history().versions.find((x) => x.id === col.snapshot().modelVersion)!;
  return col.checkpointPath(v.checkpoint!);
}

/** The two models are the same: identical encoder outputs for both modalities, identical saved checkpoints. */
function assertSameModel(a: Hasher, b: Hasher, what: string): void {
  const ds = fx.ds, rows = 40;
  const img = new Float32Array(rows * ds.imageDim), txt = new Float32Array(rows * ds.textDim);
  for (let i = 0; i < rows; i++) { img.set(ds.imageRow(i), i * ds.imageDim); txt.set(ds.textRow(i), i * ds.textDim); }
  assert.equal(a.method, b.method, what);
  assert.equal(a.bits, b.bits, what);
  assert.equal(a.modelVersion, b.modelVersion, what);
  assert.deepEqual(a.encode('image', img, rows).values, b.encode('image', img, rows).values, `${what}: image outputs`);
  assert.deepEqual(a.encode('text', txt, rows).values, b.encode('text', txt, rows).values, `${what}: text outputs`);
  const pa = join(tmp, 'a.ckpt'), pb = join(tmp, 'b.ckpt');
  a.save(pa); b.save(pb);
  assert.ok(readFileSync(pa).equals(readFileSync(pb)), `${what}: saved checkpoints differ`);
}

/** Runs fn, recording the files this thread reads with readFileSync meanwhile. */
async function recordingReads<T>(fn: () => Promise<T>): Promise<{ result: T; reads: string[] }> {
  const reads: string[] = [];
  const original = fs.readFileSync;
  fs.readFileSync = ((p: Parameters<typeof fs.readFileSync>[0], ...rest: unknown[]) => {
    reads.push(String(p));
    return (original as (...a: unknown[]) => unknown)(p, ...rest);
  }) as typeof fs.readFileSync;
  syncBuiltinESMExports(); // named imports of node:fs see the wrapper too
  try { return { result: await fn(), reads }; } finally { fs.readFileSync = original; syncBuiltinESMExports(); }
}

test('hasherFromCheckpointData gives the model loadHasher gives from the file, also after crossing threads as a CheckpointMessage', () => {
  const path = currentCheckpointPath(c);
  const fromFile = loadHasher(path);
  assertSameModel(fromFile, hasherFromCheckpointData(loadCheckpoint(path) as LoadedCheckpoint, path), 'from loaded contents');
  const { message, transfer } = checkpointMessage(loadCheckpoint(path) as LoadedCheckpoint);
  assert.ok(transfer.length > 0);
  const crossed = structuredClone(message, { transfer });
  assert.equal(transfer[0]!.byteLength, 0, 'the tensors\' buffers were transferred, not copied');
  assertSameModel(fromFile, hasherFromCheckpointData(loadedCheckpointOf(crossed), path), 'after crossing');
});

test('a parsed session trains on the worker from the parser\'s arrays; the serving thread adopts the committed model without reading its checkpoint', async () => {
  const got = await parseSessionBody(body(300, 0, 'handed'), 64 << 20, schema, c);
  const items = got.items;
  const first = items[0]!.image!, before = c.snapshot();
  assert.ok(first.byteLength > 0);
  const { result: r, reads } = await recordingReads(() => applySessionUpdate(c, items, { name: 'handed', epochs: 2, seed: 3, inWorker: true }));
  assert.equal(first.byteLength, 0, 'the parser\'s feature array went to the training worker (detached here), not copied');
  assert.equal(items[299]!.text!.byteLength, 0);
  const snap = c.snapshot();
  assert.equal(snap.modelVersion, r.model_version);
  assert.notEqual(snap.modelVersion, before.modelVersion);
  assert.equal(snap.image.size, before.image.size + 300);
  const path = currentCheckpointPath(c);
  assert.deepEqual(reads.filter((p) => p === path || p.endsWith('.ckpt')), [], 'the serving thread read no checkpoint');
  assertSameModel(snap.hasher!, loadHasher(path), 'adopted model vs the committed file');
  // and what a fresh open of the collection serves is the same model
  const reopened = Collection.open(fx.dir);
  try { assertSameModel(snap.hasher!, reopened.snapshot().hasher!, 'adopted vs reopened'); } finally { reopened.close(); }
});

test('items whose features are no longer laid out as handed over are copied: they stay usable, the update commits', async () => {
  const got = await parseSessionBody(body(200, 100, 'moved'), 64 << 20, schema, c);
  const items = got.items;
  items[7] = { ...items[7]!, image: Float32Array.from(items[7]!.image!) }; // one item's features elsewhere
  const first = items[0]!.image!, expected = Array.from(first);
  const before = c.snapshot();
  const r = await applySessionUpdate(c, items, { name: 'moved', epochs: 2, seed: 3, inWorker: true });
  assert.deepEqual(Array.from(first), expected, 'copied, not handed over');
  assert.equal(c.snapshot().modelVersion, r.model_version);
  assert.equal(c.snapshot().image.size, before.image.size + 200);
  assertSameModel(c.snapshot().hasher!, loadHasher(currentCheckpointPath(c)), 'adopted model vs the committed file');
});

test('the serving thread prepares a worker update over several turns of the event loop', async () => {
  const got = await parseSessionBody(body(120, 300, 'turns'), 64 << 20, schema, c);
  // a search's place in the event loop: a check-phase callback that re-queues itself and counts
  let turns = 0, stop = false;
  const tick = () => { turns++; if (!stop) setImmediate(tick); };
  setImmediate(tick);
  let turnsAtTraining = -1;
  const done = applySessionUpdate(c, got.items, {
    name: 'turns', epochs: 1, seed: 3, inWorker: true,
    onStage: (s) => { if (s === 'training') turnsAtTraining = turns; },
  });
  try { await done; } finally { stop = true; }
  // one turn each: the caller's, after the label names, after the hand-over check, after the label
  // matrix (without any one of them this is 3)
  assert.ok(turnsAtTraining >= 4, `searches got ${turnsAtTraining} turns before training started (expected at least 4)`);
});
