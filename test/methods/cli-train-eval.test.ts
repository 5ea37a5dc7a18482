// The train / eval commands end to end on a tiny synthetic .mat file (DCMH-style IAll/YAll/LAll keys).
import { test } from 'node:test';
import { loadCheckpoint } from '../../src/nn/checkpoint.js';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { writeMatV5 } from '../../src/data/mat-v5-writer.js';
import { generateSynthetic } from '../../src/data/synthetic.js';

const bin = resolve('bin/cmhash.js');
const run = (args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env } });

test('cmhash train → JSON per bit length, models saved; cmhash eval reproduces them; bad input exits 2 with a clear message', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cmhash-cli-'));
  try {
    const ds = generateSynthetic({ n: 300, numLabels: 5, imageDim: 20, textDim: 30, seed: 4 });
    const data = join(dir, 'tiny.mat');
    writeMatV5(data, [
      { name: 'IAll', array: { shape: [ds.n, ds.imageDim], dtype: 'float32', data: ds.image } },
      { name: 'YAll', array: { shape: [ds.n, ds.textDim], dtype: 'float32', data: ds.text } },
      { name: 'LAll', array: { shape: [ds.n, ds.numLabels], dtype: 'uint8', data: ds.labels } },
    ]);
    const models = join(dir, 'models');
    const r = run(['train', '--method', 'dcmh', '--data', data, '--bits', '8,16', '--epochs', '2', '--hidden', '16', '--seed', '3', '--out', models, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const all = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(all.map((l) => `${l.method}/${l.bits}`), ['dcmh/8', 'linear/8', 'dcmh/16', 'linear/16'], 'the linear baseline runs beside the method on the same splits');
    for (const l of all) assert.deepEqual(l.chance_map, all[0].chance_map, 'one chance level for the split');
    const lines = all.filter((l) => l.method === 'dcmh');
    for (const [i, l] of lines.entries()) {
      assert.equal(l.method, 'dcmh'); assert.equal(l.bits, [8, 16][i]); assert.equal(l.seed, 3);
      for (const k of ['map_all', 'map_50']) { assert.ok(l[k].i2t >= 0 && l[k].i2t <= 1); assert.ok(l[k].t2i >= 0 && l[k].t2i <= 1); }
      assert.ok(l.train_seconds > 0);
      assert.ok(existsSync(l.model));
    }
    const e = run(['eval', '--model', lines[1].model, '--data', data, '--json']);
    assert.equal(e.status, 0, e.stderr);
    const ev = JSON.parse(e.stdout.trim());
    assert.deepEqual(ev.map_all, lines[1].map_all); assert.deepEqual(ev.map_50, lines[1].map_50);
    assert.equal(ev.seed, 3);

    // --tune: the settings it chose are in the record and in the checkpoint
    const t = run(['train', '--method', 'dcmh', '--data', data, '--bits', '8', '--epochs', '2', '--hidden', '16', '--tune', '3', '--baseline', 'none', '--out', models, '--json']);
    assert.equal(t.status, 0, t.stderr);
    const tr = JSON.parse(t.stdout.trim());
    assert.equal(tr.tuned.trials, 3);
    assert.equal(tr.tuned.options.hidden, 16, 'the search starts from the user\'s options');
    assert.ok(tr.tuned.validation_score > 0);
    assert.deepEqual((loadCheckpoint(tr.model).meta as { tuned: unknown }).tuned, tr.tuned);
    assert.equal(run(['train', '--method', 'dcmh', '--data', data, '--bits', '8', '--tune', '--validation', '0']).status, 2);
    const bad = run(['train', '--method', 'dbrc', '--data', data, '--bits', '12']);
    assert.equal(bad.status, 2); assert.match(bad.stderr, /--bits: code length: expected a multiple of 8 from 8 to 1024, got 12/);
    const wrongBits = run(['eval', '--model', lines[0].model, '--data', data, '--bits', '16']);
    assert.equal(wrongBits.status, 2); assert.match(wrongBits.stderr, /makes 8-bit codes, expected 16 bits/);
    const wrongMethod = run(['eval', '--model', lines[0].model, '--data', data, '--method', 'dbrc']);
    assert.equal(wrongMethod.status, 2); assert.match(wrongMethod.stderr, /dcmh checkpoint, expected a dbrc model/);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});
