import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { getImageEncoder, imageEncoderEntry, IMAGE_ENCODERS } from '../../src/data/image-encoders/encoder.js';
import { CENTERNET_DIM } from '../../src/data/image-encoders/centernet.js';
import { checkCacheOutsideData, extractImages, extractionCacheFile } from '../../src/data/extract.js';
import { readNpy } from '../../src/data/npy.js';
import { repoRoot } from '../../src/data/presets/common.js';
import { tempDir } from './helpers.js';
import { generatedImage } from './generated-images.js';

const norm = (v: Float32Array) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));

test('centernet encoder: documented width, unit norm, deterministic, distinct images differ; registry knows both encoders', async () => {
  const t = tempDir();
  try {
    for (let k = 0; k < 3; k++) await generatedImage(join(t.dir, `g${k}.png`), k);
    const enc = await getImageEncoder('centernet');
    assert.equal(enc.dim, CENTERNET_DIM); assert.equal(enc.dim, 560); assert.equal(enc.id, imageEncoderEntry('centernet').dim === 560 ? 'centernet-mnv3-coco-560' : '?');
    assert.match(enc.version, /@vladmandic\/human@3\.3\.6/);
    const a = [] as Float32Array[];
    for (let k = 0; k < 3; k++) a.push(await enc.encodeFile(join(t.dir, `g${k}.png`)));
    const again = await enc.encodeFile(join(t.dir, 'g1.png'));
    assert.deepEqual([...again], [...a[1]!], 'same image, same features');
    for (const v of a) { assert.equal(v.length, 560); assert.ok(Math.abs(norm(v) - 1) < 1e-4); assert.ok(v.every(Number.isFinite)); }
    assert.notDeepEqual([...a[0]!], [...a[2]!]);
    // the two halves (backbone mean, class max) each carry half the energy
    const bb = a[0]!.subarray(0, 480); assert.ok(Math.abs(norm(bb) - Math.SQRT1_2) < 1e-4);
    const d = await getImageEncoder('descriptor'); assert.equal(d.dim, 544); assert.equal((await d.encodeFile(join(t.dir, 'g0.png'))).length, 544);
    assert.deepEqual(IMAGE_ENCODERS.map((e) => e.name), ['descriptor', 'centernet']);
    assert.throws(() => imageEncoderEntry('vgg'), /unknown image encoder 'vgg'/);
  } finally { t.done(); }
});

test('extraction resumes from a partial cache (and from a torn last line); rows of another encoder are not mixed in', async () => {
  const t = tempDir();
  try {
    const img = join(t.dir, 'imgs'); mkdirSync(img);
    for (let k = 0; k < 6; k++) await generatedImage(join(img, `im${k + 1}.png`), k, 40, 32);
    const partial = join(t.dir, 'cache', 'p.jsonl');
    const first = await extractImages(img, { partialFile: partial, encoder: 'descriptor', limit: 4 });
    assert.equal(first.complete, false); assert.equal(first.ok.reduce((s, x) => s + x, 0), 4);
    appendFileSync(partial, '{"id":"im5.png","dim":544,"enc":"cmh'); // a run killed mid-write
    const done = await extractImages(img, { partialFile: partial, encoder: 'descriptor' });
    assert.equal(done.resumed, 4); assert.equal(done.complete, true); assert.equal(done.failed.length, 0);
    const fresh = await extractImages(img, { partialFile: join(t.dir, 'other.jsonl'), encoder: 'descriptor' });
    assert.deepEqual([...done.features], [...fresh.features], 'resumed rows equal recomputed ones');
    // the same cache file asked for another encoder: nothing resumed, rows tagged by version
    const cn = await extractImages(img, { partialFile: partial, encoder: 'centernet', limit: 1 });
    assert.equal(cn.resumed, 0); assert.equal(cn.dim, 560);
    const tags = new Set(readFileSync(partial, 'utf8').split('\n').filter((l) => l.endsWith('}')).map((l) => (JSON.parse(l) as { enc: string }).enc.split('/')[0]));
    assert.deepEqual([...tags].sort(), ['centernet-mnv3-coco', 'cmhash-544']);
    const again = await extractImages(img, { partialFile: partial, encoder: 'descriptor' });
    assert.equal(again.resumed, 6);
  } finally { t.done(); }
});

test('extraction cache is never inside the data folder: refused by the API and by `data extract`; the CLI resumes after an interrupted run', async () => {
  const t = tempDir();
  try {
    const ds = join(t.dir, 'mydata'); const img = join(ds, 'images'); mkdirSync(img, { recursive: true });
    writeFileSync(join(ds, 'manifest.json'), '{}');
    for (let k = 0; k < 5; k++) await generatedImage(join(img, `p${k}.png`), k, 40, 32);
    assert.throws(() => extractionCacheFile(img, 'descriptor', join(img, 'cache')), /never go inside the data folder/);
    assert.throws(() => extractionCacheFile(img, 'descriptor', join(ds, 'cache')), /never go inside the data folder/, 'the dataset root counts too');
    assert.throws(() => checkCacheOutsideData(join(ds, 'x', '..', 'y.jsonl'), img), /never go inside/);
    const ok = extractionCacheFile(img, 'descriptor', join(t.dir, 'cache'));
    assert.ok(ok.startsWith(join(t.dir, 'cache')) && ok.endsWith('.descriptor.partial.jsonl'));
    const cli = join(repoRoot(), 'bin', 'cmhash.js');
    const refused = spawnSync(process.execPath, [cli, 'data', 'extract', img, '--cache-dir', join(ds, 'c')], { encoding: 'utf8' });
    assert.equal(refused.status, 2, refused.stderr); assert.match(refused.stderr, /never go inside the data folder/);
    assert.equal(existsSync(join(ds, 'c')), false, 'nothing written in the data folder');
    // an interrupted run leaves two finished rows in the cache; the rerun takes them and does the rest
    await extractImages(img, { partialFile: ok, encoder: 'descriptor', limit: 2 });
    const out = join(t.dir, 'f.npy');
    const r = spawnSync(process.execPath, [cli, 'data', 'extract', img, '--cache-dir', join(t.dir, 'cache'), '--out', out, '--json'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const summary = JSON.parse(r.stdout.trim().split('\n').pop()!);
    assert.equal(summary.resumed, 2); assert.equal(summary.images, 5); assert.equal(summary.encoder, 'descriptor');
    assert.deepEqual(readNpy(out).shape, [5, 544]);
    assert.equal(existsSync(ok), false, 'partial results removed after success');
  } finally { t.done(); }
});
