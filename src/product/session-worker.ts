// The worker thread of trainInWorker (train-in-worker.ts), kept between jobs: for each job it loads
// the model from the checkpoint it is given, trains it on the session (update(), the same call an
// in-thread update makes, with the parent's backend, ISA variant and kernel-thread setting, so the
// result is the same model), says {type: 'trained'}, and when told to commit, commits the version
// on its own store connection and sends back what it stored; progress is posted once per epoch; a
// failure is posted as {type: 'error', message}. Started through util/worker-entry.ts (which lowers
// the thread's priority first).
import { parentPort } from 'node:worker_threads';
import { getBackend, getJsBackend, setBackend } from '../tensor/backends.js';
import { createNativeBackend, type IsaVariant } from '../tensor/backend-native.js';
import { isContinual, loadHasher } from '../methods/registry.js';
import { loadCheckpoint } from '../nn/checkpoint.js';
import type { LoadedCheckpoint } from '../methods/checkpoint-io.js';
import { checkpointMessage, type CommitRecordMessage, type SessionWorkerData, type SessionWorkerMessage } from './train-in-worker.js';
import { Collection, type CommitRecord, type ItemInput } from './collection.js';

const port = parentPort!;
const post = (m: SessionWorkerMessage) => port.postMessage(m);

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
    const transfer = [record.image.data.buffer, record.text.data.buffer] as ArrayBuffer[];
    // the committed checkpoint read back here, so the serving thread builds its model without the file
    try {
      const ck = checkpointMessage(loadCheckpoint(collection.checkpointPath(r.checkpoint)) as LoadedCheckpoint);
      record.checkpointData = ck.message;
      transfer.push(...ck.transfer);
    } catch { /* the serving thread loads the checkpoint itself */ }
    port.postMessage({ type: 'committed', record } satisfies SessionWorkerMessage, [...new Set(transfer)]);
  } finally { collection.close(); }
}

// jobs arrive one at a time (the serving thread runs one per process); the thread stays for the next
port.on('message', (m: { type: 'job'; data: SessionWorkerData } | { type: 'commit' } | { type: 'warm'; backend: SessionWorkerData['backend']; threads: number }) => {
  if (m.type === 'commit') { const go = commitNow; commitNow = null; go?.(); return; }
  if (m.type === 'warm') { try { useBackend(m.backend, m.threads); } catch { /* the first job reports it */ } return; }
  runJob(m.data).catch((e: unknown) => post({ type: 'error', message: e instanceof Error ? e.message : String(e) }));
});
