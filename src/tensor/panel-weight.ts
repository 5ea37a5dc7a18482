// A float32 weight kept, while a fused optimiser trains it, in the GEMM kernel's panel layout
// (Backend.panels): the forward product reads it without packing it first, and the fused Adam
// update writes it there (nn/optim-adam.ts). On a Zen 2 core that took a DCMH-size step from ~344
// to ~302–311 ms (docs/experiments/2026-12-avx2-gemm.md, round 4). Same bits as the row-major weight.
//
// `.data` stays the row-major weight for every other reader. Getting it unpacks the panels when
// they are newer and, since the getter cannot tell a reader from a writer, marks the panels stale
// (the next product packs them again). So a buffer taken from `.data` is the weight until the next
// forward or backward pass that uses it: read or write it then, do not keep it across steps.
import type { PanelKernels } from './backend.js';
import { getBackend } from './backends.js';
import type { Tensor } from './tensor.js';

class PanelState {
  rowValid = true;
  panelValid = false;
  constructor(readonly kernels: PanelKernels, readonly shape: [number, number], readonly row: Float32Array,
    readonly panel: Float32Array) {}

  /** The row-major weight, unpacked first when the panels are newer. */
  rows(): Float32Array {
    if (!this.rowValid) { this.kernels.unpack(this.shape[0], this.shape[1], this.panel, this.row); this.rowValid = true; }
    return this.row;
  }
}

const states = new WeakMap<Tensor, PanelState>();

/** Panel kernels that may hold this weight, or null (not float32, columns not a multiple of the panel width, too narrow). */
function panelKernelsFor(t: Tensor): PanelKernels | null {
  const pk = getBackend().panels;
  // the blocked products of more than 256 columns are where packing the weight on each call costs
  // (narrower ones read it in place on AVX2)
  if (!pk || !pk.preferred || t.dtype !== 'f32' || t.cols <= 256 || t.cols % pk.nr !== 0 || t.rows === 0) return null;
  return pk;
}

/** Keeps t in panel layout from now on (until leavePanels); false when it cannot be. */
export function enterPanels(t: Tensor): boolean {
  if (states.has(t)) return true;
  const pk = panelKernelsFor(t);
  if (!pk) return false;
  const s = new PanelState(pk, [t.rows, t.cols], t.data as Float32Array, pk.alloc(t.size));
  states.set(t, s);
  t.inPanels = true;
  Object.defineProperty(t, 'data', {
    configurable: true, enumerable: true,
    get(): Float32Array { const r = s.rows(); s.panelValid = false; return r; },
    set(v: Float32Array) {
      if (!(v instanceof Float32Array) || v.length !== s.row.length) {
        throw new TypeError(`a weight kept in panel layout takes a Float32Array of ${s.row.length} values`);
      }
      s.row.set(v); s.rowValid = true; s.panelValid = false; // every value replaced: nothing to unpack first
    },
  });
  return true;
}

/** Back to a plain row-major tensor (the panels are unpacked first when newer). */
export function leavePanels(t: Tensor): void {
  const s = states.get(t);
  if (!s) return;
  const row = s.rows();
  states.delete(t);
  t.inPanels = false;
  Object.defineProperty(t, 'data', { configurable: true, enumerable: true, writable: true, value: row });
}

/**
 * t's weight in panels for a product (packed first when stale) and the active backend's panel
 * kernels to run it with, or null when t is not kept in panels or the active backend has no kernels
 * for this layout (then the product runs on the row-major weight).
 */
export function panelsForProduct(t: Tensor): { panel: Float32Array; kernels: PanelKernels } | null {
  const s = states.get(t);
  const active = getBackend().panels;
  if (!s || !active || active.nr !== s.kernels.nr || active.kc !== s.kernels.kc) return null;
  if (!s.panelValid) { s.kernels.pack(t.rows, t.cols, s.rows(), s.panel); s.panelValid = true; }
  return { panel: s.panel, kernels: active };
}

/** The panels were just updated in place (the fused optimiser step): the row-major copy is stale. */
export function panelsWritten(t: Tensor): void {
  const s = states.get(t);
  if (s) s.rowValid = false;
}

/** t's row-major data for a reader that will not write it (the panels stay valid). */
export function rowsForReading(t: Tensor): Float32Array | Float64Array {
  const s = states.get(t);
  return s ? s.rows() : t.data;
}
