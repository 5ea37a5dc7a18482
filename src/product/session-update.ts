// Applying a new session to a collection: the labelled items of the session train the current
// model further (a continual method's update(); old stored codes stay valid), then the updated
// model and the session's items become a new model version, committed atomically. The model is a
// fresh copy loaded from the current checkpoint, so searches keep using the serving model untouched
// until the commit swaps the snapshot.
//
// Where the training runs: with `inWorker` (what the service does) on a worker thread
// (train-in-worker.ts), which loads its own copy from the checkpoint, trains, and commits the new
// version itself on its own store connection while this thread holds the collection's write lock;
// this thread only builds the session's label matrix (the features go to the worker as the parsing
// worker delivered them, see handOverFeatures) and swaps in the committed snapshot
// (Collection.adoptCommit, with the model built from the checkpoint contents the worker sends back),
// so it keeps answering searches meanwhile. Without it (the
// default, what `cmhash update` uses: a CLI run has no searches to protect, and in-process training
// skips the thread start and the checkpoint round trip) update() runs on the calling thread. Both
// give the same model for the same seed.
import type { ContinualHasher, Hasher, SessionData, TrainOptions, TrainProgress } from '../methods/hasher.js';
import { InputError } from '../util/errors.js';
import type { Collection, ItemInput } from './collection.js';
import { isContinual, loadHasher, methodEntry, reencodesDatabase } from '../methods/registry.js';
import { trainInWorker } from './train-in-worker.js';

export interface UpdateOptions {
  /** Session name stored with the version (default "session-<n>"). */
  name?: string;
  epochs?: number;
  seed?: number;
  onProgress?: (p: TrainProgress) => void;
  /** Called as the update enters a stage: "training" (the model learns), "committing" (the new version is written). */
  onStage?: (stage: 'training' | 'committing') => void;
  /** Extra training options passed to update(). */
  train?: Record<string, unknown>;
  /**
   * Train on a worker thread instead of the calling thread (default false; the service sets it).
   * The worker uses the process's backend and kernel-thread setting (see train-in-worker.ts).
   */
  inWorker?: boolean;
  /** The job this update runs for: recorded with the session (a PostgreSQL store commits a job id at most once). */
  jobId?: string;
}

export interface UpdateResult {
  model_version: number;
  previous_version: number | null;
  items: number;
  new_labels: string[];
  train_seconds: number;
  method: string;
}

/** Checks the session before any training: every item has both modalities and at least one label. */
export function checkSessionItems(items: readonly ItemInput[]): void {
  if (items.length === 0) throw new InputError('session update: no items given');
  items.forEach((it, i) => {
    if (!it.image || !it.text) throw new InputError(`items[${i}] (${JSON.stringify(it.id)}): a session item needs both image and text features (the model learns from pairs)`);
    if (!it.labels || it.labels.length === 0) throw new InputError(`items[${i}] (${JSON.stringify(it.id)}): a session item needs at least one label`);
  });
}

const nextTurn = () => new Promise<void>((r) => setImmediate(r));

/**
 * Collection.checkItems (new labels allowed) in slices of `slice` items with a turn of the event
 * loop between them, so a service checking a session of thousands of items keeps answering
 * searches meanwhile; the same checks and messages (item positions in the whole list).
 */
export async function checkItemsInSlices(collection: Collection, items: readonly ItemInput[], slice = 250): Promise<void> {
  if (items.length <= slice) { collection.checkItems(items, true); return; }
  const seen = new Set<string>();
  for (let s = 0; s < items.length; s += slice) {
    const part = items.slice(s, s + slice);
    try { collection.checkItems(part, true); } catch (e) {
      if (e instanceof InputError) throw new InputError(e.message.replace(/^items\[(\d+)\]/, (_m, j: string) => `items[${s + Number(j)}]`));
      throw e;
    }
    // ids repeated across slices (checkItems sees one slice)
    part.forEach((it, j) => { if (seen.has(it.id)) throw new InputError(`items[${s + j}].id: ${JSON.stringify(it.id)} appears twice`); seen.add(it.id); });
    await nextTurn();
  }
}

/** Refuses, from the model already in memory (no disk reads), a collection whose model cannot learn from a session. */
export function assertUpdatable(collection: Collection): void {
  const snap = collection.snapshot();
  if (!snap.hasher || snap.modelVersion === null || !collection.source) throw new InputError(`collection "${collection.name}" has no model to update`);
  checkUpdatable(collection, snap.hasher);
}

function checkUpdatable(collection: Collection, model: Hasher): asserts model is ContinualHasher {
  if (!isContinual(model)) throw new InputError(`collection "${collection.name}" uses ${model.method}, which cannot learn from a new session; use a continual method (ccmh-gam, dlcmh, finetune)`);
  // The collection's recorded method decides: a joint model loaded from disk is its inner model.
  const method = collection.config.method ?? model.method;
  if (reencodesDatabase(method)) throw new InputError(`${method} re-encodes the whole database on every session, which a collection cannot do without the old features; use ccmh-gam, dlcmh or finetune`);
}

/** The checkpoint (path) of the collection's current model version. */
function currentCheckpoint(collection: Collection): string {
  const snap = collection.snapshot();
  const version = collection.history().versions.find((v) => v.id === snap.modelVersion);
  if (!version?.checkpoint) throw new InputError(`collection "${collection.name}": model version ${snap.modelVersion} has no checkpoint`);
  return collection.checkpointPath(version.checkpoint);
}

/** Loads an independent copy of the collection's current model that can learn from a session. */
export function loadUpdatableModel(collection: Collection): ContinualHasher {
  assertUpdatable(collection);
  const model = loadHasher(currentCheckpoint(collection));
  checkUpdatable(collection, model);
  return model;
}

/** Feature arrays handed over with a list of items (handOverFeatures), by that list. */
const handedOver = new WeakMap<readonly ItemInput[], { image: Float32Array; text: Float32Array }>();

/**
 * Declares that `items`' features are views, item by item, of `image` (items × imageDim) and `text`
 * (items × textDim), whole arrays nobody else uses — the session body parser's output. A session
 * update of these items on a worker (`inWorker`) then gives these arrays to the training thread as
 * the session's own (transferred: the items' features are unusable here afterwards) instead of
 * copying them into new ones on this thread: on a VM where every first touch of a page is slow,
 * that copy of 4.5 MB held the serving thread for 30–53 ms.
 */
export function handOverFeatures(items: readonly ItemInput[], image: Float32Array, text: Float32Array): void {
  handedOver.set(items, { image, text });
}

/** The arrays handed over with `items`, if they are still laid out as declared (else null: copy). */
function takeHandedOver(items: readonly ItemInput[], dI: number, dT: number): { image: Float32Array; text: Float32Array } | null {
  const f = handedOver.get(items);
  if (!f) return null;
  handedOver.delete(items); // handed over once
  const n = items.length;
  const whole = (a: Float32Array, d: number) => a.length === n * d && a.byteOffset === 0 && a.buffer.byteLength === n * d * 4;
  if (!whole(f.image, dI) || !whole(f.text, dT) || f.image.buffer === f.text.buffer) return null;
  const at = (v: Float32Array | null | undefined, a: Float32Array, d: number, i: number) => !!v && v.buffer === a.buffer && v.byteOffset === i * d * 4 && v.length === d;
  for (let i = 0; i < n; i++) if (!at(items[i]!.image, f.image, dI, i) || !at(items[i]!.text, f.text, dT, i)) return null;
  return f;
}

export async function applySessionUpdate(collection: Collection, items: readonly ItemInput[], o: UpdateOptions = {}): Promise<UpdateResult> {
  // On the worker path this runs on the serving thread: its preparation of a large session is split
  // over turns of the event loop (after the label names, the hand-over check, the label matrix, the
  // checkpoint and the commit's lists; then the post to the relay), each 0.5-3 ms, instead of one
  // 12-14 ms turn that held the searches queued behind it (bench serve-train on a 2-vCPU VM, 3,000 items).
  const turn = o.inWorker ? nextTurn : async () => {};
  await turn(); // the caller's turn (the route's reply) ends first
  checkSessionItems(items);
  const before = collection.snapshot();
  let model: ContinualHasher | null = null;
  if (o.inWorker) assertUpdatable(collection); // the worker loads the model; the serving copy says what it is
  else model = loadUpdatableModel(collection);
  const method = collection.config.method ?? (model ?? before.hasher!).method;
  // label columns in arrival order: the version's names, then this session's new names
  const names = before.labelNames.slice();
  const col = new Map(names.map((n, i) => [n, i]));
  const newLabels: string[] = [];
  for (const it of items) for (const l of it.labels!) if (!col.has(l)) { col.set(l, names.length); names.push(l); newLabels.push(l); }
  const n = items.length, C = names.length, dI = collection.config.imageDim, dT = collection.config.textDim;
  await turn();
  // on the worker path, the parser's arrays when they were handed over with these items (no copy here)
  const given = o.inWorker ? takeHandedOver(items, dI, dT) : null;
  await turn();
  const session: SessionData = {
    index: collection.history().sessions.length, newClasses: newLabels.map((l) => col.get(l)!), n, numClasses: C, imageDim: dI, textDim: dT,
    image: given?.image ?? new Float32Array(n * dI), text: given?.text ?? new Float32Array(n * dT), labels: new Uint8Array(n * C),
  };
  items.forEach((it, i) => {
    if (!given) { session.image.set(it.image!, i * dI); session.text.set(it.text!, i * dT); }
    for (const l of it.labels!) session.labels[i * C + col.get(l)!] = 1;
  });
  const options: TrainOptions & { updateEpochs?: number } = { ...o.train, bits: collection.config.bits, seed: o.seed ?? 1 };
  // an increment's length is updateEpochs for the methods that have that option, epochs for the others
  if (o.epochs !== undefined) {
    options.epochs = o.epochs;
    if (methodEntry(method).options.updateEpochs) options.updateEpochs = o.epochs;
  }
  let trainSeconds: number;
  await turn();
  o.onStage?.('training');
  if (model) {
    const t0 = performance.now();
    await model.update(session, { ...options, onProgress: o.onProgress });
    trainSeconds = (performance.now() - t0) / 1000;
    o.onStage?.('committing');
  } else {
    // the worker trains and then commits, while this thread holds the write lock only for the commit
    const checkpoint = currentCheckpoint(collection);
    const commit = {
      dir: collection.source!, ids: items.map((it) => it.id), labels: items.map((it) => [...it.labels!]), metadata: items.map((it) => it.metadata ?? null),
      labelNames: names, session: { name: o.name ?? `session-${session.index}`, newClasses: newLabels, meta: { items: n, ...(o.jobId ? { job: o.jobId } : {}) } }, meta: {},
    };
    await turn();
    const r = await trainInWorker({ checkpoint, session, options, commit },
      o.onProgress, (c) => { o.onStage?.('committing'); return collection.adoptCommit(c); });
    return { model_version: r.version, previous_version: before.modelVersion, items: n, new_labels: newLabels, train_seconds: r.trainSeconds, method: r.method };
  }
  const version = await collection.commitModel(model, items, {
    labelNames: names, inherit: true,
    session: { name: o.name ?? `session-${session.index}`, newClasses: newLabels, meta: { items: n, train_seconds: trainSeconds, ...(o.jobId ? { job: o.jobId } : {}) } },
    meta: { trainSeconds },
  });
  return { model_version: version, previous_version: before.modelVersion, items: n, new_labels: newLabels, train_seconds: trainSeconds, method: model.method };
}
