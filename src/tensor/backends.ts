// Backend selection: CMHASH_BACKEND=native|js forces one; otherwise the native addon when it
// loads, else the portable backend with a one-line notice on stderr.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { existsSync } from 'node:fs';
import type { Backend } from './backend.js';
import { JsBackend } from './backend-js.js';

let active: Backend | null = null;
let jsBackend: JsBackend | null = null;
let nativeLoadError: string | null = null;

/** Path of the compiled addon (build/Release/cmhash_native.node under the package root). */
export function nativeAddonPath(): string {
  const here = dirname(fileURLToPath(import.meta.url)); // dist/src/tensor
  return join(here, '..', '..', '..', 'build', 'Release', 'cmhash_native.node');
}

/** Loads the raw native addon module, or returns null (and records why). */
export function loadNativeAddon(): any | null {
  const p = nativeAddonPath();
  if (!existsSync(p)) { nativeLoadError = `addon not built (${p} missing)`; return null; }
  try { return createRequire(import.meta.url)(p); } catch (e) { nativeLoadError = (e as Error).message; return null; }
}

export function nativeError(): string | null { return nativeLoadError; }

export function getJsBackend(): JsBackend { return (jsBackend ??= new JsBackend()); }

export function getBackend(): Backend {
  if (active) return active;
  const want = (process.env.CMHASH_BACKEND ?? '').toLowerCase();
  if (want === 'js') return (active = getJsBackend());
  const native = tryNative();
  if (native) return (active = native);
  if (want === 'native') throw new Error(`CMHASH_BACKEND=native but the native addon is unavailable: ${nativeLoadError}`);
  process.stderr.write(`cmhash: native addon unavailable (${nativeLoadError}); using the portable TypeScript backend\n`);
  return (active = getJsBackend());
}

/** Replace the active backend (tests run the same checks on each). */
export function setBackend(b: Backend): void { active = b; }

let nativeFactory: (() => Backend | null) | null = null;
/** The native backend module registers its factory here (keeps this file free of addon details). */
export function registerNativeFactory(f: () => Backend | null): void { nativeFactory = f; }

function tryNative(): Backend | null {
  if (!nativeFactory) { nativeLoadError ??= 'native backend not compiled into this build'; return null; }
  return nativeFactory();
}
