// A 2-D tensor with reverse-mode autograd. Every op that sees an input requiring grad records a
// node (its parents and a backward closure) on the output; backward() walks those nodes in reverse
// topological order from a root, so the "tape" is the graph reachable from the loss.
import { InputError } from '../util/errors.js';
import type { Rng } from '../util/rng.js';

export type DType = 'f32' | 'f64';
export type Buf = Float32Array | Float64Array;

export interface TensorOpts { requiresGrad?: boolean; dtype?: DType }

/** How a tensor was produced: its inputs and how to push the output gradient into theirs. */
export interface GradNode {
  readonly op: string;
  readonly parents: readonly Tensor[];
  /** Accumulates into parents' gradients (use `gradOf(parent)`) given this output's gradient. */
  backward(gradOut: Buf): void;
}

/**
 * Where a parameter's gradient can go instead of `.grad` (an optimiser that applies its update
 * inside the backward pass, nn/optim-adam.ts `fusedBackward`). The tensor layer tells it how often
 * the tensor fed a recorded op and when `.grad` is written; a weight-gradient product is offered to
 * it (`take`) and, if taken, never accumulated. Declining is always safe.
 */
export interface GradSink {
  /** The tensor is a parent of a newly recorded op. */
  noteUse(): void;
  /** Something is about to accumulate into the tensor's `.grad`. */
  markWritten(): void;
  /** Offered: gradient = alpha·op(A)·op(B) (rows × cols of the tensor). True = applied, do not accumulate. */
  take(transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number, a: Float32Array, lda: number,
    b: Float32Array, ldb: number): boolean;
}

let gradEnabled = true;

/** True when ops should record the graph (false inside noGrad). */
export function isGradEnabled(): boolean { return gradEnabled; }

/** Runs fn without recording any graph (inference); restores the previous state even on throw. */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try { return fn(); } finally { gradEnabled = prev; }
}

export function allocBuf(dtype: DType, n: number): Buf {
  return dtype === 'f64' ? new Float64Array(n) : new Float32Array(n);
}

export function dtypeOf(buf: Buf): DType { return buf instanceof Float64Array ? 'f64' : 'f32'; }

export class Tensor {
  readonly rows: number;
  readonly cols: number;
  data: Buf;
  grad: Buf | null = null;
  requiresGrad: boolean;
  /** Set on op outputs that take part in autograd; null on leaves and constants. */
  node: GradNode | null = null;
  /** Set by an optimiser that fuses its update into the backward pass (see GradSink). */
  gradSink: GradSink | null = null;
  /** True while the weight is kept in the GEMM kernel's panel layout (tensor/panel-weight.ts); always float32 then. */
  inPanels = false;

  constructor(rows: number, cols: number, data: Buf, requiresGrad = false) {
    if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 0) {
      throw new InputError(`Tensor: rows and cols must be non-negative integers, got ${rows}×${cols}`);
    }
    if (data.length !== rows * cols) {
      throw new InputError(`Tensor: data length ${data.length} does not match shape [${rows}×${cols}] (expected ${rows * cols})`);
    }
    this.rows = rows; this.cols = cols; this.data = data; this.requiresGrad = requiresGrad;
  }

  static zeros(rows: number, cols: number, opts: TensorOpts = {}): Tensor {
    return new Tensor(rows, cols, allocBuf(opts.dtype ?? 'f32', rows * cols), opts.requiresGrad ?? false);
  }

  /** Copies `data` into a fresh Float32Array (or Float64Array with dtype 'f64'). */
  static fromArray(rows: number, cols: number, data: ArrayLike<number>, opts: TensorOpts = {}): Tensor {
    if (data.length !== rows * cols) {
      throw new InputError(`Tensor.fromArray: data length ${data.length} does not match shape [${rows}×${cols}] (expected ${rows * cols})`);
    }
    const buf = allocBuf(opts.dtype ?? 'f32', rows * cols);
    for (let i = 0; i < buf.length; i++) buf[i] = data[i]!;
    return new Tensor(rows, cols, buf, opts.requiresGrad ?? false);
  }

  /** Wraps an existing buffer without copying (the tensor aliases it). */
  static wrap(rows: number, cols: number, data: Buf, opts: { requiresGrad?: boolean } = {}): Tensor {
    return new Tensor(rows, cols, data, opts.requiresGrad ?? false);
  }

  static randn(rows: number, cols: number, rng: Rng, std = 1, opts: TensorOpts = {}): Tensor {
    const buf = allocBuf(opts.dtype ?? 'f32', rows * cols);
    for (let i = 0; i < buf.length; i++) buf[i] = rng.normal(0, std);
    return new Tensor(rows, cols, buf, opts.requiresGrad ?? false);
  }

  get shape(): [number, number] { return [this.rows, this.cols]; }
  get size(): number { return this.rows * this.cols; }
  // (a weight in panels is float32; reading .data would mark its panels stale)
  get dtype(): DType { return this.inPanels ? 'f32' : dtypeOf(this.data); }

  /** The value of a 1×1 tensor. */
  item(): number {
    if (this.rows !== 1 || this.cols !== 1) throw new InputError(`Tensor.item: expected shape [1×1], got [${this.rows}×${this.cols}]`);
    return this.data[0]!;
  }

  /** Value at (i, j). */
  get(i: number, j: number): number { return this.data[i * this.cols + j]!; }

  /** A plain nested-array copy (for printing and tests). */
  toArray(): number[][] {
    const out: number[][] = [];
    for (let i = 0; i < this.rows; i++) out.push(Array.from(this.data.subarray(i * this.cols, (i + 1) * this.cols)));
    return out;
  }

  /**
   * Reverse-mode pass from this tensor. Without `seed` the tensor must be 1×1 (gradient 1).
   * Gradients accumulate (+=) into `.grad` of every leaf with requiresGrad; gradients of
   * intermediate results are freed as soon as they have been propagated.
   */
  backward(seed?: Buf): void {
    if (!seed && (this.rows !== 1 || this.cols !== 1)) {
      throw new InputError(`Tensor.backward: needs a 1×1 tensor (or an explicit seed gradient), got [${this.rows}×${this.cols}]`);
    }
    if (seed && seed.length !== this.size) {
      throw new InputError(`Tensor.backward: seed length ${seed.length} does not match shape [${this.rows}×${this.cols}]`);
    }
    if (!this.requiresGrad) return; // nothing upstream needs a gradient
    const order = topoOrder(this);
    const g = gradOf(this);
    if (seed) for (let i = 0; i < g.length; i++) g[i]! += seed[i]!;
    else g[0]! += 1;
    for (let i = order.length - 1; i >= 0; i--) {
      const t = order[i]!;
      const node = t.node!;
      if (t.grad) node.backward(t.grad);
      t.grad = null; // intermediate: its gradient is fully consumed now
    }
  }

  /** Same data (shared), cut off from the graph. */
  detach(): Tensor { return new Tensor(this.rows, this.cols, this.data, false); }

  /** A deep copy of the data, cut off from the graph. */
  clone(): Tensor { return new Tensor(this.rows, this.cols, this.data.slice(), false); }

  /** Zeroes the accumulated gradient in place (keeps the buffer to avoid reallocating). */
  zeroGrad(): void { if (this.grad) this.grad.fill(0); }

  toString(): string { return `Tensor[${this.rows}×${this.cols} ${this.dtype}${this.requiresGrad ? ' grad' : ''}]`; }
}

/** The gradient buffer of t, allocated (zeroed) on first use; ops accumulate into it. */
export function gradOf(t: Tensor): Buf {
  t.gradSink?.markWritten();
  if (!t.grad) t.grad = allocBuf(t.dtype, t.size);
  return t.grad;
}

/** Non-leaf tensors reachable from root, parents before children (iterative DFS: deep graphs are fine). */
function topoOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<Tensor>();
  if (!root.node) return order;
  const stack: { t: Tensor; i: number }[] = [{ t: root, i: 0 }];
  seen.add(root);
  while (stack.length) {
    const top = stack[stack.length - 1]!;
    const parents = top.t.node!.parents;
    if (top.i < parents.length) {
      const p = parents[top.i++]!;
      if (p.node && p.requiresGrad && !seen.has(p)) { seen.add(p); stack.push({ t: p, i: 0 }); }
    } else {
      order.push(top.t);
      stack.pop();
    }
  }
  return order;
}

/**
 * Creates an op's output and, when grad is enabled and some input requires grad, records how to
 * backpropagate. `backward` receives the output gradient and should accumulate into
 * `gradOf(parent)` only for parents with `requiresGrad`. Use this to write custom fused ops.
 */
export function makeResult(op: string, rows: number, cols: number, data: Buf, parents: readonly Tensor[],
  backward: (gradOut: Buf) => void): Tensor {
  const out = new Tensor(rows, cols, data, false);
  if (!gradEnabled) return out;
  let needs = false;
  for (const p of parents) if (p.requiresGrad) { needs = true; break; }
  if (!needs) return out;
  out.requiresGrad = true;
  out.node = { op, parents, backward };
  for (const p of parents) p.gradSink?.noteUse();
  return out;
}

/** Checks every tensor has the same dtype (ops never mix f32 and f64 silently). */
export function sameDtype(op: string, ...ts: Tensor[]): DType {
  const d = ts[0]!.dtype;
  for (const t of ts) {
    if (t.dtype !== d) throw new InputError(`${op}: dtype mismatch ${ts.map((x) => x.dtype).join(' vs ')} (convert with toDtype)`);
  }
  return d;
}

/** A copy of t in another dtype (not recorded on the tape). */
export function toDtype(t: Tensor, dtype: DType, opts: { requiresGrad?: boolean } = {}): Tensor {
  const buf = allocBuf(dtype, t.size);
  buf.set(t.data);
  return new Tensor(t.rows, t.cols, buf, opts.requiresGrad ?? false);
}
