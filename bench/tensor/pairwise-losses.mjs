// The fused pairwise losses against the composed ops they replaced, forward and backward, measured
// in the same run, with a check that both give the same bits:
//   likelihood     ops.pairwiseLikelihood   vs mean(softplus(Θ) − S⊙Θ); also vs the JS floor (one
//                  Math.exp and one Math.log1p per element)
//   squared error  ops.pairwiseSquaredError vs mean((P/32 − S)²); also vs the floor of one pass
//                  reading P and S and writing a float32 (fused forward and backward make two)
// Usage: node bench/tensor/pairwise-losses.mjs [reps=60]   (after npm run build)
import * as ops from '../../dist/src/tensor/ops.js';
import { Tensor } from '../../dist/src/tensor/tensor.js';
import { Rng } from '../../dist/src/util/rng.js';

const reps = Number(process.argv[2] ?? 60);
const rng = new Rng(1);
const losses = {
  likelihood: { composed: (t, S) => ops.mean(ops.sub(ops.softplus(t), ops.mul(S, t))), fused: (t, S) => ops.pairwiseLikelihood(t, S),
    floor: (x) => { let acc = 0; for (let i = 0; i < x.length; i++) { const e = Math.exp(-Math.abs(x[i])); acc += Math.log1p(e) + e; } return acc; } },
  'squared error': { composed: (t, S) => ops.mean(ops.square(ops.sub(ops.mulScalar(t, 1 / 32), S))), fused: (t, S) => ops.pairwiseSquaredError(t, 1 / 32, S),
    floor: (x, s, out) => { for (let i = 0; i < x.length; i++) out[i] = x[i] * 0.03125 - s[i]; return out[0]; } },
};
const rows = [];
for (const [loss, { composed, fused, floor }] of Object.entries(losses)) for (const [m, k] of [[125, 125], [125, 168], [256, 512], [1024, 1024]]) {
  const theta = new Float32Array(m * k), s = new Float32Array(m * k);
  for (let i = 0; i < theta.length; i++) { theta[i] = rng.normal() * 6; s[i] = rng.uniform() < 0.3 ? rng.uniform() : 0; }
  const S = Tensor.wrap(m, k, s);
  const once = (f) => { const t = Tensor.wrap(m, k, theta.slice(), { requiresGrad: true }); const l = f(t, S); l.backward(); return [l.item(), t.grad]; };
  const [va, ga] = once(composed), [vb, gb] = once(fused);
  const same = Object.is(va, vb) && ga.every((x, i) => Object.is(x, gb[i]));
  const time = (f) => { once(f); const t0 = performance.now(); for (let r = 0; r < reps; r++) once(f); return (performance.now() - t0) / reps; };
  const tc = Math.min(time(composed), time(composed)), tf = Math.min(time(fused), time(fused));
  const scratch = new Float32Array(m * k);
  floor(theta, s, scratch); const t1 = performance.now(); for (let r = 0; r < reps; r++) floor(theta, s, scratch); const tm = (performance.now() - t1) / reps;
  rows.push({ loss, shape: `${m}×${k}`, composed_ms: tc.toFixed(3), fused_ms: tf.toFixed(3), speedup: (tc / tf).toFixed(2), 'fused ns/elem': (tf * 1e6 / (m * k)).toFixed(1),
    'floor ns/elem': (tm * 1e6 / (m * k)).toFixed(1), 'fused / floor': (tf / tm).toFixed(2), bit_identical: same });
}
console.table(rows);
