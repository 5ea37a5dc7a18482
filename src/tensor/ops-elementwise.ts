// Elementwise ops: binary arithmetic with broadcasting, scalar ops and unary functions.
// Broadcasting: each operand is either the full shape, 1×cols (one row repeated), rows×1 (one
// column repeated) or 1×1; a broadcast operand's gradient is the sum over the repeated axis.
import { shapeError } from '../util/errors.js';
import { getBackend } from './backends.js';
import { Tensor, Buf, allocBuf, gradOf, makeResult, sameDtype } from './tensor.js';

type BinKind = 'add' | 'sub' | 'mul' | 'div';

/** Output shape of a broadcast binary op, or an InputError naming the op and both shapes. */
export function broadcastShape(op: string, a: Tensor, b: Tensor): [number, number] {
  const r = a.rows === b.rows ? a.rows : a.rows === 1 ? b.rows : b.rows === 1 ? a.rows : -1;
  const c = a.cols === b.cols ? a.cols : a.cols === 1 ? b.cols : b.cols === 1 ? a.cols : -1;
  if (r < 0 || c < 0) throw shapeError(op, a.shape, b.shape, '(expected equal shapes, or 1×cols / rows×1 / 1×1 broadcast)');
  return [r, c];
}

function binary(kind: BinKind, a: Tensor, b: Tensor): Tensor {
  const dtype = sameDtype(kind, a, b);
  const [R, C] = broadcastShape(kind, a, b);
  const A = a.data, B = b.data;
  const out = allocBuf(dtype, R * C);
  const same = a.rows === b.rows && a.cols === b.cols;
  if (same) {
    const n = out.length;
    switch (kind) {
      case 'add': for (let i = 0; i < n; i++) out[i] = A[i]! + B[i]!; break;
      case 'sub': for (let i = 0; i < n; i++) out[i] = A[i]! - B[i]!; break;
      case 'mul': for (let i = 0; i < n; i++) out[i] = A[i]! * B[i]!; break;
      case 'div': for (let i = 0; i < n; i++) out[i] = A[i]! / B[i]!; break;
    }
  } else {
    // row stride 0 repeats a row; column stride 0 repeats a column
    const ars = a.rows === 1 ? 0 : a.cols, acs = a.cols === 1 ? 0 : 1;
    const brs = b.rows === 1 ? 0 : b.cols, bcs = b.cols === 1 ? 0 : 1;
    let o = 0;
    for (let i = 0; i < R; i++) {
      const ao = i * ars, bo = i * brs;
      switch (kind) {
        case 'add': for (let j = 0; j < C; j++) out[o++] = A[ao + j * acs]! + B[bo + j * bcs]!; break;
        case 'sub': for (let j = 0; j < C; j++) out[o++] = A[ao + j * acs]! - B[bo + j * bcs]!; break;
        case 'mul': for (let j = 0; j < C; j++) out[o++] = A[ao + j * acs]! * B[bo + j * bcs]!; break;
        case 'div': for (let j = 0; j < C; j++) out[o++] = A[ao + j * acs]! / B[bo + j * bcs]!; break;
      }
    }
  }
  return makeResult(kind, R, C, out, [a, b], (g) => {
    const ga = a.requiresGrad ? gradOf(a) : null;
    const gb = b.requiresGrad ? gradOf(b) : null;
    if (same) {
      const n = g.length;
      switch (kind) {
        case 'add':
          if (ga) for (let i = 0; i < n; i++) ga[i]! += g[i]!;
          if (gb) for (let i = 0; i < n; i++) gb[i]! += g[i]!;
          break;
        case 'sub':
          if (ga) for (let i = 0; i < n; i++) ga[i]! += g[i]!;
          if (gb) for (let i = 0; i < n; i++) gb[i]! -= g[i]!;
          break;
        case 'mul':
          if (ga) for (let i = 0; i < n; i++) ga[i]! += g[i]! * B[i]!;
          if (gb) for (let i = 0; i < n; i++) gb[i]! += g[i]! * A[i]!;
          break;
        case 'div':
          if (ga) for (let i = 0; i < n; i++) ga[i]! += g[i]! / B[i]!;
          if (gb) for (let i = 0; i < n; i++) { const bv = B[i]!; gb[i]! -= g[i]! * A[i]! / (bv * bv); }
          break;
      }
      return;
    }
    const ars = a.rows === 1 ? 0 : a.cols, acs = a.cols === 1 ? 0 : 1;
    const brs = b.rows === 1 ? 0 : b.cols, bcs = b.cols === 1 ? 0 : 1;
    let o = 0;
    for (let i = 0; i < R; i++) {
      const ao = i * ars, bo = i * brs;
      for (let j = 0; j < C; j++, o++) {
        const ia = ao + j * acs, ib = bo + j * bcs, gv = g[o]!;
        switch (kind) {
          case 'add': if (ga) ga[ia]! += gv; if (gb) gb[ib]! += gv; break;
          case 'sub': if (ga) ga[ia]! += gv; if (gb) gb[ib]! -= gv; break;
          case 'mul': if (ga) ga[ia]! += gv * B[ib]!; if (gb) gb[ib]! += gv * A[ia]!; break;
          case 'div': {
            const bv = B[ib]!;
            if (ga) ga[ia]! += gv / bv;
            if (gb) gb[ib]! -= gv * A[ia]! / (bv * bv);
            break;
          }
        }
      }
    }
  });
}

/** a + b (b, or a, may broadcast: 1×cols, rows×1, 1×1). */
export function add(a: Tensor, b: Tensor): Tensor { return binary('add', a, b); }
/** a − b with broadcasting. */
export function sub(a: Tensor, b: Tensor): Tensor { return binary('sub', a, b); }
/** a ⊙ b (elementwise) with broadcasting. */
export function mul(a: Tensor, b: Tensor): Tensor { return binary('mul', a, b); }
/** a ⊘ b (elementwise) with broadcasting. */
export function div(a: Tensor, b: Tensor): Tensor { return binary('div', a, b); }

/**
 * Shared shape of every unary op: `fwd` fills y from x; `bwd` accumulates ga from (x, y, g).
 * The loops live inside the per-op closures so each stays monomorphic and fast.
 */
function unary(op: string, a: Tensor, fwd: (x: Buf, y: Buf) => void, bwd: (x: Buf, y: Buf, g: Buf, ga: Buf) => void): Tensor {
  const y = allocBuf(a.dtype, a.size);
  fwd(a.data, y);
  return makeResult(op, a.rows, a.cols, y, [a], (g) => bwd(a.data, y, g, gradOf(a)));
}

export function addScalar(a: Tensor, s: number): Tensor {
  return unary('addScalar', a,
    (x, y) => { for (let i = 0; i < x.length; i++) y[i] = x[i]! + s; },
    (_x, _y, g, ga) => { for (let i = 0; i < g.length; i++) ga[i]! += g[i]!; });
}

export function mulScalar(a: Tensor, s: number): Tensor {
  return unary('mulScalar', a,
    (x, y) => { for (let i = 0; i < x.length; i++) y[i] = x[i]! * s; },
    (_x, _y, g, ga) => { for (let i = 0; i < g.length; i++) ga[i]! += g[i]! * s; });
}

/** x^p elementwise (negative x with non-integer p gives NaN, as Math.pow does). */
export function powScalar(a: Tensor, p: number): Tensor {
  return unary('powScalar', a,
    (x, y) => { for (let i = 0; i < x.length; i++) y[i] = Math.pow(x[i]!, p); },
    (x, _y, g, ga) => { for (let i = 0; i < g.length; i++) ga[i]! += g[i]! * p * Math.pow(x[i]!, p - 1); });
}

export function neg(a: Tensor): Tensor { return mulScalar(a, -1); }

export function square(a: Tensor): Tensor {
  return unary('square', a,
    (x, y) => { for (let i = 0; i < x.length; i++) y[i] = x[i]! * x[i]!; },
    (x, _y, g, ga) => { for (let i = 0; i < g.length; i++) ga[i]! += 2 * g[i]! * x[i]!; });
}

export function sqrt(a: Tensor): Tensor {
  return unary('sqrt', a,
    (x, y) => { for (let i = 0; i < x.length; i++) y[i] = Math.sqrt(x[i]!); },
    (_x, y, g, ga) => { for (let i = 0; i < g.length; i++) ga[i]! += g[i]! * 0.5 / y[i]!; });
}

/** |x|; the subgradient at 0 is taken as 0. */
export function abs(a: Tensor): Tensor {
  return unary('abs', a,
    (x, y) => { for (let i = 0; i < x.length; i++) y[i] = Math.abs(x[i]!); },
    (x, _y, g, ga) => { for (let i = 0; i < g.length; i++) { const v = x[i]!; ga[i]! += v > 0 ? g[i]! : v < 0 ? -g[i]! : 0; } });
}

/**
 * tanh via one exp: (1 − e)/(1 + e) with e = exp(−2|x|). About 2x faster than Math.tanh in V8,
 * never overflows, and within ~2e-16 (absolute) of it.
 */
export function tanhScalar(v: number): number {
  const e = Math.exp(-2 * Math.abs(v));
  const t = (1 - e) / (1 + e);
  return v < 0 ? -t : t;
}

export function tanh(a: Tensor): Tensor {
  return unary('tanh', a,
    (x, y) => { for (let i = 0; i < x.length; i++) y[i] = tanhScalar(x[i]!); },
    (_x, y, g, ga) => { for (let i = 0; i < g.length; i++) { const t = y[i]!; ga[i]! += g[i]! * (1 - t * t); } });
}

/** σ(x) without overflow for large |x|. */
export function sigmoidScalar(v: number): number {
  if (v >= 0) return 1 / (1 + Math.exp(-v));
  const e = Math.exp(v);
  return e / (1 + e);
}

export function sigmoid(a: Tensor): Tensor {
  return unary('sigmoid', a,
    (x, y) => { for (let i = 0; i < x.length; i++) y[i] = sigmoidScalar(x[i]!); },
    (_x, y, g, ga) => { for (let i = 0; i < g.length; i++) { const s = y[i]!; ga[i]! += g[i]! * s * (1 - s); } });
}

/** ReLU; float32 tensors use the backend's kernel (the JS branch per element mispredicts half the time). */
export function relu(a: Tensor): Tensor {
  if (a.dtype === 'f32') {
    const be = getBackend();
    return unary('relu', a,
      (x, y) => be.relu(x as Float32Array, y as Float32Array, x.length),
      (x, _y, g, ga) => be.reluBackward(x as Float32Array, g as Float32Array, ga as Float32Array, g.length));
  }
  return unary('relu', a,
    (x, y) => { for (let i = 0; i < x.length; i++) { const v = x[i]!; y[i] = v > 0 ? v : 0; } },
    (x, _y, g, ga) => { for (let i = 0; i < g.length; i++) if (x[i]! > 0) ga[i]! += g[i]!; });
}

/** softplus(x) = log(1 + eˣ) = max(x, 0) + log1p(e^−|x|): no overflow, no loss for very negative x. */
export function softplusScalar(v: number): number { return Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v))); }

export function softplus(a: Tensor): Tensor {
  return unary('softplus', a,
    (x, y) => { for (let i = 0; i < x.length; i++) y[i] = softplusScalar(x[i]!); },
    (x, _y, g, ga) => { for (let i = 0; i < g.length; i++) ga[i]! += g[i]! * sigmoidScalar(x[i]!); });
}

/** log σ(x) = −softplus(−x) = min(x, 0) − log1p(e^−|x|). */
export function logSigmoid(a: Tensor): Tensor {
  return unary('logSigmoid', a,
    (x, y) => { for (let i = 0; i < x.length; i++) { const v = x[i]!; y[i] = Math.min(v, 0) - Math.log1p(Math.exp(-Math.abs(v))); } },
    (x, _y, g, ga) => { for (let i = 0; i < g.length; i++) ga[i]! += g[i]! * sigmoidScalar(-x[i]!); });
}

export function exp(a: Tensor): Tensor {
  return unary('exp', a,
    (x, y) => { for (let i = 0; i < x.length; i++) y[i] = Math.exp(x[i]!); },
    (_x, y, g, ga) => { for (let i = 0; i < g.length; i++) ga[i]! += g[i]! * y[i]!; });
}

export function log(a: Tensor): Tensor {
  return unary('log', a,
    (x, y) => { for (let i = 0; i < x.length; i++) y[i] = Math.log(x[i]!); },
    (x, _y, g, ga) => { for (let i = 0; i < g.length; i++) ga[i]! += g[i]! / x[i]!; });
}

/** sign(x) with sign(0) = +1 (codes are ±1); gradient passed straight through (identity). */
export function sign(a: Tensor): Tensor {
  return unary('sign', a,
    (x, y) => { for (let i = 0; i < x.length; i++) y[i] = x[i]! < 0 ? -1 : 1; },
    (_x, _y, g, ga) => { for (let i = 0; i < g.length; i++) ga[i]! += g[i]!; });
}

/** min(max(x, lo), hi); gradient 1 inside [lo, hi], 0 where clamped. */
export function clamp(a: Tensor, lo: number, hi: number): Tensor {
  return unary('clamp', a,
    (x, y) => { for (let i = 0; i < x.length; i++) { const v = x[i]!; y[i] = v < lo ? lo : v > hi ? hi : v; } },
    (x, _y, g, ga) => { for (let i = 0; i < g.length; i++) { const v = x[i]!; if (v >= lo && v <= hi) ga[i]! += g[i]!; } });
}
