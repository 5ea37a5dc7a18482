// The relay thread between the serving thread and the training process (training-process.ts). The
// serving thread hands a job's arrays to this thread (transferred, no copy) and this thread writes
// them to a file the child reads (session-file.ts: no multi-megabyte serialisation buffer in the
// service's memory map); what the child sends back (progress, the committed record with its codes
// and checkpoint) is received here and passed on with its arrays transferred. So copying megabytes
// into and out of the process never happens on the serving thread. Started through
// util/worker-entry.ts (this thread at lower priority too).
//
// The child starts with this thread and stays between jobs. If it exits, this thread reports it as
// an error (the job in progress fails with it) and ends; the next job starts a new relay and child.
import { parentPort, workerData } from 'node:worker_threads';
import { fork } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SessionWorkerMessage, TrainingProcessRequest } from './train-in-worker.js';
import { writeSessionArrays } from './session-file.js';
import type { WorkerEntry } from '../util/worker-entry.js';
import { crashPointsArmed } from '../util/crash-points.js';

const port = parentPort!;
const { entry, filesDir } = workerData as { entry: WorkerEntry; filesDir: string };
const lowPriority = entry.lowPriority;

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

// The jobs' session files go to filesDir, made by the serving thread (train-in-worker.ts): each file
// is removed by the child once read, the folder when the child ends or the service exits.
let jobCount = 0;
const removeFiles = () => rmSync(filesDir, { recursive: true, force: true });

/** A job's session arrays go through a file; should writing it fail, through the pipe as they are. */
function forChild(m: TrainingProcessRequest): TrainingProcessRequest {
  if (m.type !== 'job') return m;
  const s = m.data.session;
  try {
    const arrays = writeSessionArrays(join(filesDir, `session-${++jobCount}.bin`), s);
    return { type: 'job', data: { ...m.data, session: { ...s, image: new Float32Array(0), text: new Float32Array(0), labels: new Uint8Array(0) } }, arrays };
  } catch { return m; }
}

if (child.pid !== undefined) port.postMessage({ type: 'started', pid: child.pid } satisfies SessionWorkerMessage);
child.on('message', (m: SessionWorkerMessage) => port.postMessage(m, transferables(m)));
child.on('error', (e) => port.postMessage({ type: 'error', message: `training process: ${e.message}` } satisfies SessionWorkerMessage));
child.on('exit', (code, signal) => {
  // under the crash tests, the process killed at a crash point stands for the whole service crashing
  if (signal === 'SIGKILL' && crashPointsArmed()) process.kill(process.pid, 'SIGKILL');
  removeFiles();
  port.postMessage({ type: 'error', message: `training process exited (${signal ?? `code ${code}`}) before finishing`, ended: true } satisfies SessionWorkerMessage);
  process.exit(1); // this thread ends with it; the next job starts both again
});

port.on('message', (m: TrainingProcessRequest) => { child.send(forChild(m)); });
