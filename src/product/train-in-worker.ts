// Training a session update on a worker thread (session-worker.ts), so the thread that serves
// searches is not blocked for the seconds an update takes. The worker loads its own copy of the
// model from the current checkpoint, trains it on the session (feature arrays are moved to it, not
// copied), saves the result to a temporary checkpoint and says where; the caller loads that file
// and commits it. Progress comes back per epoch; any failure in the worker (a bad checkpoint, an
// exception in training, the thread dying) rejects with its message.
//
// Threads: the native addon keeps one kernel-thread setting and one kernel thread pool per
// process, shared by every thread of it (CMHASH_THREADS, `--threads`, setThreads). The worker gets
// the parent's setting explicitly (a no-op with one shared addon; it keeps the worker right should
// the setting ever become per-thread), so training and searches together use what the process was
// told to use — on a 2-core machine that serves searches, run it with 1 kernel thread: the event
// loop takes one core, the training worker the other. One training worker runs at a time per
// process (others wait their turn), so two collections' updates do not take every core at once.
// On Linux the training thread also runs at a lower CPU priority (nice +10, lowPriority), so the
// serving thread wins a core whenever both want it (a machine shared with other work included).
import { Worker } from 'node:worker_threads';
import { getBackend } from '../tensor/backends.js';
import type { SessionData, TrainOptions, TrainProgress } from '../methods/hasher.js';

/** Training options that cross to the worker (plain data: no callbacks). */
export type WorkerTrainOptions = Omit<TrainOptions, 'onProgress'> & { updateEpochs?: number };

export interface WorkerTrainRequest {
  /** Checkpoint of the model to start from. */
  checkpoint: string;
  /** Where the worker saves the trained model. */
  out: string;
  session: SessionData;
  options: WorkerTrainOptions;
  /**
   * Run the training thread at a lower CPU priority (nice +10; default true), so when the serving
   * thread and training both want a core the serving thread gets it. Linux only, where a thread's
   * priority is its own; elsewhere setting it would lower the whole process, so it is left alone.
   */
  lowPriority?: boolean;
}

export interface WorkerTrainResult { trainSeconds: number; method: string }

/** What session-worker.ts receives as workerData. */
export interface SessionWorkerData extends WorkerTrainRequest {
  backend: { name: string; variant: string };
  threads: number;
}

export type SessionWorkerMessage =
  | { type: 'progress'; progress: TrainProgress }
  | { type: 'done'; trainSeconds: number; method: string }
  | { type: 'error'; message: string };

let running = 0;
const waiting: (() => void)[] = [];

async function acquire(): Promise<void> {
  if (running < 1) { running++; return; }
  await new Promise<void>((r) => waiting.push(r));
}

function release(): void {
  const next = waiting.shift();
  if (next) next(); else running--;
}

/**
 * Trains `req.session` on a worker thread; resolves once the trained model is saved at `req.out`.
 * The session's arrays are transferred (unusable here afterwards).
 */
export async function trainInWorker(req: WorkerTrainRequest, onProgress?: (p: TrainProgress) => void): Promise<WorkerTrainResult> {
  await acquire();
  try {
    return await runWorker(req, onProgress);
  } finally { release(); }
}

function runWorker(req: WorkerTrainRequest, onProgress?: (p: TrainProgress) => void): Promise<WorkerTrainResult> {
  const be = getBackend();
  const data: SessionWorkerData = { ...req, backend: { name: be.name, variant: be.variant }, threads: be.getThreads() };
  const s = req.session;
  const transfer = [...new Set([s.image.buffer, s.text.buffer, s.labels.buffer])] as ArrayBuffer[];
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (fn: () => void) => { if (!settled) { settled = true; fn(); } };
    const worker = new Worker(new URL('./session-worker.js', import.meta.url), { workerData: data, transferList: transfer });
    worker.on('message', (m: SessionWorkerMessage) => {
      if (m.type === 'progress') { try { onProgress?.(m.progress); } catch { /* a progress listener does not stop training */ } }
      else if (m.type === 'done') settle(() => resolve({ trainSeconds: m.trainSeconds, method: m.method }));
      else settle(() => reject(new Error(m.message)));
    });
    worker.on('error', (e) => settle(() => reject(new Error(`session worker: ${e.message}`))));
    worker.on('exit', (code) => settle(() => reject(new Error(`session worker exited (code ${code}) before finishing`))));
  });
}
