// The backends every kernel test runs on: the portable one, and the native addon pinned to each
// instruction-set variant this CPU supports (so AVX-512, AVX2 and generic paths all run here).
import { getJsBackend } from '../../src/tensor/backends.js';
import { createNativeBackend, loadNativeAddon, nativeLoadError, type IsaVariant } from '../../src/tensor/backend-native.js';
import type { Backend } from '../../src/tensor/backend.js';

export interface NamedBackend { label: string; backend: Backend | null; skip?: string }

export function backendsUnderTest(): NamedBackend[] {
  const list: NamedBackend[] = [{ label: 'js', backend: getJsBackend() }];
  const lib = loadNativeAddon();
  const all: IsaVariant[] = ['avx512', 'avx2', 'generic'];
  for (const v of all) {
    if (!lib) list.push({ label: `native/${v}`, backend: null, skip: `native addon not built: ${nativeLoadError()}` });
    else if (!lib.supportedIsas().includes(v)) list.push({ label: `native/${v}`, backend: null, skip: `CPU does not support ${v}` });
    else list.push({ label: `native/${v}`, backend: createNativeBackend(v) });
  }
  return list;
}
