// The product commands end to end through bin/cmhash.js: demo (tiny, --no-serve --json), search,
// encode, add, update, export --onnx (checked with onnxruntime-node), serve, bench serve; --help
// with examples; exit codes and one-line errors.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Collection } from '../../src/product/collection.js';
import { codeToHex } from '../../src/product/code-hex.js';
import { PackedCodes } from '../../src/codes/packed-codes.js';
import { Rng } from '../../src/util/rng.js';

const BIN = resolve('bin/cmhash.js');
let root = '';
let dir = '';

function cli(args: string[], timeout = 60_000): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout, cwd: root || undefined });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

before(() => {
  root = mkdtempSync(join(tmpdir(), 'cmhash-cli-'));
  dir = join(root, 'demo');
});
after(() => { if (root) rmSync(root, { recursive: true, force: true }); });

test('demo --no-serve --json trains over sessions and writes a collection', () => {
  const r = cli(['demo', '--no-serve', '--json', '--n', '600', '--epochs', '2', '--hidden', '16', '--bits', '16', '--dir', dir]);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 1, 'one JSON object on stdout');
  const s = JSON.parse(lines[0]!);
  assert.equal(s.method, 'ccmh-gam');
  assert.equal(s.bits, 16);
  assert.equal(s.sessions.length, 4);
  for (const x of s.sessions) assert.ok(x.map.i2t >= 0 && x.map.i2t <= 1 && Number.isInteger(x.model_version));
  assert.equal(s.collection.dir, dir);
  assert.equal(s.url, null);
  assert.ok(existsSync(join(dir, 'collection.json')));
  // a second run replaces the earlier demo folder; a foreign folder is refused
  const again = cli(['demo', '--no-serve', '--json', '--n', '300', '--epochs', '1', '--hidden', '8', '--bits', '16', '--dir', join(root, 'demo2')]);
  assert.equal(again.status, 0, again.stderr);
  const refuse = cli(['demo', '--no-serve', '--dir', root]);
  assert.equal(refuse.status, 2);
  assert.match(refuse.stderr, /not a cmhash demo folder/);
});

test('search, encode and errors', () => {
  const byText = cli(['search', dir, '--text', 'w1 w5 w9', '--k', '4', '--json']);
  assert.equal(byText.status, 0, byText.stderr);
  const a = JSON.parse(byText.stdout);
  assert.equal(a.results.length, 4);
  assert.equal(a.target, 'image');
  const c = Collection.open(dir);
  let itemId: string, hex: string, imageFeat: number[];
  try {
    const snap = c.snapshot();
    itemId = snap.image.ids()[3]!;
    hex = codeToHex(snap.image.packed, 3);
    const rng = new Rng(5);
    imageFeat = Array.from({ length: c.config.imageDim }, () => rng.uniform());
    const f = join(root, 'q.json');
    writeFileSync(f, JSON.stringify([imageFeat, imageFeat.map((x) => x * 2)]));
    const enc = cli(['encode', '--model', dir, '--modality', 'image', '--features', f, '--json']);
    assert.equal(enc.status, 0, enc.stderr);
    const e = JSON.parse(enc.stdout);
    assert.equal(e.codes.length, 2);
    const want = snap.hasher!.encode('image', Float32Array.from([...imageFeat, ...imageFeat.map((x) => x * 2)]), 2);
    const codes = PackedCodes.fromReal(want.values, 2, 16);
    assert.deepEqual(e.codes, [codeToHex(codes, 0), codeToHex(codes, 1)]);
    const byFeat = cli(['search', dir, '--modality', 'image', '--features', f, '--json', '--k', '3']);
    assert.equal(byFeat.stdout.trim().split('\n').length, 2, 'one answer per feature row');
  } finally { c.close(); }
  const byItem = JSON.parse(cli(['search', dir, '--modality', 'image', '--item', itemId, '--k', '5', '--json']).stdout);
  const byCode = JSON.parse(cli(['search', dir, '--modality', 'image', '--code', hex, '--k', '5', '--json']).stdout);
  assert.deepEqual(byItem.results, byCode.results);
  // A radius search at the nearest neighbour's distance: non-empty, nothing farther, every k-NN hit that close included.
  const r = byItem.results[0].distance as number;
  const within = JSON.parse(cli(['search', dir, '--modality', 'image', '--item', itemId, '--radius', String(r), '--json']).stdout);
  assert.ok(within.results.length > 0, `a hit within radius ${r}`);
  assert.ok(within.results.every((h: { distance: number }) => h.distance <= r));
  const ids = new Set(within.results.map((h: { id: string }) => h.id));
  for (const h of byItem.results as { id: string; distance: number }[]) if (h.distance <= r) assert.ok(ids.has(h.id), `${h.id} at ${h.distance}`);

  const bad = cli(['search', dir, '--modality', 'audio', '--item', itemId]);
  assert.equal(bad.status, 2);
  assert.equal(bad.stderr.trim().split('\n').length, 1, 'one line');
  assert.match(bad.stderr, /--modality: expected image or text, got audio/);
  const missing = cli(['search', join(root, 'nope'), '--text', 'w1']);
  assert.equal(missing.status, 3, missing.stderr);
  assert.match(missing.stderr, /not a cmhash collection/);
  const width = cli(['encode', '--model', dir, '--modality', 'text', '--features', join(root, 'q.json')]);
  assert.equal(width.status, 2);
  assert.match(width.stderr, /takes 256 text features, the file has 128 columns/);
  const noItem = cli(['search', dir, '--modality', 'image', '--item', 'no-such']);
  assert.equal(noItem.status, 3);
  // no word of the text in the vocabulary: its features would be all zero, its code meaningless
  const unknown = cli(['search', dir, '--text', 'qqq zzz', '--k', '3']);
  assert.equal(unknown.status, 2, unknown.stderr);
  assert.match(unknown.stderr, /text "qqq zzz": no word of it is in collection "synthetic"'s vocabulary \(256 terms/);
});

test('add and update: new items, then a session with a new label as a new model version', () => {
  const c = Collection.open(dir);
  const { imageDim, textDim } = c.config;
  const v0 = c.snapshot().modelVersion!;
  const size0 = c.snapshot().image.size;
  c.close();
  const rng = new Rng(9);
  const vec = (d: number) => Array.from({ length: d }, () => Math.round(rng.uniform() * 100) / 100);
  const items = join(root, 'items.jsonl');
  writeFileSync(items, [0, 1, 2].map((i) => JSON.stringify({ id: `cli-${i}`, image: vec(imageDim), raw_text: 'w3 w4', labels: ['class0'], metadata: { n: i } })).join('\n'));
  const add = cli(['add', dir, '--items', items, '--json']);
  assert.equal(add.status, 0, add.stderr);
  assert.deepEqual(JSON.parse(add.stdout), { added: 3, model_version: v0 });
  const dup = cli(['add', dir, '--items', items]);
  assert.equal(dup.status, 2);
  assert.match(dup.stderr, /already exists/);

  const session = join(root, 'session.json');
  writeFileSync(session, JSON.stringify(Array.from({ length: 12 }, (_, i) => ({ id: `new-${i}`, image: vec(imageDim), text: vec(textDim).map((x) => (x > 0.9 ? 1 : 0)), labels: i % 3 ? ['martian'] : ['martian', 'class2'] }))));
  const up = cli(['update', dir, '--items', session, '--epochs', '1', '--name', 'martians', '--json']);
  assert.equal(up.status, 0, up.stderr);
  const u = JSON.parse(up.stdout);
  assert.equal(u.previous_version, v0);
  assert.ok(u.model_version > v0);
  assert.deepEqual(u.new_labels, ['martian']);
  const after = Collection.open(dir);
  try {
    assert.equal(after.snapshot().modelVersion, u.model_version);
    assert.equal(after.snapshot().image.size, size0 + 3 + 12);
    assert.ok(after.snapshot().labelNames.includes('martian'));
  } finally { after.close(); }
});

test('export --onnx: onnxruntime gives the same codes as cmhash on random inputs', async (t) => {
  const out = join(root, 'onnx');
  const r = cli(['export', dir, '--onnx', out, '--json']);
  assert.equal(r.status, 0, r.stderr);
  const m = JSON.parse(r.stdout);
  assert.equal(m.files.length, 2);
  let ort: typeof import('onnxruntime-node');
  try { ort = await import('onnxruntime-node'); } catch (e) { t.skip(`onnxruntime-node cannot load (${(e as Error).message.split('\n')[0]}); ONNX run check skipped`); return; }
  const c = Collection.open(dir);
  try {
    const hasher = c.snapshot().hasher!;
    const rng = new Rng(21);
    for (const f of m.files as { modality: 'image' | 'text'; path: string; input_dim: number }[]) {
      const n = 64, d = f.input_dim;
      const x = new Float32Array(n * d);
      for (let i = 0; i < x.length; i++) x[i] = f.modality === 'text' ? (rng.uniform() < 0.05 ? 1 : 0) : rng.uniform() * 2;
      const session = await ort.InferenceSession.create(f.path);
      const res = await session.run({ features: new ort.Tensor('float32', x, [n, d]) });
      const got = res.code!.data as Float32Array;
      const want = hasher.encode(f.modality, x, n).values;
      assert.equal(got.length, want.length);
      let differ = 0, compared = 0;
      for (let i = 0; i < want.length; i++) {
        if (Math.abs(want[i]!) < 1e-5) continue; // float32 rounding may decide the sign there
        compared++;
        if ((got[i]! >= 0) !== (want[i]! >= 0)) differ++;
        // float32 sums in a different order (onnxruntime's MatMul vs either cmhash backend) differ by ~1e-4
        assert.ok(Math.abs(got[i]! - want[i]!) <= 1e-3 * Math.max(1, Math.abs(want[i]!)), `${f.modality}[${i}]: onnx ${got[i]} vs cmhash ${want[i]}`);
      }
      assert.equal(differ, 0, `${f.modality}: code bits differ`);
      assert.ok(compared > want.length * 0.95);
    }
  } finally { c.close(); }
});

test('serve starts, answers and stops on SIGTERM; bench serve --json', async () => {
  const child = spawn(process.execPath, [BIN, 'serve', dir, '--port', '0', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const line = await new Promise<string>((res, rej) => {
    let buf = '';
    child.stdout.on('data', (d) => { buf += d; if (buf.includes('\n')) res(buf.split('\n')[0]!); });
    child.on('exit', (code) => rej(new Error(`serve exited ${code}`)));
    setTimeout(() => rej(new Error('serve did not start')), 20_000).unref();
  });
  try {
    const { url, collections } = JSON.parse(line);
    assert.deepEqual(collections, ['synthetic'], 'named by its collection.json');
    const h = await (await fetch(`${url}/health`)).json() as { status: string };
    assert.equal(h.status, 'ok');
    const code = await new Promise<number | null>((res) => { child.on('exit', res); child.kill('SIGTERM'); });
    assert.equal(code, 0);
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); // never leave a server behind
  }

  const b = cli(['bench', 'serve', '--n', '20000', '--duration', '1', '--connections', '2', '--json']);
  assert.equal(b.status, 0, b.stderr);
  const rec = JSON.parse(b.stdout);
  for (const k of ['n', 'bits', 'qps', 'p50_ms', 'p99_ms', 'errors']) assert.ok(k in rec, k);
  assert.equal(rec.n, 20000);
  assert.equal(rec.errors, 0);
  assert.ok(rec.qps > 0);
});

test('every product command has --help with an example', () => {
  for (const cmd of [['demo'], ['serve'], ['search'], ['encode'], ['add'], ['update'], ['export'], ['bench', 'serve']]) {
    const r = cli([...cmd, '--help']);
    assert.equal(r.status, 0, cmd.join(' '));
    assert.match(r.stdout, /Example/, cmd.join(' '));
    assert.match(r.stdout, /--json/, cmd.join(' '));
  }
});
