// Entry of the project's worker threads (session bodies, session training): on Linux it first lowers
// this thread's CPU priority (nice +10; setpriority concerns the calling thread only there), then
// loads the worker's own module — so that even the worker's start (a new thread loading the native
// addon, a model) gives way to the serving thread when both want a core. Elsewhere a thread's
// priority would be the process's, so it is left alone.
import { workerData } from 'node:worker_threads';
import { constants, setPriority } from 'node:os';

export interface WorkerEntry { module: string; lowPriority: boolean }

const entry = (workerData as { entry: WorkerEntry }).entry;
if (entry.lowPriority && process.platform === 'linux') {
  try { setPriority(constants.priority.PRIORITY_BELOW_NORMAL); } catch { /* not permitted: normal priority */ }
}
await import(entry.module);
