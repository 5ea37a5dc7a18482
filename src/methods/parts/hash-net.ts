// A two-layer hashing network u = tanh(relu(x·W1 + b1)·W2 + b2), written out (rather than through
// nn/mlp) because continual methods need its hidden activations: the closed-form last-layer
// gradient of sample i is [hᵢ, 1] ⊗ δᵢ (memory-gradient.ts), and the label network grows its first
// layer's input rows when new classes arrive (label-network.ts).
import { Tensor, noGrad } from '../../tensor/tensor.js';
import type { Buf } from '../../tensor/tensor.js';
import * as ops from '../../tensor/ops.js';
import { Linear } from '../../nn/linear.js';
import type { Module } from '../../nn/module.js';
import { Rng } from '../../util/rng.js';
import { InputError } from '../../util/errors.js';

export class HashNet implements Module {
  l1: Linear;
  l2: Linear;
  training = true;

  constructor(inDim: number, readonly hidden: number, readonly bits: number, rng: Rng) {
    this.l1 = new Linear(inDim, hidden, { rng: rng.fork(), init: 'he' });
    this.l2 = new Linear(hidden, bits, { rng: rng.fork(), init: 'xavier' });
  }

  get inDim(): number { return this.l1.inDim; }

  /** Hidden activations and the tanh output. */
  forwardWithHidden(x: Tensor): { hidden: Tensor; out: Tensor } {
    const hidden = this.l1.forwardRelu(x);
    return { hidden, out: ops.tanh(this.l2.forward(hidden)) };
  }

  forward(x: Tensor): Tensor { return this.forwardWithHidden(x).out; }

  /** tanh outputs for many rows, in chunks, without a tape. */
  infer(x: Float32Array, rows: number, chunk = 2048): Float32Array {
    const d = this.inDim;
    const out = new Float32Array(rows * this.bits);
    noGrad(() => {
      for (let r = 0; r < rows; r += chunk) {
        const m = Math.min(chunk, rows - r);
        out.set(this.forward(Tensor.wrap(m, d, x.subarray(r * d, (r + m) * d))).data as Float32Array, r * this.bits);
      }
    });
    return out;
  }

  parameters(): Tensor[] { return [...this.l1.parameters(), ...this.l2.parameters()]; }
  namedParameters(): [string, Tensor][] {
    return [...this.l1.namedParameters().map(([n, t]) => [`l1.${n}`, t] as [string, Tensor]), ...this.l2.namedParameters().map(([n, t]) => [`l2.${n}`, t] as [string, Tensor])];
  }
  train(on: boolean): void { this.training = on; }

  /** Copies of all parameter values (snapshots for model selection). */
  snapshot(): Float32Array[] { return this.parameters().map((p) => (p.data as Float32Array).slice()); }
  restore(s: Float32Array[]): void { this.parameters().forEach((p, i) => p.data.set(s[i]!)); }

  /**
   * Shrink and perturb (Ash & Adams, "On warm-starting neural network training", 2020):
   * θ ← λθ + (1 − λ)θ_fresh, θ_fresh a new He/Xavier initialisation. A net warm-started from an
   * earlier session generalises worse on new classes than one trained from scratch; moving it part
   * way back toward a fresh initialisation restores plasticity while keeping most of what it knew.
   */
  shrinkPerturb(lambda: number, rng: Rng): void {
    if (!(lambda >= 0 && lambda <= 1)) throw new InputError(`image shrink (shrink and perturb) must be in [0, 1], got ${lambda}`);
    if (lambda === 1) return; // off: the rng is not touched either
    const fresh = new HashNet(this.inDim, this.hidden, this.bits, rng.fork()).parameters();
    this.parameters().forEach((p, i) => blendInto(p.data, fresh[i]!.data, lambda));
  }

  /**
   * Grows the input width to `newInDim` by appending input rows to W1 (W1 is stored in×out). A label
   * vector of an old session is 0 at every new input, so its output is unchanged at the moment of
   * growth whatever the new rows hold. Without `rng` the new rows are zero (the paper's wording); with
   * `rng` they are He-normal like a fresh layer's rows. CCMH-GAM passes an rng: zero rows make every
   * new single-class label vector start at the same output (g(0)), and the label loss is symmetric
   * in those classes, so gradient descent can never separate them — measured on Wikipedia 4+3+3:
   * classes 8 and 9 ended with identical codes (Hamming 0) and 4/5 at Hamming 5 of 32.
   */
  growInput(newInDim: number, rng?: Rng): void {
    const old = this.l1;
    if (newInDim < old.inDim) throw new Error(`HashNet.growInput: cannot shrink ${old.inDim} → ${newInDim}`);
    if (newInDim === old.inDim) return;
    const grown = new Linear(newInDim, old.outDim, { rng: rng ?? new Rng(0), init: 'he' });
    if (!rng) grown.weight.data.fill(0);
    grown.weight.data.set(old.weight.data); // rows 0..inDim−1 are the old inputs (row-major in×out)
    if (grown.bias && old.bias) grown.bias.data.set(old.bias.data);
    this.l1 = grown;
  }
}

/**
 * dst ← λ·dst + (1 − λ)·src. A function of its own: it runs once per session, and the JIT optimises
 * a small function on its first long loop (inline in shrinkPerturb it ran unoptimised, ~12 ms of a
 * ~100 ms Wikipedia increment).
 */
function blendInto(dst: Buf, src: Buf, lambda: number): void {
  for (let k = 0; k < dst.length; k++) dst[k] = lambda * dst[k]! + (1 - lambda) * src[k]!;
}

/**
 * A net with a linear branch beside it: out = x·W + b + net(x). The linear branch generalises to
 * unseen inputs where a wide hidden layer memorises its training items; the sum has both (DCMH's
 * `imageSkip`, DBRC's `ccaInit`). Parameters: the branch's ("linear.weight", "linear.bias"), then the net's.
 */
export class LinearPlusNet implements Module {
  readonly linear: Linear;
  constructor(inDim: number, outDim: number, readonly net: Module, rng: Rng, init: { std?: number } = {}) {
    this.linear = new Linear(inDim, outDim, { rng, init: init.std !== undefined ? 'normal' : 'xavier', std: init.std });
  }
  forward(x: Tensor): Tensor { return ops.add(this.linear.forward(x), this.net.forward(x)); }
  parameters(): Tensor[] { return [...this.linear.parameters(), ...this.net.parameters()]; }
  namedParameters(): [string, Tensor][] {
    return [...this.linear.namedParameters().map(([k, t]): [string, Tensor] => [`linear.${k}`, t]), ...this.net.namedParameters()];
  }
  train(on: boolean): void { this.linear.train(on); this.net.train(on); }
}

/**
 * Checkpoint tensors of a LinearPlusNet whose net is an MLP (Linear, activation[, dropout], …, Linear
 * with ReLU activations), under `prefix`:
 * - `<prefix>.skip.<name>`: every parameter exactly (what loadLinearPlusNet reads back);
 * - `<prefix>.<i>.weight|bias` for the MLP's Linear layers i: ONE plain ReLU MLP that computes the same
 *   function, for readers that know only plain MLPs (the ONNX export, methods/export-layers.ts). The
 *   linear branch rides through the hidden layers as 2·d extra units, z = ReLU(z) − ReLU(−z):
 *   first layer [W₁ | I | −I], middle layers diag(Wᵢ, I), last layer [W_L; W; −W] with bias b_L + b.
 *   (Without hidden layers the two linear maps are summed.)
 */
export function linearPlusNetTensors(prefix: string, m: LinearPlusNet): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const [name, t] of m.namedParameters()) out[`${prefix}.skip.${name}`] = t;
  const seq = m.net as unknown as { layers: Module[] };
  const idx = seq.layers.map((l, i) => (l instanceof Linear ? i : -1)).filter((i) => i >= 0);
  const d = m.linear.inDim, c = m.linear.outDim;
  const W = m.linear.weight.data, b = m.linear.bias?.data;
  idx.forEach((li, j) => {
    const l = seq.layers[li] as Linear;
    const first = j === 0, last = j === idx.length - 1;
    const inA = l.inDim + (first ? 0 : 2 * d), outA = l.outDim + (last ? 0 : 2 * d);
    const w = new Float32Array(inA * outA), bias = new Float32Array(outA);
    for (let r = 0; r < l.inDim; r++) for (let k = 0; k < l.outDim; k++) w[r * outA + k] = l.weight.data[r * l.outDim + k]!;
    if (l.bias) for (let k = 0; k < l.outDim; k++) bias[k] = l.bias.data[k]!;
    if (first && last) { // no hidden layer: one linear map
      for (let r = 0; r < d; r++) for (let k = 0; k < c; k++) w[r * outA + k] += W[r * c + k]!;
    } else if (first) {
      for (let r = 0; r < d; r++) { w[r * outA + l.outDim + r] = 1; w[r * outA + l.outDim + d + r] = -1; }
    } else if (last) {
      for (let r = 0; r < d; r++) for (let k = 0; k < c; k++) {
        w[(l.inDim + r) * outA + k] = W[r * c + k]!;
        w[(l.inDim + d + r) * outA + k] = -W[r * c + k]!;
      }
    } else {
      for (let r = 0; r < 2 * d; r++) w[(l.inDim + r) * outA + l.outDim + r] = 1;
    }
    if (last && b) for (let k = 0; k < c; k++) bias[k] += b[k]!;
    out[`${prefix}.${li}.weight`] = Tensor.wrap(inA, outA, w);
    out[`${prefix}.${li}.bias`] = Tensor.wrap(1, outA, bias);
  });
  return out;
}
