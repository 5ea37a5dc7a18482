// The serving thread's first large request would otherwise fault in fresh memory: a 5 MB session
// body arrives in socket buffers that Node allocates per read, and a commit brings a model's weights.
// On a VM with free-page reporting each fresh 4 KiB page costs the faulting thread 15–25 µs, so a
// session upload meant ~1,400 faults (≈ 30 ms on the serving thread, in two stalls of 15–25 ms)
// while searches waited. The native backend keeps freed malloc memory in the process; warming the
// heap once at start leaves touched pages there for those allocations to reuse.
import { getBackend } from '../tensor/backends.js';
import { NativeBackend } from '../tensor/backend-native.js';

/** Heap warmed at service start: a session body's socket buffers and a commit's arrays between two collections. */
export const SERVING_HEAP_WARM_BYTES = 32 << 20;

let warmed = 0;

/**
 * Warms the calling thread's malloc heap once per process when the native backend is active
 * (later calls do nothing: the pages stay); returns the bytes warmed by this call.
 */
export function warmServingHeap(bytes = SERVING_HEAP_WARM_BYTES): number {
  if (warmed >= bytes) return 0;
  const be = getBackend();
  const n = be instanceof NativeBackend ? be.warmHeap(bytes) : 0;
  warmed = Math.max(warmed, n);
  return n;
}
