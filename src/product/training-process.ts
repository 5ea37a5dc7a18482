// The training process of trainInWorker (train-in-worker.ts): a child process of the service, kept
// between jobs, that talks to it through the relay thread (training-relay.ts). For each job it loads
// the model from the checkpoint it is given, trains it on the session (update(), the same call an
// in-thread update makes, with the parent's backend, ISA variant and kernel-thread setting, so the
// result is the same model), says {type: 'trained'}, and when told to commit, commits the version
// on its own store connection and sends back what it stored; progress is sent once per epoch; a
// failure is sent as {type: 'error', message}.
//
// Why a process and not a thread: every thread of this process — the training itself, V8's garbage
// collection helpers, the kernel thread pool — runs at the lowest CPU priority (lowerPriority), and
// its allocations and page faults are in a memory map of its own, so the service's serving thread
// gets a core whenever it wants one (a worker thread could lower only itself: the helpers that
// collect its garbage are the service's).
import { readdirSync } from 'node:fs';
import { constants, setPriority } from 'node:os';
import { getBackend, getJsBackend, setBackend } from '../tensor/backends.js';
import { createNativeBackend, type IsaVariant } from '../tensor/backend-native.js';
import { isContinual, loadHasher } from '../methods/registry.js';
import { loadCheckpoint } from '../nn/checkpoint.js';
import type { LoadedCheckpoint } from '../methods/checkpoint-io.js';
import { checkpointMessage, type CommitRecordMessage, type SessionWorkerData, type SessionWorkerMessage, type TrainingProcessRequest } from './train-in-worker.js';
import { readSessionArrays } from './session-file.js';
import { Collection, type CommitRecord, type ItemInput } from './collection.js';

/** Every thread of this process to the lowest priority (Linux: per thread, so each task; elsewhere the process). */
function lowerPriority(): void {
  const low = constants.priority.PRIORITY_LOW;
  if (process.platform !== 'linux') { try { setPriority(low); } catch { /* not permitted */ } return; }
  // threads started later (the kernel pool, libuv's) inherit the priority of the thread that starts them
  for (const tid of readdirSync('/proc/self/task')) { try { setPriority(Number(tid), low); } catch { /* gone or not permitted */ } }
}

if (process.argv.includes('--low-priority')) lowerPriority();
// the service went away (closed, crashed): nothing left to train for
process.on('disconnect', () => process.exit(0));

const post = (m: SessionWorkerMessage) => { process.send!(m); };

/** The serving thread's answer to {type: 'trained'}: commit now (it holds the collection's lock). */
let commitNow: (() => void) | null = null;

/** The serving thread's backend, ISA variant and kernel-thread setting, so training gives the same model. */
function useBackend(b: SessionWorkerData['backend'], threads: number): void {
  const be = getBackend();
  if (be.name !== b.name || be.variant !== b.variant) {
    if (b.name === 'js') setBackend(getJsBackend());
    else {
      const native = createNativeBackend(b.variant as IsaVariant);
      if (!native) throw new Error('the native addon does not load in the training worker');
      setBackend(native);
    }
  }
  if (getBackend().getThreads() !== threads) getBackend().setThreads(threads);
}

async function runJob(d: SessionWorkerData): Promise<void> {
  useBackend(d.backend, d.threads);
  const model = loadHasher(d.checkpoint);
  if (!isContinual(model)) throw new Error(`${d.checkpoint}: a ${model.method} model cannot learn from a session`);
  const t0 = performance.now();
  await model.update(d.session, { ...d.options, onProgress: (progress) => post({ type: 'progress', progress }) });
  const trainSeconds = (performance.now() - t0) / 1000;
  // commit here, once the serving thread holds the collection's write lock and says so
  post({ type: 'trained', trainSeconds, method: model.method });
  await new Promise<void>((r) => { commitNow = r; });
  const c = d.commit, s = d.session;
  const collection = Collection.open(c.dir);
  try {
    const items: ItemInput[] = c.ids.map((id, i) => ({
      id, image: s.image.subarray(i * s.imageDim, (i + 1) * s.imageDim), text: s.text.subarray(i * s.textDim, (i + 1) * s.textDim),
      labels: c.labels[i]!, metadata: c.metadata[i] ?? null,
    }));
    const r = await collection.commitModelRecord(model, items, {
      labelNames: c.labelNames, inherit: true,
      session: { ...c.session, meta: { ...(c.session.meta as object | undefined), train_seconds: trainSeconds } }, meta: { ...c.meta, trainSeconds },
    });
    const codes = (x: CommitRecord['image']) => ({ ids: x.ids, bits: x.codes.bits, count: x.codes.count, data: x.codes.data });
    // never the record's model, should it carry one (a Hasher does not cross threads)
    const { model: _model, ...stored } = r;
    const record: CommitRecordMessage = { ...stored, image: codes(r.image), text: codes(r.text) };
    // the committed checkpoint read back here, so the serving thread builds its model without the file
    try {
      const ck = checkpointMessage(loadCheckpoint(collection.checkpointPath(r.checkpoint)) as LoadedCheckpoint);
      record.checkpointData = ck.message;
    } catch { /* the serving thread loads the checkpoint itself */ }
    post({ type: 'committed', record });
  } finally { collection.close(); }
}

// jobs arrive one at a time (the serving thread runs one per process); the thread stays for the next
process.on('message', (m: TrainingProcessRequest) => {
  if (m.type === 'commit') { const go = commitNow; commitNow = null; go?.(); return; }
  if (m.type === 'warm') { try { useBackend(m.backend, m.threads); } catch { /* the first job reports it */ } post({ type: 'ready' }); return; }
  const job = async () => {
    // the session's arrays, when the relay sent them in a file (session-file.ts)
    if (m.arrays) Object.assign(m.data.session, readSessionArrays(m.arrays));
    await runJob(m.data);
  };
  job().catch((e: unknown) => post({ type: 'error', message: e instanceof Error ? e.message : String(e) }));
});
