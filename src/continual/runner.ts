// The session runner: trains a continual method session by session and measures it the same way
// for every method (docs/design.md, "The continual protocol"). Per session t:
//   1. train: fit() on session 0, update() after — timed (wall seconds of the call);
//   2. database: the session's new database items are encoded with the current nets and appended;
//      codes already stored are kept as they are (only a method with reencodesDatabase, i.e. joint
//      retraining, re-encodes everything — and pays for it);
//   3. code stability: stored_code_stability = share of old database items whose stored codes are
//      unchanged by this session (both modalities); reencode_stability = share of old items the
//      current nets encode to exactly the code the nets gave them at the end of the previous session
//      (mean of image/text) — how far this session's training moved the old items' encodings (with
//      learned database codes the stored code is not a net output, so drift is measured net vs net);
//   4. evaluation: queries are the fixed query items whose classes have all arrived; mAP@all I→T
//      (image query vs text database codes) and T→I over the database so far; R[t][j] is the mAP of
//      the queries whose newest class arrived in session j. Per-query AP does not depend on the
//      other queries, so one AP vector per direction gives both the overall mAP and every R cell.
//   5. the caller's afterSession() writes the results so far (a crash later loses nothing).
// Database codes of items the method trained on: by default (`databaseCodes: 'learned'`) a method
// that learns binary codes for its training items (Hasher.databaseCodes(): DLCMH's B, CCMH-GAM's
// semantic codes, and the finetune/joint variants built on them) has those stored for the new
// database items that were among its training items — the asymmetric-hashing convention of DLCMH,
// where B_old is frozen and B_new is learned by DCC; queries are always encoded by the nets. Items
// the method did not train on (and every item with `databaseCodes: 'encoded'`) get net outputs.
// Class labels handed to the method are in arrival order: column p is the p-th class of the class
// order, and the width is the number of classes seen so far (so label growth is exercised).
import { PackedCodes } from '../codes/packed-codes.js';
import { averagePrecisionPerQuery } from '../eval/metrics.js';
import { continualSummary } from '../eval/continual-metrics.js';
import { gatherRows } from '../data/dataset.js';
import { InputError } from '../util/errors.js';
import { sessionValidationSplit } from '../methods/training-loop.js';
import type { ContinualHasher, MemorySessionReport, Modality, SessionData, TrainOptions, TrainProgress } from '../methods/hasher.js';
import { methodNames, reencodesDatabase } from '../methods/registry.js';

export interface PlanSession {
  newClasses: number[];      // global class ids first seen in this session
  trainRows: Int32Array;     // dataset rows the method trains on
  databaseRows: Int32Array;  // dataset rows that join the database after this session
}

/** Everything the runner needs: the data and the class-incremental split (built from data/stream.ts). */
export interface ContinualPlan {
  data: string;
  n: number;
  image: Float32Array; imageDim: number;
  text: Float32Array; textDim: number;
  labels: Uint8Array; numLabels: number;     // global label width
  classOrder: number[];
  sessions: PlanSession[];
  queryRows: Int32Array;
  /** Per query: the session of its newest class (−1 when one of its classes never arrives). */
  querySession: Int32Array;
}

export interface SessionRecord {
  map: { i2t: number; t2i: number };
  train_seconds: number;
  memory_items: number;
  stored_code_stability: number;
  reencode_stability: number;
}

/** The `--json` object, exactly the documented keys. */
export interface ContinualJson {
  method: string; data: string; bits: number; seed: number;
  sessions: SessionRecord[];
  R: { i2t: (number | null)[][]; t2i: (number | null)[][] };
  final_avg_map: { i2t: number; t2i: number };
  bwt: number;
  forgetting: number;
}

/** Extra detail kept in report.json. */
export interface ContinualDetail {
  avg_incremental_map: { i2t: number; t2i: number };
  bwt_by_direction: { i2t: number; t2i: number };
  forgetting_by_direction: { i2t: number; t2i: number };
  per_session: {
    session: number; new_classes: number[]; train_items: number; database_items: number; queries: number;
    encode_seconds: number; eval_seconds: number; model_version: number; reencode_stability_bits: number;
    /** Where the session's train_seconds went, when the method reports it (CCMH-GAM: lastPhaseSeconds). */
    phase_seconds?: Record<string, number>;
    /** Process CPU seconds of training (user + system): less sensitive than wall time to other jobs on a shared machine. */
    train_cpu_seconds: number;
    /** Validation score (never the query set): see validationRows(). Mean over sessions so far of
     *  the mAP of that session's held-out training items, as queries against the database without them. */
    validation_map?: { i2t: number; t2i: number };
  }[];
  memory?: readonly MemorySessionReport[];
  error?: { session: number; message: string };
}

export interface RunOptions {
  bits: number;
  seed: number;
  /** Common TrainOptions plus the method's own options, which its fit()/update() check against its schema. */
  train: Omit<TrainOptions, 'bits' | 'seed' | 'onProgress'> & { [methodOption: string]: unknown };
  onProgress?: (session: number, p: TrainProgress) => void;
  /** 'learned' (default): store the method's learned training-item codes where it has them; 'encoded': net outputs only. */
  databaseCodes?: 'learned' | 'encoded';
  /** Called after every session with the results so far (write them here). */
  afterSession?: (json: ContinualJson, detail: ContinualDetail) => void | Promise<void>;
}


/** Builds the SessionData of plan session t: labels remapped to arrival order, width = classes seen. */
export function sessionData(plan: ContinualPlan, t: number): SessionData {
  const s = plan.sessions[t]!;
  let seen = 0;
  for (let k = 0; k <= t; k++) seen += plan.sessions[k]!.newClasses.length;
  const order = plan.classOrder.slice(0, seen);
  const rows = s.trainRows;
  const labels = new Uint8Array(rows.length * seen);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    for (let p = 0; p < seen; p++) labels[i * seen + p] = plan.labels[r * plan.numLabels + order[p]!]!;
  }
  return {
    index: t, newClasses: s.newClasses.slice(), n: rows.length, numClasses: seen,
    imageDim: plan.imageDim, textDim: plan.textDim,
    image: gatherRows(plan.image, plan.imageDim, rows), text: gatherRows(plan.text, plan.textDim, rows), labels,
  };
}

/**
 * The training items of session t that the methods hold out for validation (training-loop.ts
 * sessionValidationSplit, none when n < 20). ccmh-gam, dlcmh, their fine-tune baselines and
 * joint:ccmh-gam never train on these items, so their mAP against the database is a validation score
 * over every session — what the increments' hyper-parameters are chosen by (docs/continual.md).
 * joint:dlcmh carves its own split from the concatenated data, so for it the score is not held out.
 */
export function validationRows(plan: ContinualPlan, t: number, seed: number): Int32Array {
  const data = sessionData(plan, t);
  const split = sessionValidationSplit(data, t, seed);
  return split ? Int32Array.from(split.validationIdx, (i) => plan.sessions[t]!.trainRows[i]!) : new Int32Array(0);
}

/** Database codes: learned codes (the same for both modalities) where `learned` has the row, the nets' codes `enc` elsewhere. */
function withLearnedCodes(enc: PackedCodes, rows: ArrayLike<number>, bits: number,
  learned: { at: Map<number, number>; codes: Float32Array } | null): PackedCodes {
  if (!learned) return enc;
  const vals = new Float32Array(rows.length * bits);
  let any = false;
  for (let i = 0; i < rows.length; i++) {
    const k = learned.at.get(rows[i]!);
    if (k === undefined) { for (let b = 0; b < bits; b++) vals[i * bits + b] = enc.bit(i, b) ? 1 : -1; }
    else { vals.set(learned.codes.subarray(k * bits, (k + 1) * bits), i * bits); any = true; }
  }
  return any ? PackedCodes.fromReal(vals, rows.length, bits) : enc;
}

function encodeRows(h: ContinualHasher, plan: ContinualPlan, modality: Modality, rows: ArrayLike<number>, bits: number): PackedCodes {
  if (rows.length === 0) return PackedCodes.alloc(bits, 0);
  const feats = modality === 'image' ? gatherRows(plan.image, plan.imageDim, rows) : gatherRows(plan.text, plan.textDim, rows);
  const enc = h.encode(modality, feats, rows.length);
  return PackedCodes.fromReal(enc.values, rows.length, bits);
}

/** Share of codes equal (whole code) between two equally long code sets; 1 when empty. */
function sameShare(a: PackedCodes, b: PackedCodes, upTo = a.count): { items: number; bits: number } {
  if (upTo === 0) return { items: 1, bits: 1 };
  let same = 0, diffBits = 0;
  for (let i = 0; i < upTo; i++) {
    const d = a.distance(i, b, i);
    if (d === 0) same++;
    diffBits += d;
  }
  return { items: same / upTo, bits: 1 - diffBits / (upTo * a.bits) };
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : 0);

export function summarize(R: (number | null)[][]): { finalAverage: number; averageIncremental: number; bwt: number; forgetting: number } {
  // Sessions without queries (no R cells) are left out of the summaries.
  const keep: number[] = [];
  for (let j = 0; j < R.length; j++) if (R[R.length - 1]![j] !== null && R[j]![j] !== null && R[j]![j] !== undefined) keep.push(j);
  if (keep.length === 0) return { finalAverage: 0, averageIncremental: 0, bwt: 0, forgetting: 0 };
  const compact = keep.map((t) => keep.filter((j) => j <= t).map((j) => R[t]![j] as number));
  const s = continualSummary(compact);
  return { finalAverage: s.finalAverage, averageIncremental: s.averageIncremental, bwt: s.bwt, forgetting: s.forgetting };
}

/** Runs every session of `plan` through `hasher`. Throws (after afterSession) if a session fails. */
export async function runContinual(hasher: ContinualHasher, plan: ContinualPlan, opts: RunOptions): Promise<{ json: ContinualJson; detail: ContinualDetail }> {
  const bits = opts.bits;
  if (plan.sessions.length === 0) throw new InputError('continual: the session plan is empty');
  const json: ContinualJson = {
    method: hasher.method, data: plan.data, bits, seed: opts.seed, sessions: [], R: { i2t: [], t2i: [] },
    final_avg_map: { i2t: 0, t2i: 0 }, bwt: 0, forgetting: 0,
  };
  const detail: ContinualDetail = {
    avg_incremental_map: { i2t: 0, t2i: 0 }, bwt_by_direction: { i2t: 0, t2i: 0 }, forgetting_by_direction: { i2t: 0, t2i: 0 }, per_session: [],
  };
  let dbRows: number[] = [];
  let dbImage = PackedCodes.alloc(bits, 0), dbText = PackedCodes.alloc(bits, 0);
  let netImage = PackedCodes.alloc(bits, 0), netText = PackedCodes.alloc(bits, 0);
  const trainedRows: number[] = [];
  const valRows: Int32Array[] = [];
  const reencodes = methodNames().includes(hasher.method) && reencodesDatabase(hasher.method);
  const memoryOf = () => hasher.memoryReports;

  for (let t = 0; t < plan.sessions.length; t++) {
    const s = plan.sessions[t]!;
    const data = sessionData(plan, t);
    const trainOptions: TrainOptions = { ...opts.train, bits, seed: opts.seed, onProgress: (p) => opts.onProgress?.(t, p) };
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    try {
      if (t === 0) await hasher.fit(data, trainOptions);
      else await hasher.update(data, trainOptions);
    } catch (e) {
      detail.error = { session: t, message: (e as Error).message };
      detail.memory = memoryOf();
      await opts.afterSession?.(json, detail);
      throw e;
    }
    const trainSeconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const trainCpuSeconds = (cpu.user + cpu.system) / 1e6;
    const phases = hasher.lastPhaseSeconds;

    // Untimed diagnostics (e.g. CCMH-GAM's measured memory errors), then the learned-code lookup.
    hasher.runDiagnostics?.();
    for (const r of s.trainRows) trainedRows.push(r);
    let learned: { at: Map<number, number>; codes: Float32Array } | null = null;
    const learnedCodes = (opts.databaseCodes ?? 'learned') === 'learned' ? hasher.databaseCodes?.() ?? null : null;
    if (learnedCodes) {
      // Joint retrains on every item so far, in session order: its codes cover trainedRows exactly.
      if (learnedCodes.length !== trainedRows.length * bits) {
        throw new Error(`${hasher.method}: databaseCodes() has ${learnedCodes.length / bits} codes, the sessions so far trained ${trainedRows.length} items`);
      }
      const at = new Map<number, number>();
      trainedRows.forEach((r, k) => at.set(r, k));
      learned = { at, codes: learnedCodes };
    }

    // Database: keep stored codes, store codes for the new items (joint re-stores all).
    const e0 = performance.now();
    const oldCount = dbRows.length;
    const beforeImage = dbImage, beforeText = dbText;
    // Each item is encoded once per modality: old items (for joint's re-store and the drift measure), new items.
    const reImage = encodeRows(hasher, plan, 'image', dbRows, bits);
    const reText = encodeRows(hasher, plan, 'text', dbRows, bits);
    const newRows = Array.from(s.databaseRows);
    const newImage = encodeRows(hasher, plan, 'image', newRows, bits), newText = encodeRows(hasher, plan, 'text', newRows, bits);
    const allImage = PackedCodes.concat([reImage, newImage]), allText = PackedCodes.concat([reText, newText]);
    dbRows = dbRows.concat(newRows);
    if (reencodes) { dbImage = withLearnedCodes(allImage, dbRows, bits, learned); dbText = withLearnedCodes(allText, dbRows, bits, learned); }
    else {
      dbImage = PackedCodes.concat([beforeImage, withLearnedCodes(newImage, newRows, bits, learned)]);
      dbText = PackedCodes.concat([beforeText, withLearnedCodes(newText, newRows, bits, learned)]);
    }
    let storedSame = 1;
    if (oldCount > 0) {
      let same = 0;
      for (let i = 0; i < oldCount; i++) if (beforeImage.distance(i, dbImage, i) === 0 && beforeText.distance(i, dbText, i) === 0) same++;
      storedSame = same / oldCount;
    }
    // Net drift on old items: the current nets' codes vs the nets' codes at the end of the previous session.
    const reI = sameShare(reImage, netImage, oldCount), reT = sameShare(reText, netText, oldCount);
    netImage = allImage; netText = allText;
    const encodeSeconds = (performance.now() - e0) / 1000;

    // Evaluation on the queries whose classes have all arrived.
    const v0 = performance.now();
    const qIdx: number[] = [];
    for (let q = 0; q < plan.queryRows.length; q++) { const qs = plan.querySession[q]!; if (qs >= 0 && qs <= t) qIdx.push(q); }
    const qRows = qIdx.map((q) => plan.queryRows[q]!);
    const qLabels = gatherRows(plan.labels, plan.numLabels, qRows);
    const dLabels = gatherRows(plan.labels, plan.numLabels, dbRows);
    const apOf = (queries: PackedCodes, database: PackedCodes): Float64Array =>
      (qRows.length && database.count ? averagePrecisionPerQuery({ queries, database, queryLabels: qLabels, databaseLabels: dLabels, classes: plan.numLabels }) : new Float64Array(qRows.length));
    const apI2t = apOf(encodeRows(hasher, plan, 'image', qRows, bits), dbText);
    const apT2i = apOf(encodeRows(hasher, plan, 'text', qRows, bits), dbImage);
    const rowI2t: (number | null)[] = [], rowT2i: (number | null)[] = [];
    for (let j = 0; j <= t; j++) {
      const sel: number[] = [];
      qIdx.forEach((q, k) => { if (plan.querySession[q] === j) sel.push(k); });
      rowI2t.push(sel.length ? mean(sel.map((k) => apI2t[k]!)) : null);
      rowT2i.push(sel.length ? mean(sel.map((k) => apT2i[k]!)) : null);
    }
    json.R.i2t.push(rowI2t); json.R.t2i.push(rowT2i);
    // Validation score: held-out training items of every session so far vs the database without them.
    valRows.push(validationRows(plan, t, opts.seed));
    const valSet = new Set<number>(); valRows.forEach((v) => v.forEach((r) => valSet.add(r)));
    const keepDb: number[] = []; dbRows.forEach((r, k) => { if (!valSet.has(r)) keepDb.push(k); });
    const dbKeptRows = keepDb.map((k) => dbRows[k]!);
    const valAll = valRows.flatMap((v) => Array.from(v));
    let validationMap: { i2t: number; t2i: number } | undefined;
    if (valAll.length && dbKeptRows.length) {
      const vIn = { queryLabels: gatherRows(plan.labels, plan.numLabels, valAll), databaseLabels: gatherRows(plan.labels, plan.numLabels, dbKeptRows), classes: plan.numLabels };
      const vI2t = averagePrecisionPerQuery({ queries: encodeRows(hasher, plan, 'image', valAll, bits), database: dbText.select(keepDb), ...vIn });
      const vT2i = averagePrecisionPerQuery({ queries: encodeRows(hasher, plan, 'text', valAll, bits), database: dbImage.select(keepDb), ...vIn });
      const perSession = (ap: Float64Array) => { const m: number[] = []; let o = 0; for (const v of valRows) { if (v.length) m.push(mean(Array.from(ap.subarray(o, o + v.length)))); o += v.length; } return mean(m); };
      validationMap = { i2t: perSession(vI2t), t2i: perSession(vT2i) };
    }
    const evalSeconds = (performance.now() - v0) / 1000;

    json.sessions.push({
      map: { i2t: mean(Array.from(apI2t)), t2i: mean(Array.from(apT2i)) },
      train_seconds: trainSeconds,
      memory_items: hasher.memoryItems(),
      stored_code_stability: storedSame,
      reencode_stability: (reI.items + reT.items) / 2,
    });
    const si = summarize(json.R.i2t), st = summarize(json.R.t2i);
    json.final_avg_map = { i2t: si.finalAverage, t2i: st.finalAverage };
    json.bwt = (si.bwt + st.bwt) / 2;
    json.forgetting = (si.forgetting + st.forgetting) / 2;
    detail.avg_incremental_map = { i2t: si.averageIncremental, t2i: st.averageIncremental };
    detail.bwt_by_direction = { i2t: si.bwt, t2i: st.bwt };
    detail.forgetting_by_direction = { i2t: si.forgetting, t2i: st.forgetting };
    detail.per_session.push({
      session: t, new_classes: s.newClasses.slice(), train_items: data.n, database_items: dbRows.length, queries: qRows.length,
      encode_seconds: encodeSeconds, eval_seconds: evalSeconds, model_version: hasher.modelVersion,
      reencode_stability_bits: (reI.bits + reT.bits) / 2, train_cpu_seconds: trainCpuSeconds,
      ...(phases ? { phase_seconds: { ...phases } } : {}),
      ...(validationMap ? { validation_map: validationMap } : {}),
    });
    detail.memory = memoryOf();
    await opts.afterSession?.(json, detail);
  }
  return { json, detail };
}

/** The runner's plan from a dataset and its class-incremental stream (data/stream.ts). */
export function planFromStream(ds: { name: string; n: number; image: Float32Array; imageDim: number; text: Float32Array; textDim: number; labels: Uint8Array; numLabels: number },
  stream: { classOrder: number[]; query: Int32Array; sessionOf: Int32Array; sessions: { newClasses: number[]; train: Int32Array; database: Int32Array }[] }, dataName = ds.name): ContinualPlan {
  return {
    data: dataName, n: ds.n, image: ds.image, imageDim: ds.imageDim, text: ds.text, textDim: ds.textDim, labels: ds.labels, numLabels: ds.numLabels,
    classOrder: stream.classOrder.slice(),
    sessions: stream.sessions.map((s) => ({ newClasses: s.newClasses.slice(), trainRows: s.train, databaseRows: s.database })),
    queryRows: stream.query, querySession: Int32Array.from(stream.query, (r) => stream.sessionOf[r]!),
  };
}
