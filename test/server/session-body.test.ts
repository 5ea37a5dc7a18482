// The session body streams to the parsing worker through pooled chunk buffers (session-body.ts):
// whatever the socket's chunk sizes (larger than a pool buffer, a few bytes, uneven), the parsed
// session is the body's; requests one after another and at the same time reuse the buffers the
// worker sends back without mixing their bytes; a body far larger than the pool streams through it
// (the upload waits for buffers to come back, no fresh memory); a body that fails to parse leaves
// the next one unaffected; a worker that dies mid-upload fails that upload at once (the rest of the
// body is not read) and the next request gets a new worker.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { freshChunkBuffers, parseSessionBody, prestartSessionBodyWorker, stopSessionBodyWorker } from '../../src/server/session-body.js';
import { InputError } from '../../src/util/errors.js';
import { buildFixture, type Fixture } from './fixture.js';

let fx: Fixture;
const schema = { type: 'object', required: ['items'] };
const LIMIT = 64 << 20;

before(async () => { fx = await buildFixture('syn'); });
after(() => { fx.collection.close(); rmSync(fx.root, { recursive: true, force: true }); });

/** A session body of `n` items (rows from `from` of the fixture's data) as bytes. */
function body(n: number, from: number, name: string): Buffer {
  const ds = fx.ds;
  return Buffer.from(JSON.stringify({
    name, epochs: 2, seed: 3,
    items: Array.from({ length: n }, (_, i) => ({
      id: `${name}-${i}`, image: Array.from(ds.imageRow(from + i)), text: Array.from(ds.textRow(from + i)), labels: [ds.labelNames[i % ds.labelNames.length]!],
    })),
  }));
}

/** The bytes as a stream of chunks of the given sizes (cycled), each in a buffer of its own. */
async function* chunks(bytes: Buffer, sizes: number[]): AsyncGenerator<Uint8Array> {
  let at = 0, k = 0;
  while (at < bytes.length) {
    const size = sizes[k++ % sizes.length]!;
    yield Uint8Array.from(bytes.subarray(at, at + size));
    at += size;
    if (k % 7 === 0) await new Promise((r) => setImmediate(r));
  }
}

function assertSession(got: Awaited<ReturnType<typeof parseSessionBody>>, n: number, from: number, name: string): void {
  const ds = fx.ds;
  assert.equal(got.items.length, n);
  assert.equal(got.name, name);
  assert.equal(got.epochs, 2);
  for (const i of [0, 1, Math.floor(n / 2), n - 1]) {
    const it = got.items[i]!;
    assert.equal(it.id, `${name}-${i}`);
    assert.deepEqual(Array.from(it.image!), Array.from(ds.imageRow(from + i)));
    assert.deepEqual(Array.from(it.text!), Array.from(ds.textRow(from + i)));
    assert.deepEqual(it.labels, [ds.labelNames[i % ds.labelNames.length]]);
  }
}

test('uneven socket chunks, larger and smaller than a pool buffer, give the body\'s session', async () => {
  const b = body(300, 0, 'uneven');
  assert.ok(b.length > 200_000);
  const got = await parseSessionBody(chunks(b, [100_000, 7, 65_536, 1, 65_537, 30_000]), LIMIT, schema, fx.collection);
  assertSession(got, 300, 0, 'uneven');
});

test('requests one after another and at the same time reuse the pool without mixing bytes', async () => {
  for (let r = 0; r < 3; r++) {
    const got = await parseSessionBody(chunks(body(200, r * 10, `seq${r}`), [65_536]), LIMIT, schema, fx.collection);
    assertSession(got, 200, r * 10, `seq${r}`);
  }
  const [a, b] = await Promise.all([
    parseSessionBody(chunks(body(250, 5, 'left'), [40_000, 90_000]), LIMIT, schema, fx.collection),
    parseSessionBody(chunks(body(150, 50, 'right'), [65_536, 3]), LIMIT, schema, fx.collection),
  ]);
  assertSession(a, 250, 5, 'left');
  assertSession(b, 150, 50, 'right');
});

test('a body that is not JSON fails alone; the next request parses', async () => {
  const bad = Buffer.concat([body(100, 0, 'bad').subarray(0, 150_000), Buffer.from('}}')]);
  await assert.rejects(parseSessionBody(chunks(bad, [65_536]), LIMIT, schema, fx.collection), (e: unknown) => e instanceof InputError && /not valid JSON/.test(e.message));
  const got = await parseSessionBody(chunks(body(120, 3, 'after'), [65_536]), LIMIT, schema, fx.collection);
  assertSession(got, 120, 3, 'after');
});

test('a body of many pool sizes, sent faster than the worker copies it, streams through the pooled buffers: no fresh ones', async () => {
  prestartSessionBodyWorker();
  const ds = fx.ds, n = 6000;
  const b = Buffer.from(JSON.stringify({
    name: 'burst', items: Array.from({ length: n }, (_, i) => ({
      id: `burst-${i}`, image: Array.from(ds.imageRow(i % ds.n)), text: Array.from(ds.textRow(i % ds.n)), labels: [ds.labelNames[i % ds.labelNames.length]!],
    })),
  }));
  assert.ok(b.length > 3 * 16 * 65_536, `the body (${b.length} bytes) is over three pools of 16 × 64 KiB`);
  const before = freshChunkBuffers();
  // every chunk at once: the generator never yields to the event loop, so only waiting for buffers to
  // come back lets the worker's 'free' messages in
  async function* all(): AsyncGenerator<Uint8Array> { for (let at = 0; at < b.length; at += 65_536) yield b.subarray(at, at + 65_536); }
  const got = await parseSessionBody(all(), LIMIT, schema, fx.collection);
  assert.equal(got.items.length, n);
  for (const i of [0, 2777, n - 1]) {
    assert.equal(got.items[i]!.id, `burst-${i}`);
    assert.deepEqual(Array.from(got.items[i]!.image!), Array.from(ds.imageRow(i % ds.n)));
  }
  assert.equal(freshChunkBuffers() - before, 0, 'buffers taken fresh instead of waiting for the pool');
});

test('the worker dying mid-upload fails the upload without reading the rest of the body; the next request parses', async () => {
  prestartSessionBodyWorker();
  const b = body(480, 0, 'dies');
  const chunkCount = Math.ceil(b.length / 16_384);
  assert.ok(chunkCount > 4);
  let read = 0;
  async function* dying(): AsyncGenerator<Uint8Array> {
    for (let at = 0; at < b.length; at += 16_384) {
      if (read === 2) await stopSessionBodyWorker(); // after two chunks
      read++;
      yield b.subarray(at, at + 16_384);
      await new Promise((r) => setImmediate(r));
    }
  }
  await assert.rejects(parseSessionBody(dying(), LIMIT, schema, fx.collection), /session body worker exited/);
  assert.ok(read < chunkCount, `read ${read} of ${chunkCount} chunks after the worker died`);
  const got = await parseSessionBody(chunks(body(120, 3, 'after-death'), [65_536]), LIMIT, schema, fx.collection);
  assertSession(got, 120, 3, 'after-death');
});
