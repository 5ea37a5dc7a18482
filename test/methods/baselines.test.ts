// The closed-form baselines `linear` and `cca` (src/methods/linear.ts, cca.ts): their real-valued
// outputs against an independent numpy reference (bench/baselines/linear_cca_reference.py: numpy
// solve / eigh / svd and inverse-square-root whitening, vs cmhash's Cholesky and tred2/tql2), CCA's
// defining properties, the seeded rotations, a mAP sanity check on synthetic data, and the
// checkpoint / continual / export round trip.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LinearBaseline } from '../../src/methods/linear.js';
import { CcaBaseline } from '../../src/methods/cca.js';
import { createHasher, createContinualHasher, loadHasher, encoderLayersFromCheckpoint, methodEntry, reencodesDatabase } from '../../src/methods/registry.js';
import { columnStats, standardize, subsetTrainingData } from '../../src/methods/training-loop.js';
import { evaluateCrossModal } from '../../src/methods/evaluate.js';
import { generateSynthetic } from '../../src/data/synthetic.js';
import { gatherRows } from '../../src/data/dataset.js';
import type { LinearLayer } from '../../src/export/onnx.js';
import type { Hasher, SessionData, TrainingData } from '../../src/methods/hasher.js';
import { chanceMap } from './chance.js';
import { cholesky, matmul, nearestOrthogonal, rowGram, solveLower, solveLowerT, symmetricEigen, symmetricEigenTop, transpose } from '../../src/methods/parts/dense.js';
import { Rng } from '../../src/util/rng.js';

/** The fixture of linear_cca_reference.py: exact rationals summed in the same order, so both sides see the same float32 features. */
function fixture(n: number, dx: number, dy: number, C: number): TrainingData {
  const labels = new Uint8Array(n * C), image = new Float32Array(n * dx), text = new Float32Array(n * dy);
  for (let i = 0; i < n; i++) {
    labels[i * C + (i % C)] = 1;
    if (i % 5 === 0) labels[i * C + (Math.floor(i / 5) % C)] = 1;
  }
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < dx; j++) {
      let s = 0;
      for (let c = 0; c < C; c++) s += labels[i * C + c]! * ((((c * 5 + j * 3) % 7) / 7) - 0.5);
      image[i * dx + j] = ((i * 7 + j * 13) % 23) / 23 + 0.5 * s;
    }
    for (let j = 0; j < dy; j++) {
      let s = 0;
      for (let c = 0; c < C; c++) s += labels[i * C + c]! * ((((c * 3 + j * 7) % 11) / 11) - 0.5);
      text[i * dy + j] = ((i * 11 + j * 5) % 19) / 19 + 0.5 * s;
    }
  }
  return { n, imageDim: dx, textDim: dy, image, text, labels, numClasses: C };
}

// Output of `python3 bench/baselines/linear_cca_reference.py` (numpy 2.4): pre-rotation values of rows 0–7.
const REF: Record<string, { image: number[][]; text: number[][]; labelMean?: number[]; correlations?: number[] }> = {
  "linearA_ridge0.3": {"image": [[0.222034233, -0.142008299, -0.011108421], [-0.0271353492, 0.141013462, -0.138631892], [0.00307146329, 0.033431196, -0.0323641672], [-0.186830653, 0.075851676, 0.103223257], [0.0868269077, -0.257677876, 0.0575860859], [-0.0378791462, 0.23046303, -0.135201956], [0.117123335, -0.170924693, -0.00811682454], [-0.117209934, 0.2193289, 0.110469921]], "text": [[0.401297641, -0.402458545, -0.192146453], [0.0662482314, 0.256230876, -0.277122361], [0.0455663621, -0.342319412, 0.172250285], [0.211117673, -0.147814002, -0.0354049941], [-0.281272068, 0.365191901, -0.000393553468], [-0.120593228, 0.0628764321, 0.167039441], [0.269540876, 0.00176058018, -0.304560671], [0.183976742, -0.147170079, -0.143588513]], "labelMean": [0.35, 0.4, 0.375]},
  "linearA_ridge2": {"image": [[0.0815137132, -0.0877166028, 0.02477566], [0.0180008186, 0.0368074119, -0.0728889534], [0.0147229695, 0.0202446694, -0.0357836701], [-0.0908820286, 0.0393785542, 0.0589795418], [0.046037873, -0.122333657, 0.0298682729], [-0.0192427963, 0.122452511, -0.0744681029], [0.0355276567, -0.0384058244, -0.0187319069], [-0.0717449363, 0.0792062031, 0.0733615161]], "text": [[0.1728441, -0.215709126, -0.0578014831], [0.0276095862, 0.149740782, -0.144413875], [0.0204912399, -0.179337249, 0.09653376], [0.0984940237, -0.0836683015, -0.00637883993], [-0.144131493, 0.178747987, 0.005578662], [-0.0579036268, 0.0303040864, 0.0843112712], [0.130727854, 0.0114372866, -0.157476202], [0.068255147, -0.0813527693, -0.0400702908]], "labelMean": [0.35, 0.4, 0.375]},
  "ccaA_reg3": {"image": [[-0.816563839, 0.911030819, 0.432644663, 1.11884053, -0.413929462], [-0.500075085, -1.59803199, -0.0946927155, 0.678026858, 1.04908882], [-0.0619885249, -0.000881820329, -0.0893158917, -0.423783532, -0.480914019], [0.481522897, -0.0726541414, -0.889250135, -0.239523479, -0.133448709], [-0.59615702, 0.358527968, -0.460798415, -0.752285073, -0.0827046265], [0.423994039, -0.784354926, 0.275123769, 0.182096287, -0.689027986], [0.719251176, 0.470648822, 1.58635483, -0.860270681, 0.729540433], [0.329140914, 1.01072693, -0.160696511, 1.47482281, -0.242146046]], "text": [[-0.395142625, 1.60749505, 1.3311216, 0.307514786, 0.353055489], [0.321668055, -1.43719862, 0.674840613, 0.339011416, 0.0867039414], [-1.0644763, 1.14015026, -0.159905782, -0.355234528, -0.653199108], [0.379801619, 0.299976101, -0.00131476468, -0.712135906, 1.71104585], [0.332197779, -0.32297177, -0.792172957, 1.30047828, -0.511863243], [-0.285755845, -0.496594768, -1.4840049, -0.61939766, 0.891102814], [0.741928661, -0.429193305, 1.66883684, -0.0176695332, 0.423373467], [-0.431730387, 0.810525564, 0.502838197, 0.64932072, 0.0443858638]], "correlations": [0.353786027, 0.266641343, 0.152461924, 0.12310972, 0.0707478921]},
  "ccaB_reg0.5": {"image": [[0.144542326, 0.342410615, 0.979938131, 1.24358935, -0.669092688, 0.946133096, -0.828092551, 0.257496769], [-1.19893237, -0.144783536, 0.772356918, 0.329535143, 1.23426257, -1.18844926, -1.15358496, -1.26810784], [0.746469391, 0.635282026, 0.283890005, -0.408061871, 1.11911575, -0.41269392, 1.27807022, -0.0675558819], [1.08282846, -0.165742842, -2.11944607, -0.128394768, 0.526001685, -0.118533642, -0.133723745, -0.915725576], [0.845767965, -0.839854594, 1.45102843, -1.1666051, -0.553238057, -0.0232115307, 0.6189522, -0.0303396735], [-2.02395873, -0.142412838, -0.848581829, 0.385167556, -0.150682959, -0.371677643, 0.387239283, 0.302087378], [0.269874603, 2.43872192, 0.867969937, -0.0703133085, -0.0873711501, 0.269394514, -0.184359648, 0.52668051], [0.237294511, -1.04367491, -0.915259526, -0.798520185, -1.21092354, -0.307077899, -0.927997427, 1.23740598]], "text": [[-0.860349237, 0.414583411, 1.07508721, 0.136757888, -0.859752268, 0.58863843, 1.11879346, 1.32420882], [-0.84344248, 0.34313492, 0.00105570362, 0.0457849187, 0.255418068, 0.333128565, -1.2038789, 0.556403499], [1.83442854, 0.282519497, 1.22013551, -0.477439902, -0.811951927, 0.152818966, 1.72234998, -1.73292393], [0.149905929, -0.566043927, -1.66188708, -0.515340091, 1.41019458, -0.0547924561, 1.273564, 0.0912767071], [-0.442534602, -0.509636429, 0.990820118, -0.187994116, 0.0159795064, 0.943175951, -1.1191836, -0.655417888], [-1.71251037, 0.21291273, 0.721757198, -0.138713025, 0.0305456467, -3.0446651, -0.840394113, -0.896218093], [0.377743275, 0.606834356, 0.4297605, 0.463276506, 1.6882688, 0.235242083, 0.968466426, 0.340820896], [0.399109133, -0.269321976, -0.148924502, -0.17973615, -0.758181682, 0.564857803, 0.449850649, 1.71148465]], "correlations": [0.621695072, 0.505714091, 0.37333084, 0.335025447, 0.287546783, 0.230293377, 0.22168812, 0.134575211]}
};

const bits = 8;
const rowsOf = (d: TrainingData, m: 'image' | 'text', k: number) => (m === 'image' ? d.image.subarray(0, k * d.imageDim) : d.text.subarray(0, k * d.textDim));

/** ref (rows × k) · R (k × c) (+ offset · R). */
function times(ref: number[][], R: Float64Array, c: number, offset?: number[]): number[][] {
  return ref.map((row) => Array.from({ length: c }, (_, j) => row.reduce((s, v, p) => s + (v + (offset?.[p] ?? 0)) * R[p * c + j]!, 0)));
}

function assertClose(got: Float32Array, want: number[][], tol: number, what: string): void {
  const c = want[0]!.length;
  let worst = 0;
  want.forEach((row, r) => row.forEach((v, j) => { worst = Math.max(worst, Math.abs(got[r * c + j]! - v)); }));
  assert.ok(worst <= tol, `${what}: largest difference ${worst.toExponential(2)} > ${tol}`);
}

test('linear: real-valued codes match the numpy reference ((z − z̄)·W_ridge · R), centred and not', async () => {
  const d = fixture(40, 6, 5, 3);
  for (const ridge of [0.3, 2]) {
    const ref = REF[`linearA_ridge${ridge}`]!;
    for (const center of [true, false]) {
      const m = new LinearBaseline({ bits, ridge, center });
      await m.fit(d, { bits, seed: 1 });
      const R = m.rotation!;
      assert.equal(R.rows, 3); assert.equal(R.cols, bits);
      for (const mod of ['image', 'text'] as const) {
        const out = m.encode(mod, rowsOf(d, mod, 8), 8).values;
        assertClose(out, times(ref[mod], R.data, bits, center ? undefined : ref.labelMean), 2e-5, `ridge ${ridge} center ${center} ${mod}`);
      }
    }
  }
});

test('cca: canonical projections and correlations match the numpy reference (padded and unpadded)', async () => {
  // A: 5 canonical pairs, 8 bits: the first 5 outputs are the canonical coordinates, the other 3 seeded combinations of them.
  const a = fixture(40, 6, 5, 3);
  const ma = new CcaBaseline({ bits, regulariser: 3, itq: 0 });
  await ma.fit(a, { bits, seed: 1 });
  const ra = ma.rotation!;
  assert.equal(ra.rows, 5);
  for (let p = 0; p < 5; p++) for (let j = 0; j < 5; j++) assert.equal(ra.data[p * bits + j], p === j ? 1 : 0, 'padding keeps the canonical coordinates first');
  for (const mod of ['image', 'text'] as const) assertClose(ma.encode(mod, rowsOf(a, mod, 8), 8).values, times(REF.ccaA_reg3![mod], ra.data, bits), 2e-5, `fixture A ${mod}`);
  const rhoA = ma.lastSolution!.meta!.canonicalCorrelations as number[];
  REF.ccaA_reg3!.correlations!.forEach((v, i) => assert.ok(Math.abs(rhoA[i]! - v) < 1e-6, `ρ${i} ${rhoA[i]} vs ${v}`));
  // B: 10 pairs available, 8 bits: the top 8, no rotation.
  const b = fixture(60, 12, 10, 4);
  const mb = new CcaBaseline({ bits, regulariser: 0.5, itq: 0 });
  await mb.fit(b, { bits, seed: 1 });
  for (const mod of ['image', 'text'] as const) assertClose(mb.encode(mod, rowsOf(b, mod, 8), 8).values, REF['ccaB_reg0.5']![mod], 2e-5, `fixture B ${mod}`);
  const rhoB = mb.lastSolution!.meta!.canonicalCorrelations as number[];
  REF['ccaB_reg0.5']!.correlations!.forEach((v, i) => assert.ok(Math.abs(rhoB[i]! - v) < 1e-6, `ρ${i} ${rhoB[i]} vs ${v}`));
});

test('cca: directions are whitened (Wᵀ·C̃·W = I) and the cross-covariance is diagonal (W_xᵀ·C_xy·W_y = diag ρ)', async () => {
  const d = fixture(60, 12, 10, 4), reg = 0.5, n = d.n;
  const m = new CcaBaseline({ bits, regulariser: reg, itq: 0 });
  await m.fit(d, { bits, seed: 1 });
  const sol = m.lastSolution!, k = sol.k, rho = sol.meta!.canonicalCorrelations as number[];
  const std = (x: Float32Array, dim: number) => { const s = columnStats(x, n, dim); return standardize(x, dim, s.mean, s.invStd); };
  const Z = std(d.image, d.imageDim), Y = std(d.text, d.textDim);
  // covariance of centred columns, with the relative ridge reg·(d/n)·tr/d on the diagonal when asked
  const cov = (A: Float32Array, da: number, B: Float32Array, db: number, ridge: boolean) => {
    const ma = new Float64Array(da), mb = new Float64Array(db);
    for (let r = 0; r < n; r++) { for (let i = 0; i < da; i++) ma[i] += A[r * da + i]! / n; for (let j = 0; j < db; j++) mb[j] += B[r * db + j]! / n; }
    const c = new Float64Array(da * db);
    for (let r = 0; r < n; r++) for (let i = 0; i < da; i++) for (let j = 0; j < db; j++) c[i * db + j] += (A[r * da + i]! - ma[i]!) * (B[r * db + j]! - mb[j]!) / n;
    if (ridge) { let tr = 0; for (let i = 0; i < da; i++) tr += c[i * db + i]!; for (let i = 0; i < da; i++) c[i * db + i] += reg * (da / n) * (tr / da); }
    return c;
  };
  const quad = (W: Float64Array, da: number, C: Float64Array, V: Float64Array, db: number) => { // Wᵀ C V (k × k)
    const out = new Float64Array(k * k);
    for (let p = 0; p < k; p++) for (let q = 0; q < k; q++) { let s = 0; for (let i = 0; i < da; i++) for (let j = 0; j < db; j++) s += W[i * k + p]! * C[i * db + j]! * V[j * k + q]!; out[p * k + q] = s; }
    return out;
  };
  const wx = sol.imageProjection, wy = sol.textProjection, dx = d.imageDim, dy = d.textDim;
  const checks: [string, Float64Array, (p: number) => number][] = [
    ['W_xᵀ C̃_xx W_x', quad(wx, dx, cov(Z, dx, Z, dx, true), wx, dx), () => 1],
    ['W_yᵀ C̃_yy W_y', quad(wy, dy, cov(Y, dy, Y, dy, true), wy, dy), () => 1],
    ['W_xᵀ C_xy W_y', quad(wx, dx, cov(Z, dx, Y, dy, false), wy, dy), (p) => rho[p]!],
  ];
  for (const [what, M, diag] of checks) {
    for (let p = 0; p < k; p++) for (let q = 0; q < k; q++) {
      const want = p === q ? diag(p) : 0;
      assert.ok(Math.abs(M[p * k + q]! - want) < 1e-5, `${what}[${p},${q}] = ${M[p * k + q]} (expected ${want})`);
    }
  }
  for (let p = 1; p < k; p++) assert.ok(rho[p]! <= rho[p - 1]!, 'correlations descending');
});

test('rotations are orthogonal and seeded: same seed, same codes; another seed, other codes', async () => {
  const d = fixture(60, 12, 10, 12 /* 12 classes ≥ 8 bits: orthonormal columns */);
  const orthogonalColumns = (R: { rows: number; cols: number; data: Float64Array }, what: string) => {
    for (let p = 0; p < R.cols; p++) for (let q = 0; q < R.cols; q++) {
      let s = 0;
      for (let i = 0; i < R.rows; i++) s += R.data[i * R.cols + p]! * R.data[i * R.cols + q]!;
      assert.ok(Math.abs(s - (p === q ? 1 : 0)) < 1e-10, `${what}: RᵀR[${p},${q}] = ${s}`);
    }
  };
  const make = async (kind: 'linear' | 'cca', seed: number) => {
    const m = kind === 'linear' ? new LinearBaseline({ bits }) : new CcaBaseline({ bits, regulariser: 0.5, itq: 20 });
    await m.fit(d, { bits, seed });
    return m;
  };
  for (const kind of ['linear', 'cca'] as const) {
    const a = await make(kind, 1), b = await make(kind, 1), c = await make(kind, 2);
    assert.equal(a.rotation!.rows, kind === 'linear' ? 12 : 8);
    orthogonalColumns(a.rotation!, kind);
    orthogonalColumns(c.rotation!, kind);
    const x = rowsOf(d, 'image', 20);
    assert.deepEqual(Array.from(a.encode('image', x, 20).values), Array.from(b.encode('image', x, 20).values), `${kind}: same seed, same outputs`);
    const sa = Array.from(a.encode('image', x, 20).values, Math.sign), sc = Array.from(c.encode('image', x, 20).values, Math.sign);
    assert.notDeepEqual(sa, sc, `${kind}: another seed, other codes`);
  }
  // more bits than classes: a Gaussian projection, still seeded
  const g1 = new LinearBaseline({ bits: 16 }), g2 = new LinearBaseline({ bits: 16 });
  await g1.fit(fixture(40, 6, 5, 3), { bits: 16, seed: 7 }); await g2.fit(fixture(40, 6, 5, 3), { bits: 16, seed: 7 });
  assert.deepEqual(Array.from(g1.rotation!.data), Array.from(g2.rotation!.data));
  assert.equal(g1.rotation!.rows, 3);
});

test('cca: ITQ lowers the quantisation error of the training projections (monotone in the iterations)', async () => {
  const d = fixture(60, 12, 10, 4);
  const q: number[] = [];
  for (const itq of [1, 5, 40]) {
    const m = new CcaBaseline({ bits, regulariser: 0.5, itq });
    await m.fit(d, { bits, seed: 3 });
    q.push(m.lastFit!.history[0]!.loss.quantization!);
  }
  assert.ok(q[1]! <= q[0]! + 1e-9 && q[2]! <= q[1]! + 1e-9, `quantisation error by iterations 1, 5, 40: ${q.join(', ')}`);
});

function splitOf(ds: ReturnType<typeof generateSynthetic>, name: string): TrainingData {
  const rows = ds.split(name);
  return { n: rows.length, imageDim: ds.imageDim, textDim: ds.textDim, numClasses: ds.numLabels, image: gatherRows(ds.image, ds.imageDim, rows), text: gatherRows(ds.text, ds.textDim, rows), labels: gatherRows(ds.labels, ds.numLabels, rows) };
}

test('on synthetic data linear beats chance clearly, and so does cca (unsupervised)', async () => {
  const ds = generateSynthetic({ n: 1500, seed: 1, querySize: 100 });
  const train = splitOf(ds, 'retrieval'), query = splitOf(ds, 'query');
  const chance = chanceMap(query, train);
  const score = async (m: Hasher) => { await m.fit(train, { bits: 32, seed: 1 }); return evaluateCrossModal(m, query, train).map_all; };
  const lin = await score(createHasher('linear', { bits: 32 }));
  const cca = await score(createHasher('cca', { bits: 32 }));
  assert.ok(lin.i2t > chance + 0.15 && lin.t2i > chance + 0.15, `linear mAP ${lin.i2t.toFixed(3)}/${lin.t2i.toFixed(3)} vs chance ${chance.toFixed(3)}`);
  assert.ok(cca.i2t > chance + 0.05 && cca.t2i > chance + 0.05, `cca mAP ${cca.i2t.toFixed(3)}/${cca.t2i.toFixed(3)} vs chance ${chance.toFixed(3)}`);
});

test('save/load round trip, continual refit on everything kept (labels widen), export layer = encode', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cmhash-baselines-'));
  try {
    const all = fixture(80, 6, 5, 4);
    // session 0: items with classes 0–2 only (labels 3 wide); session 1: the rest, 4 wide
    const old: number[] = [], fresh: number[] = [];
    for (let i = 0; i < all.n; i++) (all.labels[i * 4 + 3] ? fresh : old).push(i);
    const s0 = subsetTrainingData(all, old), s1 = subsetTrainingData(all, fresh);
    const narrow = new Uint8Array(s0.n * 3);
    for (let i = 0; i < s0.n; i++) narrow.set(s0.labels.subarray(i * 4, i * 4 + 3), i * 3);
    const base: TrainingData = { ...s0, labels: narrow, numClasses: 3 };
    const session: SessionData = { ...s1, index: 1, newClasses: [3] };
    for (const name of ['linear', 'cca'] as const) {
      assert.equal(methodEntry(name).kind, 'baseline');
      assert.equal(methodEntry(name).supervised, name === 'linear');
      assert.ok(reencodesDatabase(name), `${name} re-stores the database after each refit`);
      const m = createContinualHasher(name, { bits: 16 });
      await m.fit(base, { bits: 16, seed: 4 });
      assert.equal(m.memoryItems(), base.n);
      if (name === 'cca') assert.equal(m.databaseCodes?.(), null, 'cca keeps no learned codes: every item is encoded');
      const path = join(dir, `${name}.ckpt`);
      m.save(path);
      const back = loadHasher(path, { method: name, bits: 16 });
      assert.equal(back.constructor, m.constructor);
      const x = all.text.subarray(0, 10 * all.textDim);
      assert.deepEqual(Array.from(back.encode('text', x, 10).values), Array.from(m.encode('text', x, 10).values), `${name}: loaded model encodes bit for bit alike`);
      // export: one linear layer with the standardisation folded in, no activation
      const layers = encoderLayersFromCheckpoint(path);
      assert.equal(layers.bits, 16);
      for (const mod of ['image', 'text'] as const) {
        assert.equal(layers[mod].length, 1);
        const l = layers[mod][0] as LinearLayer, feats = rowsOf(all, mod, 10), want = m.encode(mod, feats, 10).values;
        let worst = 0;
        for (let r = 0; r < 10; r++) for (let j = 0; j < 16; j++) {
          let s = l.bias![j]!;
          for (let i = 0; i < l.inDim; i++) s += feats[r * l.inDim + i]! * l.weight[i * 16 + j]!;
          worst = Math.max(worst, Math.abs(s - want[r * 16 + j]!));
        }
        assert.ok(worst < 1e-4, `${name} ${mod}: exported layer differs from encode by ${worst}`);
      }
      // the loaded model refits on what it kept plus the session: the same model as a fresh fit on all of it
      const cont = back as typeof m;
      await cont.update(session, { bits: 16, seed: 4 });
      assert.equal(cont.memoryItems(), base.n + session.n);
      assert.equal(cont.modelVersion, 2);
      const direct = createHasher(name, { bits: 16 });
      const merged = new Uint8Array((base.n + session.n) * 4);
      for (let i = 0; i < base.n; i++) merged.set(narrow.subarray(i * 3, i * 3 + 3), i * 4);
      merged.set(session.labels, base.n * 4);
      const cat = (p: Float32Array, q: Float32Array) => { const o = new Float32Array(p.length + q.length); o.set(p); o.set(q, p.length); return o; };
      await direct.fit({ n: base.n + session.n, imageDim: 6, textDim: 5, numClasses: 4, image: cat(base.image, session.image), text: cat(base.text, session.text), labels: merged }, { bits: 16, seed: 4 });
      assert.deepEqual(Array.from(cont.encode('image', rowsOf(all, 'image', 10), 10).values), Array.from(direct.encode('image', rowsOf(all, 'image', 10), 10).values), `${name}: update = refit on everything`);
      if (name === 'linear') assert.equal((cont as LinearBaseline).rotation!.rows, 4, 'the label space widened to 4 classes');
    }
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('dense helpers: blocked Cholesky and solves, row Gram, full and top-k eigen-solvers, polar factor', () => {
  const rng = new Rng(11);
  const spd = (n: number) => { const g = Float64Array.from({ length: n * n }, () => rng.normal()); const a = rowGram(g, n, n); for (let i = 0; i < n; i++) a[i * n + i] += 1; return a; };
  const maxAbs = (x: ArrayLike<number>, y: ArrayLike<number>) => { let m = 0; for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]! - y[i]!)); return m; };
  for (const n of [1, 5, 33, 70, 131]) { // across the 64-column Cholesky blocks and the 32-row solve blocks
    const a = spd(n), L = cholesky(a, n)!;
    assert.ok(maxAbs(rowGram(L, n, n), a) < 1e-9 * n, `n=${n}: L·Lᵀ = A`);
    const b = Float64Array.from({ length: n * 3 }, () => rng.normal());
    assert.ok(maxAbs(matmul(L, n, n, solveLower(L, n, b, 3), 3), b) < 1e-9, `n=${n}: L·x = b`);
    assert.ok(maxAbs(matmul(transpose(L, n, n), n, n, solveLowerT(L, n, b, 3), 3), b) < 1e-9, `n=${n}: Lᵀ·x = b`);
  }
  assert.equal(cholesky([1, 2, 2, 1], 2), null, 'an indefinite matrix has no Cholesky factor');
  for (const [n, k] of [[1, 1], [9, 9], [60, 7], [150, 20]] as const) {
    const a = spd(n), full = symmetricEigen(a, n), top = symmetricEigenTop(a, n, k);
    for (let j = 0; j < k; j++) {
      assert.ok(Math.abs(full.values[j]! - top.values[j]!) < 1e-9 * full.values[0]!, `n=${n}: λ${j}`);
      if (j > 0) assert.ok(full.values[j]! <= full.values[j - 1]!, 'descending');
      const v = top.vectors.subarray(j * n, (j + 1) * n), av = matmul(a, n, n, v, 1);
      assert.ok(maxAbs(av, Array.from(v, (x) => x * top.values[j]!)) < 1e-8 * full.values[0]!, `n=${n}: A·v = λ·v for pair ${j}`);
      let cos = 0; for (let i = 0; i < n; i++) cos += v[i]! * full.vectors[j * n + i]!;
      assert.ok(Math.abs(Math.abs(cos) - 1) < 1e-8, `n=${n}: top-k vector ${j} = full vector up to sign`);
    }
  }
  // repeated eigenvalues (3, 3, 3, 1, 1, 0, …): top-k vectors stay orthonormal eigenvectors
  const n = 24, q = symmetricEigen(spd(n), n).vectors, lam = Array.from({ length: n }, (_, i) => (i < 3 ? 3 : i < 5 ? 1 : 0));
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) { let s = 0; for (let p = 0; p < n; p++) s += q[p * n + i]! * lam[p]! * q[p * n + j]!; a[i * n + j] = s; }
  const top = symmetricEigenTop(a, n, 7);
  assert.ok(maxAbs(rowGram(top.vectors, 7, n), Array.from({ length: 49 }, (_, i) => (i % 8 === 0 ? 1 : 0))) < 1e-10, 'orthonormal');
  for (let j = 0; j < 7; j++) {
    const v = top.vectors.subarray(j * n, (j + 1) * n);
    assert.ok(maxAbs(matmul(a, n, n, v, 1), Array.from(v, (x) => x * lam[j]!)) < 1e-10, `pair ${j} of a repeated eigenvalue`);
  }
  // nearest orthogonal matrix of a rank-deficient C is orthogonal
  const c = Float64Array.from({ length: 36 }, (_, i) => (i % 6 < 4 ? rng.normal() : 0));
  const r = nearestOrthogonal(c, 6);
  assert.ok(maxAbs(rowGram(r, 6, 6), Array.from({ length: 36 }, (_, i) => (i % 7 === 0 ? 1 : 0))) < 1e-12);
});

test('options: each baseline takes its own and refuses the other\'s', () => {
  assert.throws(() => createHasher('linear', { bits: 16, itq: 5 }), /linear has no option "itq" \(its options: ridge, center/);
  assert.throws(() => createHasher('cca', { bits: 16, ridge: 1 }), /cca has no option "ridge" \(its options: regulariser, itq/);
  assert.throws(() => createHasher('linear', { bits: 16, ridge: -1 }), /option ridge must be ≥ 0/);
  assert.doesNotThrow(() => createHasher('cca', { bits: 16, regulariser: 0, itq: 0 }));
});
