// Training a session update off the serving thread, so the thread that serves searches is not
// blocked for the seconds an update takes. Training runs in a child process (training-process.ts)
// reached through a relay thread (training-relay.ts): the serving thread hands the session's arrays
// to the relay (transferred, not copied), the relay sends them to the process. The process loads its
// own copy of the model from the current checkpoint and trains it on the session. Then it commits
// the new version itself — it opens the collection's store on its own connection, encodes the
// session's items and writes everything in one unit of work — while the caller holds the
// collection's write lock (`adopt`), and sends back what it stored, which the caller swaps in
// (Collection.adoptCommit): the serving thread never encodes, writes or re-reads codes. Progress
// comes back per epoch; any failure (a bad checkpoint, an exception in training or in the commit,
// the process dying) rejects with its message.
//
// Priority: on Linux the training process runs every one of its threads at the lowest CPU priority
// (nice 19: training, its garbage collection, its kernel threads) and the relay thread at nice +10,
// so when the serving thread and training both want a core, the serving thread gets it — on a
// machine shared with other work too. A worker thread could lower only itself, not the V8 helper
// threads that collect its garbage, nor keep its page faults out of the service's memory map.
//
// Kernel threads: the process gets the service's setting (CMHASH_THREADS, `--threads`, setThreads)
// and the same backend and ISA variant, so it trains the same model. On a 2-core machine that serves
// searches, run the service with 1 kernel thread: the event loop takes one core, training the
// other. One training job runs at a time per service (others wait their turn), so two collections'
// updates do not take every core at once.
import { Worker } from 'node:worker_threads';
import { getBackend } from '../tensor/backends.js';
import type { WorkerEntry } from '../util/worker-entry.js';
import { processTempDir } from '../util/process-temp-dir.js';
import type { SessionData, TrainOptions, TrainProgress } from '../methods/hasher.js';
import { PackedCodes } from '../codes/packed-codes.js';
import { Tensor } from '../tensor/tensor.js';
import type { LoadedCheckpoint } from '../methods/checkpoint-io.js';
import { hasherFromCheckpointData } from '../methods/registry.js';
import type { CommitRecord } from './collection.js';
import type { SessionArraysFile } from './session-file.js';

/** Training options that cross to the worker (plain data: no callbacks). */
export type WorkerTrainOptions = Omit<TrainOptions, 'onProgress'> & { updateEpochs?: number };

/** What the worker needs to commit the session itself (features come from the session's arrays). */
export interface WorkerCommitRequest {
  dir: string;
  ids: string[];
  labels: string[][];
  metadata: unknown[];
  labelNames: string[];
  session: { name: string; newClasses: string[]; meta?: unknown };
  meta?: Record<string, unknown>;
}

export interface WorkerTrainRequest {
  /** Checkpoint of the model to start from. */
  checkpoint: string;
  /** What the worker commits once trained (see adopt in trainInWorker). */
  commit: WorkerCommitRequest;
  session: SessionData;
  options: WorkerTrainOptions;
  /**
   * Run training at the lowest CPU priority (default true): on Linux every thread of the training
   * process at nice 19 and the relay thread at nice +10; elsewhere the training process at low
   * priority (the relay thread is left alone: a thread's priority there is its process's).
   */
  lowPriority?: boolean;
}

export interface WorkerTrainResult { trainSeconds: number; method: string; version: number }

/**
 * A checkpoint file's contents as they cross threads: what loadCheckpoint (nn/checkpoint.ts) gives
 * for it, each tensor's values a Float32Array whose buffer is transferred (not copied).
 */
export interface CheckpointMessage {
  kind: string;
  architecture: unknown;
  meta: unknown;
  tensors: { name: string; rows: number; cols: number; data: Float32Array }[];
}

/**
 * A CommitRecord as it crosses threads (codes as plain words). Never its `model` (a Hasher is not
 * structured-cloneable, and must not be shared): instead the committed checkpoint's contents, read
 * back by the worker, from which the serving thread builds its own copy (hasherFromCheckpointData)
 * without reading or checking the file.
 */
export interface CommitRecordMessage extends Omit<CommitRecord, 'image' | 'text' | 'model'> {
  image: { ids: string[]; bits: number; count: number; data: Uint32Array };
  text: { ids: string[]; bits: number; count: number; data: Uint32Array };
  checkpointData?: CheckpointMessage;
}

/** The checkpoint contents to post, and the buffers to transfer with them. */
export function checkpointMessage(ck: LoadedCheckpoint): { message: CheckpointMessage; transfer: ArrayBuffer[] } {
  const tensors = Object.entries(ck.tensors).map(([name, t]) => ({ name, rows: t.rows, cols: t.cols, data: t.data instanceof Float32Array ? t.data : Float32Array.from(t.data) }));
  return { message: { kind: ck.kind, architecture: ck.architecture, meta: ck.meta, tensors }, transfer: [...new Set(tensors.map((t) => t.data.buffer as ArrayBuffer))] };
}

/** The checkpoint contents back as loadCheckpoint gives them (tensors wrap the received arrays). */
export function loadedCheckpointOf(m: CheckpointMessage): LoadedCheckpoint {
  const tensors: Record<string, Tensor> = {};
  for (const t of m.tensors) tensors[t.name] = Tensor.wrap(t.rows, t.cols, t.data);
  return { kind: m.kind, architecture: m.architecture, meta: m.meta, tensors };
}

/** Runs `commit` (the training process's commit) while the caller holds its write lock; returns the model version. */
export type AdoptCommit = (commit: () => Promise<CommitRecord>) => Promise<number>;

/** What the training process receives with a job. */
export interface SessionWorkerData extends WorkerTrainRequest {
  backend: { name: string; variant: string };
  threads: number;
}

/**
 * What the training process receives (through the relay). A job's session arrays arrive in the file
 * `arrays` names (session-file.ts), its `data.session` then carrying empty arrays.
 */
export type TrainingProcessRequest =
  | { type: 'job'; data: SessionWorkerData; arrays?: SessionArraysFile }
  | { type: 'commit' }
  | { type: 'warm'; backend: SessionWorkerData['backend']; threads: number };

export type SessionWorkerMessage =
  | { type: 'progress'; progress: TrainProgress }
  | { type: 'trained'; trainSeconds: number; method: string }
  | { type: 'committed'; record: CommitRecordMessage }
  /** `ended`: the relay is ending with its process (sent just before it exits). */
  | { type: 'error'; message: string; ended?: boolean }
  | { type: 'started'; pid: number }
  | { type: 'ready' };

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
 * Trains `req.session` on the training thread and has it commit the result (under `adopt`);
 * resolves with the committed model version.
 * The session's arrays are transferred (unusable here afterwards).
 */
export async function trainInWorker(req: WorkerTrainRequest, onProgress: ((p: TrainProgress) => void) | undefined, adopt: AdoptCommit): Promise<WorkerTrainResult> {
  await acquire();
  try {
    return await runWorker(req, onProgress, adopt);
  } finally { release(); }
}

/**
 * The record the worker committed, with the committed model built here from the checkpoint contents
 * the worker sent (no file read, no checksum, no fresh copy of the file on this thread); without
 * them, or if they do not build a model, the record has no model and adoptCommit loads the
 * checkpoint as before.
 */
function recordOf(m: CommitRecordMessage): CommitRecord {
  const { checkpointData, ...rest } = m;
  const record: CommitRecord = {
    ...rest,
    image: { ids: m.image.ids, codes: new PackedCodes(m.image.bits, m.image.count, m.image.data) },
    text: { ids: m.text.ids, codes: new PackedCodes(m.text.bits, m.text.count, m.text.data) },
  };
  if (checkpointData) {
    try { record.model = hasherFromCheckpointData(loadedCheckpointOf(checkpointData), m.checkpoint); } catch { /* adoptCommit loads the file */ }
  }
  return record;
}

/**
 * The relay thread and its training process, kept between jobs (started with the service,
 * prestartTrainingWorker), so a job does not start a process — loading the native addon and the
 * method code — while searches are being served; jobs run one at a time (acquire/release), each
 * attaching its own message handler. The thread keeps the service alive only while a job runs; if
 * the process dies, the job fails and the next one starts both again.
 */
interface TrainingThread {
  worker: Worker; pid: number | null;
  /** Settles once the training process has loaded its code and backend (or the relay is gone). */
  ready: Promise<void>; markReady: () => void;
  onMessage: ((m: SessionWorkerMessage) => void) | null; onFailure: ((e: Error) => void) | null;
}
let thread: TrainingThread | null = null;
const TRAINING_DIR_PREFIX = 'cmhash-training-';

function trainingThread(lowPriority = true): TrainingThread {
  if (thread) return thread;
  const entry: WorkerEntry = { module: new URL('./training-relay.js', import.meta.url).href, lowPriority };
  // the relay's session files: a folder removed at the service's exit (a worker thread's own exit
  // hook does not run when the process ends under it), or by the next service if this one is killed
  const filesDir = processTempDir(TRAINING_DIR_PREFIX);
  const worker = new Worker(new URL('../util/worker-entry.js', import.meta.url), { workerData: { entry, filesDir } });
  let markReady = () => {};
  const ready = new Promise<void>((r) => { markReady = r; });
  const me: TrainingThread = { worker, pid: null, ready, markReady, onMessage: null, onFailure: null };
  const fail = (e: Error) => { if (thread === me) thread = null; me.markReady(); me.onFailure?.(e); };
  worker.on('message', (m: SessionWorkerMessage) => {
    // a relay whose process died takes no new job, even before its thread's exit is seen here
    if (m.type === 'error' && m.ended && thread === me) thread = null;
    if (m.type === 'started') me.pid = m.pid;
    else if (m.type === 'ready') me.markReady();
    else me.onMessage?.(m);
  });
  worker.on('error', (e) => fail(new Error(`training relay: ${e.message}`)));
  worker.on('exit', (code) => fail(new Error(`training relay exited (code ${code}) before finishing`)));
  worker.unref();
  thread = me;
  return me;
}

/** The training process's id once it has started (null before; for diagnostics and tests). */
export function trainingProcessId(): number | null {
  return thread?.pid ?? null;
}

/**
 * Starts the relay thread and the training process now (the service does, so no job waits for a
 * process to start); resolves once the process has loaded its code and backend.
 */
export function prestartTrainingWorker(): Promise<void> {
  const be = getBackend();
  const t = trainingThread();
  t.worker.postMessage({ type: 'warm', backend: { name: be.name, variant: be.variant }, threads: be.getThreads() });
  return t.ready;
}

function runWorker(req: WorkerTrainRequest, onProgress: ((p: TrainProgress) => void) | undefined, adopt: AdoptCommit): Promise<WorkerTrainResult> {
  const be = getBackend();
  const data: SessionWorkerData = { ...req, backend: { name: be.name, variant: be.variant }, threads: be.getThreads() };
  const s = req.session;
  const transfer = [...new Set([s.image.buffer, s.text.buffer, s.labels.buffer])] as ArrayBuffer[];
  const t = trainingThread(req.lowPriority !== false);
  const worker = t.worker;
  return new Promise<WorkerTrainResult>((resolve, reject) => {
    let settled = false;
    const settle = (fn: () => void) => { if (!settled) { settled = true; fn(); } };
    // while the caller holds its lock and waits for the worker's commit
    let pending: { resolve: (r: CommitRecord) => void; reject: (e: Error) => void } | null = null;
    const fail = (e: Error) => { if (pending) { pending.reject(e); pending = null; } else settle(() => reject(e)); };
    t.onFailure = fail;
    t.onMessage = (m) => {
      if (m.type === 'progress') { try { onProgress?.(m.progress); } catch { /* a progress listener does not stop training */ } }
      else if (m.type === 'trained') {
        adopt(() => new Promise<CommitRecord>((res, rej) => { pending = { resolve: res, reject: rej }; worker.postMessage({ type: 'commit' }); }))
          .then((version) => settle(() => resolve({ trainSeconds: m.trainSeconds, method: m.method, version })), (e: Error) => settle(() => reject(e)));
      } else if (m.type === 'committed') { const p = pending; pending = null; p?.resolve(recordOf(m.record)); }
      else if (m.type === 'error') fail(new Error(m.message));
    };
    worker.ref();
    worker.postMessage({ type: 'job', data }, transfer);
  }).finally(() => {
    t.onMessage = null; t.onFailure = null;
    worker.unref();
  });
}
