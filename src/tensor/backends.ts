// Backend selection: CMHASH_BACKEND=native|js forces one; otherwise the native addon when it
// loads, else the portable backend with a one-line notice on stderr.
import type { Backend } from './backend.js';
import { JsBackend } from './backend-js.js';
import { createNativeBackend, loadNativeAddon, nativeAddonPath, nativeLoadError, type NativeBackend } from './backend-native.js';

export { nativeAddonPath, loadNativeAddon };

let active: Backend | null = null;
let jsBackend: JsBackend | null = null;
let nativeBackend: NativeBackend | null | undefined;

/** Why the native addon is unavailable (null when it loaded or was not tried). */
export function nativeError(): string | null { return nativeLoadError(); }

export function getJsBackend(): JsBackend { return (jsBackend ??= new JsBackend()); }

/** The native backend in its default variant, or null when the addon does not load. */
export function getNativeBackend(): NativeBackend | null {
  if (nativeBackend === undefined) nativeBackend = createNativeBackend();
  return nativeBackend;
}

export function getBackend(): Backend {
  if (active) return active;
  const want = (process.env.CMHASH_BACKEND ?? '').toLowerCase();
  if (want === 'js') return (active = getJsBackend());
  const native = getNativeBackend();
  if (native) return (active = native);
  if (want === 'native') throw new Error(`CMHASH_BACKEND=native but the native addon is unavailable: ${nativeLoadError()}`);
  process.stderr.write(`cmhash: native addon unavailable (${nativeLoadError()}); using the portable TypeScript backend\n`);
  return (active = getJsBackend());
}

/** Replace the active backend (tests run the same checks on each). */
export function setBackend(b: Backend): void { active = b; }
