// Matrix products. float32 goes through the active backend's sgemm (native or portable); float64
// (used only by gradient checks) through plain loops. Backward passes call the same gemm with
// transpose flags and beta = 1, so no transposed copies are ever made and gradients accumulate.
import { shapeError } from '../util/errors.js';
import { getBackend } from './backends.js';
import { getMatmulPrecision } from './precision.js';
import { Tensor, Buf, allocBuf, gradOf, makeResult, sameDtype } from './tensor.js';
import { panelsForProduct, rowsForReading } from './panel-weight.js';

/** C = alpha·op(A)·op(B) + beta·C on either dtype (all three buffers of the same dtype). */
export function gemm(transA: boolean, transB: boolean, m: number, n: number, k: number,
  alpha: number, a: Buf, lda: number, b: Buf, ldb: number, beta: number, c: Buf, ldc: number): void {
  if (a instanceof Float32Array && b instanceof Float32Array && c instanceof Float32Array) {
    const be = getBackend();
    // bf16 only when asked for (setMatmulPrecision checked that the backend has it)
    if (getMatmulPrecision() === 'bf16' && be.sgemmBf16) be.sgemmBf16(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    else be.sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return;
  }
  gemmPlain(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

/** Obvious triple loop (float64 accumulation); also the reference for tests. */
export function gemmPlain(transA: boolean, transB: boolean, m: number, n: number, k: number,
  alpha: number, a: Buf, lda: number, b: Buf, ldb: number, beta: number, c: Buf, ldc: number): void {
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) {
        const av = transA ? a[p * lda + i]! : a[i * lda + p]!;
        const bv = transB ? b[j * ldb + p]! : b[p * ldb + j]!;
        s += av * bv;
      }
      const ci = i * ldc + j;
      c[ci] = beta === 0 ? alpha * s : alpha * s + beta * c[ci]!;
    }
  }
}

/** op(a)·op(b), where op transposes when the flag is set. */
export function matmul(a: Tensor, b: Tensor, transA = false, transB = false): Tensor {
  const dtype = sameDtype('matmul', a, b);
  const m = transA ? a.cols : a.rows, k = transA ? a.rows : a.cols;
  const kb = transB ? b.cols : b.rows, n = transB ? b.rows : b.cols;
  if (k !== kb) {
    throw shapeError('matmul', a.shape, b.shape, `(inner dimensions ${k} vs ${kb}; transA=${transA}, transB=${transB})`);
  }
  const out = allocBuf(dtype, m * n);
  if (m * n > 0) gemm(transA, transB, m, n, k, 1, rowsForReading(a), a.cols, rowsForReading(b), b.cols, 0, out, n);
  return makeResult('matmul', m, n, out, [a, b], (g) => {
    matmulBackward(a, b, transA, transB, m, n, k, g);
  });
}

// C = op(A)·op(B):  d op(A) = dC·op(B)ᵀ,  d op(B) = op(A)ᵀ·dC; a stored-transposed operand gets
// the transpose of that, which is again one gemm with swapped operands.
function matmulBackward(a: Tensor, b: Tensor, transA: boolean, transB: boolean, m: number, n: number, k: number, g: Buf): void {
  if (a.requiresGrad && m * k > 0) {
    const ga = gradOf(a), bd = rowsForReading(b);
    if (!transA) gemm(false, !transB, m, k, n, 1, g, n, bd, b.cols, 1, ga, a.cols);
    else gemm(transB, true, k, m, n, 1, bd, b.cols, g, n, 1, ga, a.cols);
  }
  if (b.requiresGrad && k * n > 0) {
    // a weight whose optimiser applies its update here takes the product instead
    const ad = rowsForReading(a);
    if (!transB && b.gradSink && g instanceof Float32Array && ad instanceof Float32Array
      && b.gradSink.take(!transA, false, k, n, m, 1, ad, a.cols, g, n)) return;
    const gb = gradOf(b);
    if (!transB) gemm(!transA, false, k, n, m, 1, ad, a.cols, g, n, 1, gb, b.cols);
    else gemm(true, transA, n, k, m, 1, g, n, ad, a.cols, 1, gb, b.cols);
  }
}

/**
 * x·W + b in one pass (the Linear layer): the bias rows are copied into the output and gemm adds
 * the product with beta = 1, saving the extra tensor a separate add would allocate.
 * x: n×in, w: in×out, b: 1×out or null.
 */
export function affine(x: Tensor, w: Tensor, b: Tensor | null): Tensor {
  return affineWith(x, w, b, false);
}

/**
 * relu(x·W + b) as one op, the same values as relu(affine(x, w, b)) bit for bit: the ReLU runs in
 * place on the product, and its backward masks the incoming gradient in place (that buffer is the
 * op's own: Tensor.backward drops it after this node). A hidden layer then allocates one n×out
 * buffer forward and none backward instead of two and two, and skips a pass over each.
 */
export function affineRelu(x: Tensor, w: Tensor, b: Tensor | null): Tensor {
  return affineWith(x, w, b, true);
}

function affineWith(x: Tensor, w: Tensor, b: Tensor | null, relu: boolean): Tensor {
  const op = relu ? 'affineRelu' : 'affine';
  const dtype = b ? sameDtype(op, x, w, b) : sameDtype(op, x, w);
  if (x.cols !== w.rows) throw shapeError(op, x.shape, w.shape, '(x.cols must equal weight rows)');
  if (b && (b.rows !== 1 || b.cols !== w.cols)) throw shapeError(op, w.shape, b.shape, `(bias must be 1×${w.cols})`);
  const n = x.rows, k = x.cols, m = w.cols;
  const out = allocBuf(dtype, n * m);
  if (b) for (let i = 0; i < n; i++) out.set(b.data, i * m);
  if (n * m > 0) {
    // a weight kept in panel layout (tensor/panel-weight.ts) is read as it is stored, in fp32
    const pw = w.inPanels && getMatmulPrecision() === 'fp32' && x.data instanceof Float32Array ? panelsForProduct(w) : null;
    if (pw) pw.kernels.sgemm(n, m, k, 1, x.data as Float32Array, k, pw.panel, b ? 1 : 0, out as Float32Array, m);
    else gemm(false, false, n, m, k, 1, x.data, k, rowsForReading(w), m, b ? 1 : 0, out, m);
  }
  if (relu) {
    if (out instanceof Float32Array) getBackend().relu(out, out, out.length);
    else for (let i = 0; i < out.length; i++) if (!(out[i]! > 0)) out[i] = 0;
  }
  const parents = b ? [x, w, b] : [x, w];
  return makeResult(op, n, m, out, parents, (g) => {
    if (relu) {
      if (g instanceof Float32Array && out instanceof Float32Array) getBackend().reluMask(out, g, g.length);
      else for (let i = 0; i < g.length; i++) g[i] = 0 + (out[i]! > 0 ? g[i]! : 0);
    }
    matmulBackward(x, w, false, false, n, m, k, g);
    if (b && b.requiresGrad) {
      const gb = gradOf(b);
      // the column sums of g, row after row (one native call: one per row cost ~0.6 µs each)
      if (gb instanceof Float32Array && g instanceof Float32Array) getBackend().addColumnSums(gb, g, n, m);
      else for (let i = 0; i < n; i++) { const o = i * m; for (let j = 0; j < m; j++) gb[j]! += g[o + j]!; }
    }
  });
}
