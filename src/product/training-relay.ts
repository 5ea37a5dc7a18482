// The relay thread between the serving thread and the training process (training-process.ts). The
// serving thread hands a job's arrays to this thread (transferred, no copy) and this thread sends
// them on to the child process; what the child sends back (progress, the committed record with its
// codes and checkpoint) is received here and passed on with its arrays transferred. So copying
// megabytes into and out of the process pipe — and the fresh pages that costs — never happens on
// the serving thread. Started through util/worker-entry.ts (this thread at lower priority too).
//
// The child starts with this thread and stays between jobs. If it exits, this thread reports it as
// an error (the job in progress fails with it) and ends; the next job starts a new relay and child.
import { parentPort, workerData } from 'node:worker_threads';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { SessionWorkerMessage } from './train-in-worker.js';
import type { WorkerEntry } from '../util/worker-entry.js';
import { crashPointsArmed } from '../util/crash-points.js';

const port = parentPort!;
const lowPriority = (workerData as { entry: WorkerEntry }).entry.lowPriority;

const child = fork(fileURLToPath(new URL('./training-process.js', import.meta.url)), lowPriority ? ['--low-priority'] : [], {
  serialization: 'advanced', // typed arrays cross as typed arrays
  execArgv: [], // not the service's own flags (inspector, test runner)
  stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
});

/** The arrays of a message from the child, to transfer to the serving thread instead of copying. */
function transferables(m: SessionWorkerMessage): ArrayBuffer[] {
  if (m.type !== 'committed') return [];
  const r = m.record;
  const bufs = [r.image.data.buffer, r.text.data.buffer, ...(r.checkpointData?.tensors.map((t) => t.data.buffer) ?? [])];
  return [...new Set(bufs)] as ArrayBuffer[];
}

if (child.pid !== undefined) port.postMessage({ type: 'started', pid: child.pid } satisfies SessionWorkerMessage);
child.on('message', (m: SessionWorkerMessage) => port.postMessage(m, transferables(m)));
child.on('error', (e) => port.postMessage({ type: 'error', message: `training process: ${e.message}` } satisfies SessionWorkerMessage));
child.on('exit', (code, signal) => {
  // under the crash tests, the process killed at a crash point stands for the whole service crashing
  if (signal === 'SIGKILL' && crashPointsArmed()) process.kill(process.pid, 'SIGKILL');
  port.postMessage({ type: 'error', message: `training process exited (${signal ?? `code ${code}`}) before finishing` } satisfies SessionWorkerMessage);
  process.exit(1); // this thread ends with it; the next job starts both again
});

port.on('message', (m: unknown) => { child.send(m as object); });
