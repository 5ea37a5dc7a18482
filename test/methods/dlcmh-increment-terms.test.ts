// DLCMH's increment, cheaper and with the old codes' pull (docs/experiments/2026-12-dlcmh-continual-bars.md):
//  - the pairwise terms over distinct (code, label row) groups, √count-scaled, equal the terms over
//    every sampled code (loss and gradient);
//  - the DCC sweep summed per label pattern sets the same bits as the per-pair sweep it replaced;
//  - the old codes' pull is −2c·w·S_{new,old}·B_old per label pattern, and exactly zero when no new
//    item shares a label with an old one (Wikipedia: the increment is then unchanged by it);
//  - update() and fit() report where their time went (phase_seconds, wall and _cpu);
//  - finetune:dlcmh (no old codes) does not take oldPull.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../../src/tensor/tensor.js';
import * as ops from '../../src/tensor/ops.js';
import { Rng } from '../../src/util/rng.js';
import { gatherRows } from '../../src/data/dataset.js';
import { groupCodes, scaledGroupCodes, scaleColumns } from '../../src/methods/parts/code-groups.js';
import { Dlcmh, dccSweep, labelCosMatrix, labelPatterns, oldCodePull } from '../../src/methods/dlcmh.js';
import { createFinetune } from '../../src/methods/finetune.js';
import { createContinualHasher } from '../../src/methods/registry.js';
import type { SessionData, TrainingData } from '../../src/methods/hasher.js';
import { tinyData } from './fixture.js';

const signs = (rng: Rng, n: number, c: number) => Float32Array.from({ length: n * c }, () => (rng.uniform() < 0.5 ? -1 : 1));

/** Labels drawn from a few patterns (repeated rows, as in a class-incremental session). */
function patternLabels(rng: Rng, n: number, w: number, patterns: number): Uint8Array {
  const pool = Array.from({ length: patterns }, () => Uint8Array.from({ length: w }, () => (rng.uniform() < 0.35 ? 1 : 0)));
  const out = new Uint8Array(n * w);
  for (let i = 0; i < n; i++) out.set(pool[rng.int(patterns)]!, i * w);
  return out;
}

test('grouped pairwise term equals the term over every sampled code (loss and gradient)', () => {
  const rng = new Rng(5);
  const c = 16, w = 6, m = 9, nCodes = 40;
  // few distinct codes and labels, so groups are large
  const base = signs(rng, 5, c);
  const codes = new Float32Array(nCodes * c);
  for (let j = 0; j < nCodes; j++) { const p = rng.int(5); codes.set(base.subarray(p * c, (p + 1) * c), j * c); }
  const labels = patternLabels(rng, nCodes, w, 3);
  const idx = Int32Array.from({ length: 30 }, () => rng.int(nCodes));
  const rowLabels = patternLabels(rng, m, w, 4);
  const uData = Float32Array.from({ length: m * c }, () => Math.tanh(rng.normal()));

  const full = (() => {
    const u = Tensor.wrap(m, c, uData.slice(), { requiresGrad: true });
    const S = labelCosMatrix(rowLabels, m, w, gatherRows(labels, w, idx), idx.length, w);
    const loss = ops.pairwiseSquaredError(ops.matmul(u, Tensor.wrap(idx.length, c, gatherRows(codes, c, idx)), false, true), 1 / c, Tensor.wrap(m, idx.length, S));
    loss.backward();
    return { loss: loss.item(), grad: Array.from(u.grad!) };
  })();
  const grouped = (() => {
    const g = groupCodes(codes, c, idx, labels, w);
    assert.ok(g.first.length < idx.length, 'the sample has repeated (code, label) pairs');
    assert.equal(g.total, idx.length);
    const K = g.first.length;
    const u = Tensor.wrap(m, c, uData.slice(), { requiresGrad: true });
    const S = scaleColumns(labelCosMatrix(rowLabels, m, w, gatherRows(labels, w, Int32Array.from(g.first, (p) => idx[p]!)), K, w), g.sqrtCount);
    const loss = ops.mulScalar(ops.pairwiseSquaredError(ops.matmul(u, Tensor.wrap(K, c, scaledGroupCodes(codes, c, idx, g)), false, true), 1 / c, Tensor.wrap(m, K, S)), K / idx.length);
    loss.backward();
    return { loss: loss.item(), grad: Array.from(u.grad!) };
  })();
  assert.ok(Math.abs(full.loss - grouped.loss) <= 1e-5 * Math.abs(full.loss), `${full.loss} vs ${grouped.loss}`);
  const scale = Math.max(...full.grad.map(Math.abs));
  full.grad.forEach((v, i) => assert.ok(Math.abs(v - grouped.grad[i]!) <= 1e-5 * scale, `grad ${i}: ${v} vs ${grouped.grad[i]}`));
});

test('groupCodes tells codes apart beyond 30 bits and labels apart with equal codes', () => {
  const c = 64, w = 3;
  const a = new Float32Array(c).fill(1), b = a.slice(); b[63] = -1; // differ only in the last bit
  const codes = new Float32Array(4 * c); codes.set(a, 0); codes.set(b, c); codes.set(a, 2 * c); codes.set(a, 3 * c);
  const labels = Uint8Array.from([1, 0, 0, 1, 0, 0, 1, 0, 0, 0, 1, 0]);
  const g = groupCodes(codes, c, [0, 1, 2, 3], labels, w);
  assert.deepEqual(Array.from(g.first), [0, 1, 3]);
  assert.deepEqual(Array.from(g.sqrtCount, (x) => Math.round(x * x)), [2, 1, 1]);
});

/** The DCC sweep as it was (every (i, r) pair of S_nΩ). */
function referenceSweep(Bnew: Float32Array, Ux: Float32Array, Uy: Float32Array, omega: Int32Array, Snew: Float32Array, n: number, c: number, alpha: number, pull?: Float64Array, idA?: Int32Array): void {
  const P = new Float64Array(c * c), Usum = new Float32Array(omega.length * c);
  for (let r = 0; r < omega.length; r++) {
    for (const U of [Ux, Uy]) {
      const i = omega[r]!;
      for (let a = 0; a < c; a++) { Usum[r * c + a] += U[i * c + a]!; for (let b = 0; b < c; b++) P[a * c + b] += U[i * c + a]! * U[i * c + b]!; }
    }
  }
  const Q = new Float64Array(n * c);
  for (let i = 0; i < n; i++) {
    for (let r = 0; r < omega.length; r++) { const s = Snew[i * omega.length + r]!; if (s) for (let k = 0; k < c; k++) Q[i * c + k] -= 2 * c * s * Usum[r * c + k]!; }
    for (let k = 0; k < c; k++) Q[i * c + k] -= 2 * alpha * (Ux[i * c + k]! + Uy[i * c + k]!);
    if (pull) for (let k = 0; k < c; k++) Q[i * c + k] += pull[idA![i]! * c + k]!;
  }
  for (let k = 0; k < c; k++) for (let i = 0; i < n; i++) {
    let s = 0;
    for (let l = 0; l < c; l++) if (l !== k) s += Bnew[i * c + l]! * P[l * c + k]!;
    Bnew[i * c + k] = -(2 * s + Q[i * c + k]!) >= 0 ? 1 : -1;
  }
}

test('the DCC sweep by label pattern sets the same bits as the per-pair sweep (with and without the pull)', () => {
  for (const seed of [1, 2, 3]) {
    const rng = new Rng(seed);
    const n = 57, c = 24, w = 7, alpha = 10;
    const labels = patternLabels(rng, n, w, 6);
    const omega = Int32Array.from(rng.permutation(n).subarray(0, 40));
    const oL = gatherRows(labels, w, omega);
    const Ux = Float32Array.from({ length: n * c }, () => Math.tanh(rng.normal())), Uy = Float32Array.from({ length: n * c }, () => Math.tanh(rng.normal()));
    const B0 = signs(rng, n, c);
    const pat = labelPatterns(labels, n, w, oL, omega.length, w);
    assert.ok(pat.ka < n && pat.kb < omega.length);
    const oldCodes = signs(rng, 30, c), oldLabels = patternLabels(rng, 30, w, 5);
    for (const pull of [undefined, oldCodePull(labels, pat.firstA, w, oldCodes, oldLabels, Int32Array.from({ length: 30 }, (_, i) => i), c, 0.7)]) {
      const a = B0.slice(), b = B0.slice();
      dccSweep(a, Ux, Uy, omega, pat, n, c, alpha, pull);
      referenceSweep(b, Ux, Uy, omega, labelCosMatrix(labels, n, w, oL, omega.length, w), n, c, alpha, pull, pat.idA);
      assert.deepEqual(Array.from(a), Array.from(b), `seed ${seed}, pull ${pull ? 'on' : 'off'}`);
    }
  }
});

test('oldCodePull is −2c·w·Σⱼ S(lᵢ, lⱼ)·bⱼ per label pattern, zero when no label is shared', () => {
  const rng = new Rng(11);
  const c = 8, w = 5, nNew = 12, nOld = 20, wt = 0.3;
  const newLabels = patternLabels(rng, nNew, w, 4), oldLabels = patternLabels(rng, nOld, w, 6), codes = signs(rng, nOld, c);
  const rows = Int32Array.from([3, 0, 7, 7, 19, 12, 5]);
  const pat = labelPatterns(newLabels, nNew, w, newLabels, nNew, w);
  const pull = oldCodePull(newLabels, pat.firstA, w, codes, oldLabels, rows, c, wt);
  const S = labelCosMatrix(newLabels, nNew, w, gatherRows(oldLabels, w, rows), rows.length, w);
  for (let i = 0; i < nNew; i++) {
    for (let k = 0; k < c; k++) {
      let want = 0;
      for (let j = 0; j < rows.length; j++) want += -2 * c * wt * S[i * rows.length + j]! * codes[rows[j]! * c + k]!;
      assert.ok(Math.abs(pull[pat.idA[i]! * c + k]! - want) < 1e-9, `item ${i} bit ${k}`);
    }
  }
  // single-label new classes (no label shared with an old item): the pull is exactly zero
  const nl = new Uint8Array(4 * w); [3, 4, 3, 4].forEach((cl, i) => { nl[i * w + cl] = 1; });
  const ol = new Uint8Array(3 * w); [0, 1, 2].forEach((cl, i) => { ol[i * w + cl] = 1; });
  const p2 = labelPatterns(nl, 4, w, nl, 4, w);
  assert.ok(oldCodePull(nl, p2.firstA, w, signs(rng, 3, c), ol, [0, 1, 2], c, 1).every((v) => v === 0));
});

/** Single-label data: base session classes 0–1, the increment classes 2–3 (widths 2 and 4). */
function singleLabelSessions(): { base: TrainingData; inc: SessionData } {
  const d = tinyData(240, 4, { classes: 4 });
  const cls = (i: number) => d.labels.subarray(i * 4, i * 4 + 4).indexOf(1);
  const baseRows: number[] = [], incRows: number[] = [];
  for (let i = 0; i < d.n; i++) (cls(i) < 2 ? baseRows : incRows).push(i);
  const pick = (rows: number[], width: number) => {
    const labels = new Uint8Array(rows.length * width);
    rows.forEach((r, k) => { labels[k * width + cls(r)] = 1; }); // the item's first label only
    return { n: rows.length, imageDim: d.imageDim, textDim: d.textDim, image: gatherRows(d.image, d.imageDim, rows), text: gatherRows(d.text, d.textDim, rows), labels, numClasses: width };
  };
  return { base: pick(baseRows, 2), inc: { ...pick(incRows, 4), index: 1, newClasses: [2, 3] } };
}

const small = { bits: 16, hidden: 32, labelHidden: 16 };
const train = { bits: 16, seed: 3, epochs: 4, updateEpochs: 3, labelSteps: 20, batchSize: 32 };

test('oldPull leaves an increment that shares no label with old items unchanged; fit and update report their phases', async () => {
  const { base, inc } = singleLabelSessions();
  const run = async (oldPull: number) => {
    const h = new Dlcmh({ ...small, oldPull });
    await h.fit(base, train);
    const fitPhases = { ...h.lastPhaseSeconds };
    await h.update(inc, train);
    return { h, fitPhases };
  };
  const a = await run(0), b = await run(0.5);
  assert.deepEqual(Array.from(a.h.databaseCodes()!), Array.from(b.h.databaseCodes()!));
  const x = inc.image.subarray(0, 7 * inc.imageDim);
  assert.deepEqual(Array.from(a.h.encode('image', x, 7).values), Array.from(b.h.encode('image', x, 7).values));

  for (const k of ['setup', 'label_net', 'image_net', 'text_net', 'validation', 'store']) {
    assert.ok(a.fitPhases[k]! >= 0 && a.fitPhases[`${k}_cpu`]! >= 0, `fit phase ${k}`);
  }
  const up = b.h.lastPhaseSeconds;
  for (const k of ['setup', 'similarities', 'image_net', 'text_net', 'code_update', 'validation', 'store']) {
    assert.ok(up[k]! >= 0 && up[`${k}_cpu`]! >= 0, `update phase ${k}`);
  }
  const wall = ['setup', 'similarities', 'image_net', 'text_net', 'code_update', 'validation', 'store'].reduce((s, k) => s + up[k]!, 0);
  assert.ok(wall <= b.h.lastFit!.trainSeconds + 1e-3, `phases ${wall} s within the update's ${b.h.lastFit!.trainSeconds} s`);
});

/** Multi-label data: the increment's items carry an old class (0 or 1) beside a new one (2 or 3). */
function sharedLabelSessions(): { base: TrainingData; inc: SessionData } {
  const d = tinyData(240, 6, { classes: 4 });
  const base = { ...d, n: 120, image: d.image.subarray(0, 120 * d.imageDim), text: d.text.subarray(0, 120 * d.textDim), labels: new Uint8Array(120 * 2), numClasses: 2 };
  for (let i = 0; i < 120; i++) base.labels[i * 2 + (i % 2)] = 1;
  const labels = new Uint8Array(120 * 4);
  for (let i = 0; i < 120; i++) { labels[i * 4 + (i % 2)] = 1; labels[i * 4 + 2 + ((i >> 1) % 2)] = 1; }
  const inc = { n: 120, imageDim: d.imageDim, textDim: d.textDim, image: d.image.subarray(120 * d.imageDim), text: d.text.subarray(120 * d.textDim), labels, numClasses: 4, index: 1, newClasses: [2, 3] };
  return { base, inc };
}

test('oldPull moves new codes toward stored codes of old items sharing their labels (and 0 is off)', async () => {
  const { base, inc } = sharedLabelSessions();
  const run = async (oldPull: number) => {
    const h = new Dlcmh({ ...small, oldPull });
    await h.fit(base, train);
    await h.update(inc, train);
    return h.databaseCodes()!;
  };
  const off = await run(0), on = await run(4);
  const c = small.bits, nOld = base.n;
  // agreement of each new item's code with the mean stored code of the old items of its old class
  const agreement = (codes: Float32Array) => {
    const mean = [0, 1].map((cl) => { const m = new Float64Array(c); for (let i = cl; i < nOld; i += 2) for (let k = 0; k < c; k++) m[k] += codes[i * c + k]!; return m; });
    let s = 0;
    for (let i = 0; i < inc.n; i++) for (let k = 0; k < c; k++) s += codes[(nOld + i) * c + k]! * Math.sign(mean[i % 2]![k]!);
    return s / (inc.n * c);
  };
  assert.deepEqual(Array.from(off.subarray(0, nOld * c)), Array.from(on.subarray(0, nOld * c)), 'old codes are frozen either way');
  assert.notDeepEqual(Array.from(off.subarray(nOld * c)), Array.from(on.subarray(nOld * c)));
  assert.ok(agreement(on) > agreement(off), `agreement ${agreement(on)} vs ${agreement(off)}`);
});

test('finetune:dlcmh has no old codes and refuses oldPull', async () => {
  assert.throws(() => createContinualHasher('finetune:dlcmh', { ...small, oldPull: 0.5 }), /oldPull|old-pull/);
  assert.doesNotThrow(() => createContinualHasher('dlcmh', { ...small, oldPull: 0.5 }));
  const { base, inc } = singleLabelSessions();
  const ft = createFinetune({ ...small, base: 'dlcmh', name: 'finetune:dlcmh' });
  await ft.fit(base, train);
  await assert.rejects(() => ft.update(inc, { ...train, oldPull: 0.5 } as never), /oldPull/);
});
