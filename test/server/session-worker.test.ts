// Session jobs train off the serving thread (a training process reached through a relay thread): through the service (app.inject) a job runs there,
// reports per-epoch progress in the jobs API, and commits a new model version, while the event loop
// stays free (timer ticks keep coming, a search answers at once); the committed model is the one
// in-thread training gives for the same seed (same codes, same encoder outputs); a worker that
// cannot load the checkpoint becomes a failed job with the loader's message, versions unchanged.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildService } from '../../src/server/app.js';
import { JobManager, type JobView } from '../../src/product/jobs.js';
import { CollectionRegistry } from '../../src/product/registry.js';
import { Collection, type ItemInput } from '../../src/product/collection.js';
import { applySessionUpdate, checkItemsInSlices } from '../../src/product/session-update.js';
import { trainingProcessId } from '../../src/product/train-in-worker.js';
import { codeToHex } from '../../src/product/code-hex.js';
import { buildFixture, BITS, type Fixture } from './fixture.js';

const N = 3000, EPOCHS = 20, SEED = 7;

let fx: Fixture;
let app: FastifyInstance;
let registry: CollectionRegistry;
let jobs: JobManager;
let inThreadDir: string;
let items: ItemInput[];

before(async () => {
  fx = await buildFixture('syn');
  fx.collection.close();
  inThreadDir = `${fx.dir}-in-thread`;
  cpSync(fx.dir, inThreadDir, { recursive: true }); // an identical copy for the in-thread reference
  registry = new CollectionRegistry();
  registry.openDir(fx.dir);
  jobs = new JobManager(); // trainInWorker: true by default
  app = await buildService({ collections: registry, jobs, processMetrics: false });
  // a session large enough that training takes a good fraction of a second: the fixture's rows again
  // under new ids, half of them with a new label
  items = Array.from({ length: N }, (_, i) => {
    const r = i % fx.ds.n;
    return { id: `w-${i}`, image: fx.ds.imageRow(r).slice(), text: fx.ds.textRow(r).slice(), labels: i % 2 ? ['class0', 'zebra'] : ['zebra'] };
  });
});

after(async () => {
  await app.close();
  registry.close();
  rmSync(fx.root, { recursive: true, force: true });
});

const json = (r: { body: string }) => JSON.parse(r.body);
const payloadItems = () => items.map((it) => ({ id: it.id, image: Array.from(it.image!), text: Array.from(it.text!), labels: it.labels }));

let workerCodes: { image: Uint32Array; text: Uint32Array } | null = null;

test('a session job trains on the worker: progress in the jobs API, a new version committed, the event loop free meanwhile', async (t) => {
  const c = registry.get('syn');
  const before = c.snapshot();
  const hex = codeToHex(before.text.packed.slice(0, 1), 0);
  const progress: { epoch?: number; epochs?: number; message?: string }[] = [];
  let trainingEnd = 0;
  jobs.onChange((j: JobView) => {
    if (j.status === 'running' && j.progress) progress.push({ ...j.progress });
    if (j.progress?.message === 'committing' && !trainingEnd) trainingEnd = performance.now();
  });

  const temps = () => readdirSync(tmpdir()).filter((f) => f.startsWith('cmhash-session-'));
  const tempsBefore = temps();
  const r = await app.inject({ method: 'POST', url: '/api/collections/syn/sessions', payload: { items: payloadItems(), name: 'zebras', epochs: EPOCHS, seed: SEED } });
  assert.equal(r.statusCode, 202, r.body);
  const id = json(r).id as string;

  // while the worker trains: timer ticks every 5 ms, and searches (one at a time) with their latency
  const t0 = performance.now();
  let last = t0, maxGap = 0;
  const tick = setInterval(() => { const now = performance.now(); if (!trainingEnd) maxGap = Math.max(maxGap, now - last); last = now; }, 5);
  const searchMs: number[] = [];
  const apiProgress: unknown[] = [];
  let view = json(await app.inject({ url: `/api/jobs/${id}` }));
  try {
    while (view.status === 'queued' || view.status === 'running') {
      if (!trainingEnd) {
        const s0 = performance.now();
        const a = await app.inject({ method: 'POST', url: '/api/collections/syn/search', payload: { modality: 'text', query: { code: hex }, k: 5 } });
        assert.equal(a.statusCode, 200, a.body);
        if (!trainingEnd) searchMs.push(performance.now() - s0);
      }
      view = json(await app.inject({ url: `/api/jobs/${id}` }));
      if (view.progress) apiProgress.push(view.progress);
      await new Promise((res) => setTimeout(res, 20));
    }
  } finally { clearInterval(tick); }
  const trainMs = trainingEnd - t0;

  assert.equal(view.status, 'succeeded', view.error ?? '');
  assert.equal(view.result.previous_version, before.modelVersion);
  assert.deepEqual(view.result.new_labels, ['zebra']);
  assert.equal(view.result.items, N);
  const after = c.snapshot();
  assert.equal(after.modelVersion, view.result.model_version);
  assert.notEqual(after.modelVersion, before.modelVersion);
  assert.equal(after.image.size, before.image.size + N);
  assert.equal((c.history().sessions.at(-1) as { name?: string } | undefined)?.name, 'zebras');
  // progress came from the worker epoch by epoch, and the jobs API showed it
  assert.deepEqual(progress.filter((p) => p.message === 'training' && p.epoch !== undefined).map((p) => p.epoch), Array.from({ length: EPOCHS }, (_, i) => i + 1));
  assert.deepEqual([...new Set(progress.map((p) => p.message))], ['training', 'committing']);
  assert.ok(apiProgress.length > 0, 'the jobs API showed progress while the job ran');
  assert.deepEqual(view.progress, { epoch: EPOCHS, epochs: EPOCHS, message: 'committing' });
  // the event loop was not blocked by training: in-thread, the longest stall is a whole training
  // phase (an epoch, the memory selection); here ticks keep coming and searches answer at once
  assert.ok(trainingEnd > 0 && trainMs > 100, `training took ${trainMs.toFixed(0)} ms`);
  assert.ok(searchMs.length >= 2, `searches during training: ${searchMs.length}`);
  const maxSearch = Math.max(...searchMs);
  t.diagnostic(`training ${trainMs.toFixed(0)} ms; longest timer gap ${maxGap.toFixed(1)} ms; ${searchMs.length} searches, slowest ${maxSearch.toFixed(1)} ms`);
  assert.ok(maxGap < trainMs / 5, `longest timer gap ${maxGap.toFixed(0)} ms while training took ${trainMs.toFixed(0)} ms`);
  assert.ok(maxSearch < trainMs / 5, `slowest search ${maxSearch.toFixed(0)} ms while training took ${trainMs.toFixed(0)} ms`);
  workerCodes = { image: after.image.packed.data.slice(), text: after.text.packed.data.slice() };
  // the worker's temporary checkpoint is gone
  assert.deepEqual(temps().filter((f) => !tempsBefore.includes(f)), []);
});

test('the worker trains the same model as in-thread training for the same seed', async (t) => {
  if (!workerCodes) { t.skip('needs the previous test'); return; }
  const ref = Collection.open(inThreadDir);
  try {
    let last = performance.now(), maxGap = 0;
    const tick = setInterval(() => { const now = performance.now(); maxGap = Math.max(maxGap, now - last); last = now; }, 5);
    const r = await applySessionUpdate(ref, items, { name: 'zebras', epochs: EPOCHS, seed: SEED, inWorker: false }).finally(() => clearInterval(tick));
    t.diagnostic(`in-thread: training ${(r.train_seconds * 1000).toFixed(0)} ms; longest timer gap ${maxGap.toFixed(1)} ms`);
    const a = ref.snapshot(), b = registry.get('syn').snapshot();
    assert.equal(r.model_version, b.modelVersion);
    assert.deepEqual(a.labelNames, b.labelNames);
    assert.deepEqual(a.image.packed.data, workerCodes.image);
    assert.deepEqual(a.text.packed.data, workerCodes.text);
    // the models themselves: identical real-valued outputs
    const rows = 50;
    const img = new Float32Array(rows * fx.ds.imageDim), txt = new Float32Array(rows * fx.ds.textDim);
    for (let i = 0; i < rows; i++) { img.set(fx.ds.imageRow(i), i * fx.ds.imageDim); txt.set(fx.ds.textRow(i), i * fx.ds.textDim); }
    assert.deepEqual(a.hasher!.encode('image', img, rows).values, b.hasher!.encode('image', img, rows).values);
    assert.deepEqual(a.hasher!.encode('text', txt, rows).values, b.hasher!.encode('text', txt, rows).values);
    assert.equal(a.hasher!.bits, BITS);
  } finally { ref.close(); }
});

test('training runs in a process of its own, every thread of it at the lowest priority; a killed process fails the job, the next job trains', async () => {
  const pid = trainingProcessId();
  assert.ok(pid !== null && pid !== process.pid, `training process id ${pid}`);
  if (process.platform === 'linux') {
    // field 19 of /proc/<pid>/task/<tid>/stat is the thread's nice value (fields counted after "(comm)")
    const nice = readdirSync(`/proc/${pid}/task`).map((tid) => Number(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ')[16]));
    assert.ok(nice.length >= 2, `threads of the training process: ${nice.length}`);
    assert.deepEqual([...new Set(nice)], [19], `nice values of the training process's threads: ${nice.join(' ')}`);
  }
  const c = registry.get('syn');
  const v0 = c.snapshot().modelVersion, size0 = c.snapshot().image.size;
  const long = payloadItems().slice(0, 600).map((it, i) => ({ ...it, id: `kill-${i}` }));
  const r = await app.inject({ method: 'POST', url: '/api/collections/syn/sessions', payload: { items: long, epochs: 200 } });
  assert.equal(r.statusCode, 202, r.body);
  const id = json(r).id as string;
  let view = json(await app.inject({ url: `/api/jobs/${id}` }));
  while (!(view.progress?.epoch >= 1) && (view.status === 'queued' || view.status === 'running')) {
    await new Promise((res) => setTimeout(res, 10));
    view = json(await app.inject({ url: `/api/jobs/${id}` }));
  }
  assert.equal(view.status, 'running', 'the job was still training when the process was killed');
  process.kill(pid!, 'SIGKILL');
  await jobs.idle();
  view = json(await app.inject({ url: `/api/jobs/${id}` }));
  assert.equal(view.status, 'failed');
  assert.match(view.error, /training process exited \(SIGKILL\)/);
  assert.equal(c.snapshot().modelVersion, v0, 'nothing committed');
  assert.equal(c.snapshot().image.size, size0);
  // the next job starts a new training process and commits
  const few = payloadItems().slice(0, 40).map((it, i) => ({ ...it, id: `after-kill-${i}` }));
  const r2 = await app.inject({ method: 'POST', url: '/api/collections/syn/sessions', payload: { items: few, epochs: 1 } });
  assert.equal(r2.statusCode, 202, r2.body);
  await jobs.idle();
  const v2 = json(await app.inject({ url: `/api/jobs/${json(r2).id}` }));
  assert.equal(v2.status, 'succeeded', v2.error ?? '');
  assert.equal(c.snapshot().image.size, size0 + 40);
  assert.notEqual(trainingProcessId(), pid);
});

test('a worker that cannot load the checkpoint becomes a failed job with the message; nothing is committed', async () => {
  const c = registry.get('syn');
  const versionsBefore = JSON.stringify(c.history().versions);
  const snap = c.snapshot();
  const v = c.history().versions.find((x) => x.id === snap.modelVersion)!;
  writeFileSync(join(fx.dir, v.checkpoint!), 'this is not a checkpoint');
  const few = payloadItems().slice(0, 4).map((it, i) => ({ ...it, id: `bad-${i}` }));
  const r = await app.inject({ method: 'POST', url: '/api/collections/syn/sessions', payload: { items: few, epochs: 1 } });
  assert.equal(r.statusCode, 202, r.body);
  await jobs.idle();
  const view = json(await app.inject({ url: `/api/jobs/${json(r).id}` }));
  assert.equal(view.status, 'failed');
  assert.match(view.error, /checkpoint .*not a cmhash checkpoint/);
  assert.equal(JSON.stringify(c.history().versions), versionsBefore);
  assert.equal(c.snapshot().modelVersion, snap.modelVersion);
  // the serving model is untouched: searches still answer
  const s = await app.inject({ method: 'POST', url: '/api/collections/syn/search', payload: { modality: 'text', query: { itemId: 'w-1' }, k: 3 } });
  assert.equal(s.statusCode, 200, s.body);
});

test('a large session is checked in slices with the same messages: positions in the whole list, repeats across slices, existing ids', async () => {
  const many = payloadItems().slice(0, 600).map((it, i) => ({ ...it, id: `chk-${i}` }));
  const refused = async (mutate: (list: typeof many) => void, message: RegExp) => {
    const list = many.map((it) => ({ ...it }));
    mutate(list);
    const r = await app.inject({ method: 'POST', url: '/api/collections/syn/sessions', payload: { items: list, epochs: 1 } });
    assert.equal(r.statusCode, 400, r.body);
    assert.match(json(r).message, message);
  };
  const jobsBefore = jobs.list().length;
  await refused((l) => { l[410]!.id = 'chk-3'; }, /^items\[410\]\.id: "chk-3" appears twice/);
  await refused((l) => { l[7]!.id = 'chk-8'; }, /^items\[8\]\.id: "chk-8" appears twice/);
  await refused((l) => { l[333]!.id = 'w-5'; }, /^item "w-5" already exists/);
  assert.equal(jobs.list().length, jobsBefore, 'no job queued');
  // what the schema already refuses over HTTP, called directly: the position in the whole list
  const direct = many.map((it) => ({ ...it, image: Float32Array.from(it.image), text: Float32Array.from(it.text), metadata: null }));
  direct[520]!.id = 'line\nbreak';
  await assert.rejects(checkItemsInSlices(registry.get('syn'), direct), /^InputError: items\[520\]\.id must be 1–512 characters without line breaks/);
});
