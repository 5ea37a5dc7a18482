// Times the continual methods' training step as they run it: two HashNets (dx→hidden→c, dy→hidden→c,
// ReLU then tanh), the regression loss of CCMH-GAM (mean of (u − t)² + (v − t)²), plain Adam, on
// fixed random data. Prints ms per step and the loss after the last step (to check two builds give
// the same bits). Study harness, not part of the CLI; run from a built checkout:
//   npx tsc -p tsconfig.json && CMHASH_THREADS=1 node bench/small-step.mjs [dx,dy,hidden,c,batch,steps]
// docs/experiments/2026-12-small-net-step.md compares two commits with it (each in its own worktree).
import { Tensor } from '../dist/src/tensor/tensor.js';
import * as ops from '../dist/src/tensor/ops.js';
import { Adam } from '../dist/src/nn/optim-adam.js';
import { HashNet } from '../dist/src/methods/parts/hash-net.js';
import { Rng } from '../dist/src/util/rng.js';

const [dx, dy, hid, c, B, steps] = (process.argv[2] || '128,10,512,32,128,2000').split(',').map(Number);
const rng = new Rng(1);
const fx = new HashNet(dx, hid, c, rng.fork()), fy = new HashNet(dy, hid, c, rng.fork());
const opt = new Adam([{ params: fx.parameters(), lr: 1e-3 }, { params: fy.parameters(), lr: 1e-3 }], { lr: 1e-3 });
const X = new Float32Array(B * dx).map(() => rng.normal(0, 1)), Y = new Float32Array(B * dy).map(() => rng.normal(0, 1));
const T = new Float32Array(B * c).map(() => (rng.normal(0, 1) < 0 ? -1 : 1));
function step() {
  opt.zeroGrad();
  // fresh input copies each step, as a training loop's gathered batch
  const u = fx.forward(Tensor.wrap(B, dx, X.slice())), v = fy.forward(Tensor.wrap(B, dy, Y.slice()));
  const Tt = Tensor.wrap(B, c, T);
  const loss = ops.mulScalar(ops.sum(ops.add(ops.square(ops.sub(u, Tt)), ops.square(ops.sub(v, Tt)))), 1 / (B * c));
  loss.backward();
  opt.step();
  return loss.item();
}
for (let i = 0; i < 50; i++) step();
const c0 = process.cpuUsage(), t0 = performance.now();
let l = 0;
for (let i = 0; i < steps; i++) l = step();
const wall = performance.now() - t0, cu = process.cpuUsage(c0);
console.log(JSON.stringify({ ms_per_step: +(wall / steps).toFixed(3), cpu_ms_per_step: +((cu.user + cu.system) / 1000 / steps).toFixed(3), loss: l }));
