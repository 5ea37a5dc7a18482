// The serving thread's first large request would otherwise fault in fresh memory: a 5 MB session
// body arrives in socket buffers that Node allocates per read, and a commit brings a model's weights.
// On a VM with free-page reporting each fresh 4 KiB page costs the faulting thread 15–25 µs, so a
// session upload meant ~1,400 faults (≈ 30 ms on the serving thread, in two stalls of 15–25 ms)
// while searches waited. The native backend keeps freed malloc memory in the process; warming the
// heap once at start leaves touched pages there for those allocations to reuse.
import { getHeapSpaceStatistics } from 'node:v8';
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

/** New-space size (bytes, both semi-spaces) that warmNewSpace grows V8's young generation to. */
export const NEW_SPACE_WARM_BYTES = 16 << 20;

let newSpaceWarmed = false;

const newSpaceBytes = (): number => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0;

/**
 * Grows V8's young generation once per process, at service start. V8 starts it at 1 MB per
 * semi-space and doubles it when a scavenge finds most objects alive — which a session upload's
 * parsing does: measured on the serving thread, two stalls of 21–23 ms and ~1,000 page faults each
 * (4 MB of fresh pages) in the upload's first 40 ms. Objects kept alive across a few scavenges here
 * make V8 grow it now; it is not shrunk while the service runs (checked over 30 s of light traffic).
 * The same as starting node with --min-semi-space-size, which a CLI cannot set on itself.
 * Returns the new space's size afterwards (bytes); stops at `target`, after `maxRounds` rounds, or
 * after 12 rounds in a row without growth.
 */
export function warmNewSpace(target = NEW_SPACE_WARM_BYTES, maxRounds = 48): number {
  if (newSpaceWarmed) return newSpaceBytes();
  newSpaceWarmed = true;
  const keep: object[][] = [];
  let size = newSpaceBytes();
  for (let r = 0, still = 0; r < maxRounds && size < target && still < 12; r++) {
    const round: object[] = [];
    const objects = Math.max(10_000, size >> 8); // a round of ~size/8 bytes (~32 B per object and slot): six survive
    for (let i = 0; i < objects; i++) round.push({ i });
    keep.push(round); // the last six rounds survive each scavenge: a high survival rate is what grows the space
    if (keep.length > 6) keep.shift();
    const s = newSpaceBytes();
    if (s > size) { size = s; still = 0; } else still++;
  }
  return size;
}
