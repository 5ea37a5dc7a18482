// The method registry: every registered method round-trips through save/load (as itself, with its
// name, its codes and, for continual methods, the ability to learn the next session the way the
// method does); an option a method does not have is refused by the library and the CLI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadCheckpoint } from '../../src/nn/checkpoint.js';
import type { LoadedCheckpoint } from '../../src/methods/checkpoint-io.js';
import { createHasher, hasherFromCheckpointData, isContinual, loadHasher, methodEntry, methodNames, reencodesDatabase, encoderLayersFromCheckpoint } from '../../src/methods/registry.js';
import { Dcmh } from '../../src/methods/dcmh.js';
import { Joint } from '../../src/methods/joint.js';
import { sessionData } from '../../src/continual/runner.js';
import { tinyPlan, forMethod } from '../continual/fixture.js';
import { InputError } from '../../src/util/errors.js';

const bits = 16;
const small = { hidden: 16, labelSteps: 10, updateLabelSteps: 5, updateEpochs: 1, memoryPerSession: 8, budget: 50 };

test('every registered method (aliases included) round-trips through save/load as itself', async () => {
  const plan = tinyPlan({ n: 240 });
  const s0 = sessionData(plan, 0), s1 = sessionData(plan, 1);
  const dir = mkdtempSync(join(tmpdir(), 'cmhash-registry-'));
  try {
    const names = methodNames();
    assert.ok(names.length >= 10, names.join(','));
    for (const name of names) {
      const e = methodEntry(name);
      const m = createHasher(name, { bits, ...await forMethod(name, small) });
      assert.equal(m.method, name, 'the model reports the name it was built under');
      await m.fit(s0, { bits, epochs: 1, batchSize: 64, seed: 1 });
      const path = join(dir, `${name.replace(':', '_')}.ckpt`);
      m.save(path);
      const back = loadHasher(path, { method: name, bits });
      assert.equal(back.method, name, `${name}: loaded under its own name`);
      assert.equal(back.constructor, m.constructor, `${name}: same class after load`);
      const x = plan.image.subarray(0, 4 * plan.imageDim);
      assert.deepEqual(Array.from(back.encode('image', x, 4).values), Array.from(m.encode('image', x, 4).values), `${name}: same image encoding`);
      // built from the loaded contents without the initial random draws (to encode with): the same
      // weights — same codes for both modalities, and it saves the same bytes as loadHasher's model
      const fromData = hasherFromCheckpointData(loadCheckpoint(path) as LoadedCheckpoint, path);
      const y = plan.text.subarray(0, 4 * plan.textDim);
      assert.deepEqual(Array.from(fromData.encode('image', x, 4).values), Array.from(m.encode('image', x, 4).values), `${name}: same image encoding from checkpoint data`);
      assert.deepEqual(Array.from(fromData.encode('text', y, 4).values), Array.from(m.encode('text', y, 4).values), `${name}: same text encoding from checkpoint data`);
      const again = join(dir, `${name.replace(':', '_')}.again.ckpt`), loaded = join(dir, `${name.replace(':', '_')}.loaded.ckpt`);
      fromData.save(again);
      back.save(loaded);
      assert.ok(readFileSync(again).equals(readFileSync(loaded)), `${name}: the model built from checkpoint data saves the same bytes as loadHasher's`);
      const layers = encoderLayersFromCheckpoint(path);
      assert.equal(layers.bits, bits, `${name}: export layers found`);
      if (e.kind === 'continual' || e.kind === 'baseline') {
        assert.ok(isContinual(back), `${name}: a loaded continual model can still update`);
        const before = back.memoryItems();
        await back.update(s1, { bits, epochs: 1, batchSize: 64, seed: 1 });
        assert.ok(back.modelVersion > 0);
        // options given at creation survive the checkpoint (updateEpochs 1; the default would be 2)
        if (e.options.updateEpochs) assert.equal(back.lastFit?.epochsRun, 1, `${name}: the loaded model keeps its updateEpochs`);
        if (reencodesDatabase(name)) {
          if (name.startsWith('joint')) assert.ok(back instanceof Joint, `${name} loads as a joint model, not its inner model`);
          assert.equal(back.memoryItems(), before + s1.n, `${name}: the loaded joint model retrains on everything it kept plus the session`);
        }
      }
    }
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('a checkpoint of one method is refused where another is expected, joint included', async () => {
  const plan = tinyPlan({ n: 240 });
  const dir = mkdtempSync(join(tmpdir(), 'cmhash-registry-'));
  try {
    const j = createHasher('joint', { bits, hidden: 16, labelSteps: 5 });
    await j.fit(sessionData(plan, 0), { bits, epochs: 1, seed: 1 });
    j.save(join(dir, 'j.ckpt'));
    assert.equal(loadHasher(join(dir, 'j.ckpt'), { method: 'joint:ccmh-gam' }).method, 'joint', 'an alias names the same method');
    assert.throws(() => loadHasher(join(dir, 'j.ckpt'), { method: 'ccmh-gam' }), /this is a joint:ccmh-gam checkpoint, expected a ccmh-gam model/);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('an option a method does not have is refused by the library, naming it and the valid options', async () => {
  assert.throws(() => createHasher('dcmh', { bits, gama: 1 }), (e: Error) => e instanceof InputError && /dcmh has no option "gama" \(its options: hidden, gamma, eta, weightDecay, optimizer/.test(e.message));
  assert.throws(() => createHasher('dbrc', { bits, eta: 0.1 }), /dbrc has no option "eta"/);
  assert.throws(() => createHasher('joint', { bits, updateEpochs: 2 }), /joint has no option "updateEpochs"/);
  assert.throws(() => createHasher('finetune:dlcmh', { bits, budget: 10 }), /finetune:dlcmh has no option "budget"/);
  assert.throws(() => createHasher('dcmh', { bits, hidden: 0 }), /dcmh: option hidden must be ≥ 1, got 0/);
  assert.throws(() => createHasher('ccmh-gam', { bits, memory: 'lots' }), /option memory must be one of gradient, random, none/);
  // fit() checks too: a misspelt training option is an error, not silently ignored
  const plan = tinyPlan({ n: 120 });
  await assert.rejects(new Dcmh({ bits, hidden: 8 }).fit(sessionData(plan, 0), { bits, epochs: 1, gama: 1 } as never), /dcmh has no option "gama"/);
  // options given at creation are used by fit(): the same run as giving them to fit()
  const a = createHasher('dcmh', { bits, hidden: 8, eta: 0.5 }), b = createHasher('dcmh', { bits, hidden: 8 });
  await a.fit(sessionData(plan, 0), { bits, epochs: 1, seed: 2 });
  await b.fit(sessionData(plan, 0), { bits, epochs: 1, seed: 2, eta: 0.5 } as never);
  const x = plan.text.subarray(0, 3 * plan.textDim);
  assert.deepEqual(Array.from(a.encode('text', x, 3).values), Array.from(b.encode('text', x, 3).values));
});

test('the CLI refuses a flag the chosen method does not have (exit 2) and lists each method\'s options in --help', () => {
  const bin = resolve('bin/cmhash.js');
  const run = (args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 60_000 });
  const r = run(['train', '--method', 'dbrc', '--data', 'synthetic:200:4', '--bits', '16', '--gamma', '1']);
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /--gamma is not an option of dbrc \(its options: --hidden, --code-layer/);
  const c = run(['continual', '--method', 'joint', '--data', 'synthetic:200:4', '--sessions', '2+2', '--update-epochs', '3']);
  assert.equal(c.status, 2, c.stderr);
  assert.match(c.stderr, /--update-epochs is not an option of joint/);
  const bad = run(['train', '--method', 'dcmh', '--data', 'synthetic:200:4', '--bits', '16', '--eta', '-1']);
  assert.equal(bad.status, 2, bad.stderr);
  assert.match(bad.stderr, /dcmh: option eta must be ≥ 0, got -1/);
  const help = run(['train', '--help']);
  assert.equal(help.status, 0);
  assert.match(help.stdout, /dcmh \(supervised; epochs 40, lr 0\.001\):\n {4}--hidden {2}hidden \(integer, ≥ 1, default 512\)/);
  assert.match(help.stdout, /--image-map {2}imageMap \(none \| sqrt, default none\)/);
});
