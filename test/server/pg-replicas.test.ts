// Two `cmhash serve --store postgresql://…` replicas on one database: identical answers; a write
// through one is searchable on the other within a second; a session posted to one is applied
// exactly once and reported by both; when the replica running a session dies, the other takes the
// job over and applies it — once. And the guarantee underneath: a job id commits at most once.
// Skips, saying why, where no PostgreSQL server can be started.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { localClusterUnavailable, startLocalCluster, type LocalCluster } from '../../src/index/pg/local-cluster.js';
import { PgStore } from '../../src/index/pg/pg-store.js';
import { Collection } from '../../src/product/collection.js';
import { generateSynthetic } from '../../src/data/synthetic.js';
import { vocabularyFromTerms } from '../../src/data/text-features.js';
import { createContinualHasher } from '../../src/methods/registry.js';
import { buildContinualCollection } from '../../src/product/build-collection.js';
import type { Dataset } from '../../src/data/dataset.js';

const BIN = resolve('bin/cmhash.js');
const why = localClusterUnavailable();
const TERMS = Array.from({ length: 30 }, (_, i) => `w${i}`);
let pg: LocalCluster | null = null;
let ds: Dataset;
const children: ChildProcess[] = [];

interface Replica { url: string; proc: ChildProcess }

function startReplica(env: Record<string, string> = {}, extra: string[] = []): Promise<Replica> {
  return new Promise((resolveStart, reject) => {
    const proc = spawn(process.execPath, [BIN, 'serve', '--store', pg!.url, '--port', '0', '--json', '--threads', '1', ...extra], {
      env: { ...process.env, CMHASH_JOB_STALE_SECONDS: '3', ...env }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(proc);
    let out = '', err = '';
    proc.stdout!.on('data', (d) => {
      out += d;
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolveStart({ url: JSON.parse(line).local_url as string, proc });
    });
    proc.stderr!.on('data', (d) => { err += d; });
    proc.on('exit', (code) => reject(new Error(`replica exited (${code}): ${err}`)));
  });
}

async function api(r: Replica, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(r.url + path, body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, json: await res.json() };
}

const strip = (a: any) => ({ ...a, took_ms: undefined });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitJob(r: Replica, id: string, ms = 120_000): Promise<any> {
  const t0 = Date.now();
  for (;;) {
    const j = await api(r, `/api/jobs/${id}`);
    if (j.status === 200 && (j.json.status === 'succeeded' || j.json.status === 'failed')) return j.json;
    if (Date.now() - t0 > ms) throw new Error(`job ${id} not finished after ${ms} ms: ${JSON.stringify(j.json)}`);
    await sleep(200);
  }
}

function sessionItems(from: number, n: number, labels: string[]) {
  return Array.from({ length: n }, (_, i) => ({
    id: `sess-${from + i}`, image: Array.from(ds.imageRow(from + i)), text: Array.from(ds.textRow(from + i)), labels: [labels[i % labels.length]!],
  }));
}

before(async () => {
  if (why) return;
  pg = await startLocalCluster();
  ds = generateSynthetic({ n: 600, numLabels: 6, imageDim: 24, textDim: TERMS.length, seed: 9 });
  const r = await buildContinualCollection(ds, {
    dir: `${pg.url}#rep`, name: 'rep', hasher: createContinualHasher('ccmh-gam', { bits: 16, hidden: 16 }), bits: 16, sessions: '3x2', seed: 1,
    train: { epochs: 2, labelSteps: 20 }, vocabulary: vocabularyFromTerms(TERMS),
  });
  r.collection.close();
});

after(() => {
  for (const c of children) c.kill('SIGKILL');
  pg?.stop();
});

test('replicas: identical answers, a write through one searchable on the other within 1 s, a session applied once and reported by both', { timeout: 300_000 }, async (t) => {
  if (why) { t.skip(`PostgreSQL tests skipped: ${why}`); return; }
  // c searches in PostgreSQL (nothing loaded): the same answers as the in-memory replicas
  const [a, b, c] = await Promise.all([startReplica(), startReplica(), startReplica({}, ['--search', 'server'])]);
  for (const q of [{ modality: 'text', query: { text: 'w1 w7 w9' }, k: 10 }, { modality: 'image', query: { itemId: ds.ids[5] }, k: 25 }, { modality: 'text', query: { text: 'w3' }, radius: 3 }]) {
    const [x, y, z] = await Promise.all([api(a, '/api/collections/rep/search', q), api(b, '/api/collections/rep/search', q), api(c, '/api/collections/rep/search', q)]);
    assert.equal(x.status, 200, JSON.stringify(x.json));
    assert.deepEqual(strip(y.json), strip(x.json));
    assert.deepEqual(strip(z.json), strip(x.json), 'server-side search answers as the in-process one');
  }
  c.proc.kill('SIGTERM');
  // a write through a, searched for on b until it appears
  const add = await api(a, '/api/collections/rep/items', { items: [{ id: 'fresh-1', raw_text: 'w2 w4 w8', labels: [] }] });
  assert.equal(add.status, 200, JSON.stringify(add.json));
  const t0 = Date.now();
  let seen = -1;
  while (Date.now() - t0 < 5000) {
    const r = await api(b, '/api/collections/rep/search', { modality: 'text', query: { itemId: 'fresh-1' }, k: 1 });
    if (r.status === 200) { seen = Date.now() - t0; break; }
    await sleep(20);
  }
  assert.ok(seen >= 0 && seen <= 1000, `b saw the item after ${seen} ms (must be ≤ 1000)`);
  process.stdout.write(`# replicas: a write through one replica was searchable on the other after ${seen} ms\n`);

  // a session posted to b: one job, applied once, both report it and answer with the new version
  const before = (await api(a, '/api/collections/rep')).json.model_version as number;
  const post = await api(b, '/api/collections/rep/sessions', { items: sessionItems(300, 40, ['new-label', 'class0']), epochs: 2, seed: 4 });
  assert.equal(post.status, 202, JSON.stringify(post.json));
  const onA = await waitJob(a, post.json.id);
  assert.equal(onA.status, 'succeeded', JSON.stringify(onA));
  const onB = await waitJob(b, post.json.id);
  assert.equal(onB.status, 'succeeded');
  const t1 = Date.now();
  while ((await api(a, '/api/collections/rep')).json.model_version === before && Date.now() - t1 < 5000) await sleep(20);
  const [ia, ib] = await Promise.all([api(a, '/api/collections/rep'), api(b, '/api/collections/rep')]);
  assert.equal(ia.json.model_version, ib.json.model_version);
  assert.ok(ia.json.model_version > before, 'the new version is current on both');
  const q = { modality: 'text', query: { itemId: 'sess-300' }, k: 15 };
  assert.deepEqual(strip((await api(a, '/api/collections/rep/search', q)).json), strip((await api(b, '/api/collections/rep/search', q)).json));
  const s = PgStore.open(pg!.url, 'rep');
  try { assert.equal(s.sessions().filter((x) => (x.meta as { job?: string } | null)?.job === post.json.id).length, 1, 'the session is recorded once'); } finally { s.close(); }
  a.proc.kill('SIGTERM'); b.proc.kill('SIGTERM');
});

test('replicas: when the replica running a session dies, the other takes the job over and applies it once', { timeout: 300_000 }, async (t) => {
  if (why) { t.skip(`PostgreSQL tests skipped: ${why}`); return; }
  const [a, b] = await Promise.all([startReplica(), startReplica()]);
  const before = (await api(b, '/api/collections/rep')).json.model_version as number;
  const post = await api(a, '/api/collections/rep/sessions', { items: sessionItems(400, 60, ['late', 'class1']), epochs: 40, seed: 5 });
  assert.equal(post.status, 202, JSON.stringify(post.json));
  // wait until a is training, then kill it (no cleanup: SIGKILL)
  for (let i = 0; i < 200; i++) {
    const j = await api(b, `/api/jobs/${post.json.id}`);
    if (j.status === 200 && j.json.status === 'running' && j.json.progress) break;
    await sleep(50);
  }
  a.proc.kill('SIGKILL');
  const job = await waitJob(b, post.json.id);
  assert.equal(job.status, 'succeeded', JSON.stringify(job));
  const info = (await api(b, '/api/collections/rep')).json;
  assert.equal(info.model_version, before + 2, 'exactly one new version pair');
  const s = PgStore.open(pg!.url, 'rep');
  try {
    assert.equal(s.sessions().filter((x) => (x.meta as { job?: string } | null)?.job === post.json.id).length, 1, 'the session is recorded once');
  } finally { s.close(); }
  process.stdout.write(`# replicas: the job of a killed replica was taken over and applied once (version ${before} → ${info.model_version})\n`);
  b.proc.kill('SIGTERM');
});

test('a job id commits at most once: the second commit of the same session job changes nothing', async (t) => {
  if (why) { t.skip(`PostgreSQL tests skipped: ${why}`); return; }
  const c = Collection.open(pg!.url, { name: 'rep' });
  const c2 = Collection.open(pg!.url, { name: 'rep' });
  try {
    const names = c.snapshot().labelNames;
    const hasher = c.snapshot().hasher!;
    const opts = { labelNames: names, inherit: true, session: { name: 'dup', newClasses: [], meta: { job: 'job-twice' } } };
    await c.commitModel(hasher, [], opts);
    const v = c.snapshot().modelVersion;
    await c2.refresh();
    await assert.rejects(c2.commitModel(hasher, [], opts), /sessions_job_key|duplicate/);
    await c.refresh();
    assert.equal(c.snapshot().modelVersion, v, 'the second commit changed nothing');
  } finally { c.close(); c2.close(); }
});

test('cmhash search --store … --search server answers as the in-memory search', async (t) => {
  if (why) { t.skip(`PostgreSQL tests skipped: ${why}`); return; }
  const { spawnSync } = await import('node:child_process');
  const search = (extra: string[]) => {
    const r = spawnSync(process.execPath, [BIN, 'search', 'rep', '--store', pg!.url, '--text', 'w1 w7 w9', '--k', '8', '--json', ...extra], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout.trim().split('\n').pop()!);
  };
  const mem = search([]), srv = search(['--search', 'server']);
  assert.equal(mem.results.length, 8);
  assert.deepEqual(srv, mem);
  const bad = spawnSync(process.execPath, [BIN, 'search', 'rep', '--store', pg!.url, '--text', 'w1', '--search', 'disk'], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--search: expected memory or server/);
});
