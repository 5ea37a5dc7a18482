// Adam (Kingma & Ba) with bias correction. Weight decay is L2 added to the gradient by default
// (as in the classic formulation); `decoupled: true` applies it directly to the weights (AdamW).
//
// `fusedBackward: true` lets a float32 weight's update run inside the backward pass, in the GEMM
// that makes its gradient (Backend.gemmAdam): the gradient is never written, zeroed or read back.
// Same bits as the unfused step. It applies only between this optimiser's zeroGrad() and step(),
// and only where that is exact (the weight fed one recorded op since zeroGrad(), nothing else wrote
// its gradient, the backend has the fused GEMM in the current precision); step() updates
// everything else as usual. So with it on, backward() itself updates such a weight and its `.grad`
// stays unfilled: nothing else may read or use that gradient (another optimiser over the same
// weights, clipGradNorm, gradient projection), the learning rate must be set before backward(),
// gradients must be written through autograd (gradOf), and one backward() per step() (accumulating
// over several is refused at step()). detachFused() ends it, e.g. when training is done.
// While it is on, big float32 weights (and their moments) are kept in the GEMM kernel's panel
// layout where the backend prefers it; `.data` still reads and writes the row-major weight, but a
// buffer taken from it holds only until the next pass that uses the weight (tensor/panel-weight.ts).
import { InputError } from '../util/errors.js';
import { getBackend } from '../tensor/backends.js';
import { getMatmulPrecision } from '../tensor/precision.js';
import type { AdamStepParams, PanelKernels } from '../tensor/backend.js';
import type { Buf, GradSink, Tensor } from '../tensor/tensor.js';
import { gradOf } from '../tensor/tensor.js';
import { enterPanels, leavePanels, panelsForProduct, panelsWritten } from '../tensor/panel-weight.js';
import { resolveGroups, Optimizer, ParamGroup, ResolvedGroup } from './optimizer.js';

export interface AdamOpts {
  lr: number; beta1?: number; beta2?: number; eps?: number; weightDecay?: number; decoupled?: boolean;
  /** Apply float32 weights' updates inside the backward pass where exact (see above). Default false. */
  fusedBackward?: boolean;
}

/**
 * One weight's state for the fused update: uses since zeroGrad(), whether `.grad` is all zero (or
 * absent), whether this optimiser is driving (its zeroGrad() came after its last step()), and
 * whether the backward pass already applied this step's update.
 */
class FusedUpdate implements GradSink {
  uses = 0;
  clean: boolean;
  armed = false;
  applied = false;
  /** The panel kernels whose layout the moments are in (they follow where the update last ran), or null: rows. */
  private momentLayout: PanelKernels | null = null;
  constructor(private readonly opt: Adam, readonly param: Tensor, readonly group: ResolvedGroup) {
    // a gradient left from before this optimiser (earlier training) must be zeroed, not trusted
    this.clean = param.grad === null;
  }
  noteUse(): void { this.uses++; }
  markWritten(): void { this.clean = false; }
  take(transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number, a: Float32Array, lda: number,
    b: Float32Array, ldb: number): boolean {
    const be = getBackend();
    const p = this.param;
    // the product in the precision every other GEMM runs in (bf16 only where the backend has it)
    const bf16 = getMatmulPrecision() === 'bf16';
    const fused = bf16 ? be.gemmAdamBf16 : be.gemmAdam;
    if (!fused || !this.armed || this.uses !== 1 || !this.clean || this.applied || p.dtype !== 'f32'
      || m !== p.rows || n !== p.cols) return false;
    const s = this.opt.stateOf(p) as { m: Float32Array; v: Float32Array };
    const params = this.opt.stepParams(this.opt.t + 1, this.group);
    // a weight kept in panels is updated there (same bits; tensor/panel-weight.ts)
    const pw = !bf16 && !transB && p.inPanels ? panelsForProduct(p) : null;
    if (pw) {
      this.momentsToPanels(pw.kernels);
      pw.kernels.gemmAdam(transA, m, n, k, alpha, a, lda, b, ldb, pw.panel, s.m, s.v, params);
      panelsWritten(p);
    } else {
      this.momentsToRows();
      fused.call(be, transA, transB, m, n, k, alpha, a, lda, b, ldb, p.data as Float32Array, s.m, s.v, params);
    }
    this.applied = true;
    return true;
  }
  /** Puts the moments in the weight's panel layout (a permutation of both arrays). */
  private momentsToPanels(pk: PanelKernels): void {
    if (this.momentLayout) return;
    const p = this.param, s = this.opt.stateOf(p) as { m: Float32Array; v: Float32Array };
    for (const arr of [s.m, s.v]) pk.pack(p.rows, p.cols, arr.slice(), arr);
    this.momentLayout = pk;
  }
  /** Puts the moments back in rows, where every other update runs. */
  momentsToRows(): void {
    const pk = this.momentLayout;
    if (!pk) return;
    const p = this.param, s = this.opt.stateOf(p) as { m: Float32Array; v: Float32Array };
    for (const arr of [s.m, s.v]) pk.unpack(p.rows, p.cols, arr.slice(), arr);
    this.momentLayout = null;
  }
  /** Training with this optimiser is over: the moments and (when still ours) the weight back in rows. */
  detach(): void {
    this.momentsToRows();
    if (this.param.gradSink === this) { this.param.gradSink = null; leavePanels(this.param); }
  }
}

export class Adam implements Optimizer {
  lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly decoupled: boolean;
  readonly groups: ResolvedGroup[];
  /** Steps taken (bias correction uses it). */
  t = 0;
  private readonly state = new Map<Tensor, { m: Buf; v: Buf }>();
  private readonly fused = new Map<Tensor, FusedUpdate>();

  constructor(params: Tensor[] | ParamGroup[], opts: AdamOpts) {
    this.lr = opts.lr;
    this.beta1 = opts.beta1 ?? 0.9;
    this.beta2 = opts.beta2 ?? 0.999;
    this.eps = opts.eps ?? 1e-8;
    this.decoupled = opts.decoupled ?? false;
    if (!(this.beta1 >= 0 && this.beta1 < 1 && this.beta2 >= 0 && this.beta2 < 1)) {
      throw new InputError(`Adam: betas must be in [0, 1), got ${this.beta1}, ${this.beta2}`);
    }
    this.groups = resolveGroups('Adam', params, opts.lr, opts.weightDecay ?? 0);
    if (opts.fusedBackward) {
      for (const grp of this.groups) for (const p of grp.params) {
        if (!(p.data instanceof Float32Array)) continue;
        // the newest optimiser takes a weight over (refitting the same nets); an earlier one then
        // updates it as plain Adam (see fusedOf)
        const f = new FusedUpdate(this, p, grp);
        p.gradSink = f;
        this.fused.set(p, f);
        // big float32 weights are kept in the GEMM kernel's panel layout while they train (when the
        // backend prefers it: tensor/panel-weight.ts)
        enterPanels(p);
      }
    }
  }

  /** p's fused update, unless another optimiser has taken p over since. */
  private fusedOf(p: Tensor): FusedUpdate | undefined {
    const f = this.fused.get(p);
    if (f && p.gradSink !== f) { f.momentsToRows(); this.fused.delete(p); return undefined; }
    return f;
  }

  /**
   * Stops fusing: the weights' hooks are removed (when still this optimiser's), so a trained model
   * does not keep the optimiser and its moments alive; later steps are plain Adam.
   */
  detachFused(): void {
    for (const f of this.fused.values()) f.detach();
    this.fused.clear();
  }

  /** This parameter's moments, made (zero) on first use. */
  stateOf(p: Tensor): { m: Buf; v: Buf } {
    let s = this.state.get(p);
    if (!s) {
      const mk = (): Buf => (p.dtype === 'f64' ? new Float64Array(p.size) : new Float32Array(p.size));
      s = { m: mk(), v: mk() };
      this.state.set(p, s);
    }
    return s;
  }

  /** The update's constants at step t for a group (bias corrections folded into the step size). */
  stepParams(t: number, grp: ResolvedGroup): AdamStepParams {
    const b1 = this.beta1, b2 = this.beta2;
    const c1 = 1 - Math.pow(b1, t), c2 = 1 - Math.pow(b2, t);
    const lr = this.lr * grp.lrScale, wd = grp.weightDecay;
    // θ −= lr · m̂ / (√v̂ + ε) with m̂ = m/c1, v̂ = v/c2, folded into one step size
    return { b1, b2, stepSize: lr / c1, invSqrtC2: 1 / Math.sqrt(c2), eps: this.eps, wd, lrWd: lr * wd, decoupled: this.decoupled };
  }

  step(): void {
    this.t++;
    // float64 parameters (gradient checks) keep their own loop, which divides by √c2
    const sqrtC2 = Math.sqrt(1 - Math.pow(this.beta2, this.t));
    for (const grp of this.groups) {
      const sp = this.stepParams(this.t, grp);
      const { b1, b2, eps, wd } = sp;
      for (const p of grp.params) {
        const f = this.fusedOf(p);
        if (f) {
          const done = f.applied;
          f.applied = false; f.uses = 0; f.armed = false;
          if (done && !f.clean) {
            // a second gradient came after the fused update (two backward passes per step): it would be lost
            throw new InputError(`Adam (fusedBackward): a ${p.rows}×${p.cols} weight got a gradient after its update was applied in the backward pass; accumulating gradients over several backward passes needs fusedBackward off`);
          }
          if (done) continue; // updated in the backward pass
          f.momentsToRows(); // the update below runs on rows
          // unused this step but updated before: the unfused step would see a zero gradient here
          if (!p.grad && this.state.has(p)) gradOf(p);
        }
        const g = p.grad;
        if (!g) continue;
        const x = p.data;
        const { m, v } = this.stateOf(p);
        if (x instanceof Float32Array) {
          // float32 parameters: one fused pass on the backend (native: vectorised, memory-bound)
          getBackend().adamStep(x, g as Float32Array, m as Float32Array, v as Float32Array, x.length, sp);
          continue;
        }
        for (let i = 0; i < x.length; i++) {
          let gi = g[i]!;
          if (wd !== 0) {
            if (sp.decoupled) x[i]! -= sp.lrWd * x[i]!;
            else gi += wd * x[i]!;
          }
          const mi = b1 * m[i]! + (1 - b1) * gi;
          const vi = b2 * v[i]! + (1 - b2) * gi * gi;
          m[i] = mi; v[i] = vi;
          x[i]! -= sp.stepSize * mi / (Math.sqrt(vi) / sqrtC2 + eps);
        }
      }
    }
  }

  zeroGrad(): void {
    for (const grp of this.groups) for (const p of grp.params) {
      const f = this.fusedOf(p);
      if (!f) { p.zeroGrad(); continue; }
      // a gradient nothing wrote since the last zeroing is still zero
      if (!f.clean) p.zeroGrad();
      // (a backward pass whose step() never came has already updated its weights: nothing to undo)
      f.clean = true; f.uses = 0; f.armed = true; f.applied = false;
    }
  }
}
