// The worker thread of trainInWorker (train-in-worker.ts): loads the model from the checkpoint it
// is given, trains it on the session (update(), the same call an in-thread update makes, with the
// parent's backend, ISA variant and kernel-thread setting, so the result is the same model),
// saves it to the requested path and reports {type: 'done'}; progress is posted once per epoch;
// a failure is posted as {type: 'error', message}.
import { parentPort, workerData } from 'node:worker_threads';
import { constants, setPriority } from 'node:os';
import { getBackend, getJsBackend, setBackend } from '../tensor/backends.js';
import { createNativeBackend, type IsaVariant } from '../tensor/backend-native.js';
import { isContinual, loadHasher } from '../methods/registry.js';
import type { SessionWorkerData, SessionWorkerMessage } from './train-in-worker.js';

const port = parentPort!;
const post = (m: SessionWorkerMessage) => port.postMessage(m);

async function main(d: SessionWorkerData): Promise<void> {
  // on Linux setpriority(0) concerns the calling thread only: this worker, not the serving thread
  if (d.lowPriority !== false && process.platform === 'linux') {
    try { setPriority(constants.priority.PRIORITY_BELOW_NORMAL); } catch { /* not permitted: train at normal priority */ }
  }
  if (d.backend.name === 'js') setBackend(getJsBackend());
  else {
    const native = createNativeBackend(d.backend.variant as IsaVariant);
    if (!native) throw new Error('the native addon does not load in the training worker');
    setBackend(native);
  }
  if (getBackend().getThreads() !== d.threads) getBackend().setThreads(d.threads);
  const model = loadHasher(d.checkpoint);
  if (!isContinual(model)) throw new Error(`${d.checkpoint}: a ${model.method} model cannot learn from a session`);
  const t0 = performance.now();
  await model.update(d.session, { ...d.options, onProgress: (progress) => post({ type: 'progress', progress }) });
  const trainSeconds = (performance.now() - t0) / 1000;
  model.save(d.out);
  post({ type: 'done', trainSeconds, method: model.method });
}

main(workerData as SessionWorkerData).catch((e: unknown) => post({ type: 'error', message: e instanceof Error ? e.message : String(e) }));
