// Method name → constructor, and checkpoint kind → loader. A new method registers here (one entry
// in each table) and everything that talks to the Hasher interface can build and load it.
import { InputError } from '../util/errors.js';
import { loadCheckpoint } from '../nn/checkpoint.js';
import type { Hasher } from './hasher.js';
import type { LoadedCheckpoint } from './checkpoint-io.js';
import { Dcmh, DCMH_KIND } from './dcmh.js';
import { Dbrc, DBRC_KIND, type DbrcCodeLayer } from './dbrc.js';
import { checkBits } from './training-loop.js';
import { CcmhGam, CCMH_GAM_KIND, type CcmhGamConfig } from './ccmh-gam.js';
import { Dlcmh, DLCMH_KIND } from './dlcmh.js';
import { createFinetune } from './finetune.js';
import { Joint } from './joint.js';

/** Options any method constructor understands (each method ignores what it does not use). */
export interface MethodConfig {
  bits: number;
  hidden?: number;
  /** DBRC only: the code layer variant. */
  codeLayer?: DbrcCodeLayer;
  [key: string]: unknown;
}

interface MethodEntry {
  kind: string;
  supervised: boolean;
  description: string;
  create(config: MethodConfig): Hasher;
  load(ck: LoadedCheckpoint, path: string): Hasher;
}

const methods = new Map<string, MethodEntry>();

/** Adds a method (other method files call this at import time to join the CLI and loaders). */
export function registerMethod(name: string, entry: MethodEntry): void {
  methods.set(name, entry);
}

registerMethod('dcmh', {
  kind: DCMH_KIND, supervised: true,
  description: 'DCMH (Jiang & Li 2017): supervised pairwise likelihood + quantization + balance',
  create: (c) => new Dcmh({ bits: c.bits, hidden: c.hidden }),
  load: (ck, p) => Dcmh.fromCheckpoint(ck, p),
});
registerMethod('dbrc', {
  kind: DBRC_KIND, supervised: false,
  description: 'DBRC (Hu, Nie, Li 2019): unsupervised binary reconstruction with an ATanh code layer',
  create: (c) => new Dbrc({ bits: c.bits, hidden: c.hidden, codeLayer: c.codeLayer }),
  load: (ck, p) => Dbrc.fromCheckpoint(ck, p),
});

registerMethod('dlcmh', { kind: DLCMH_KIND, supervised: true, description: 'DLCMH (Xu et al. 2024): lifelong hashing with frozen old codes and DCC code learning', create: (c) => new Dlcmh({ bits: c.bits, hidden: c.hidden, budget: c.budget as number | undefined }), load: (ck, p) => Dlcmh.fromCheckpoint(ck, p) });
registerMethod('finetune', { kind: 'cmhash/finetune', supervised: true, description: 'continual lower bound: the CCMH-GAM nets fine-tuned on each session only', create: (c) => createFinetune({ bits: c.bits, hidden: c.hidden }), load: (ck, p) => CcmhGam.fromCheckpoint(ck, p) });
registerMethod('joint', { kind: 'cmhash/joint', supervised: true, description: 'continual upper bound: retrain from scratch on all data so far, re-encode the database', create: (c) => new Joint({ bits: c.bits, hidden: c.hidden }), load: (ck, p) => CcmhGam.fromCheckpoint(ck, p) });
registerMethod('ccmh-gam', { kind: CCMH_GAM_KIND, supervised: true, description: 'CCMH-GAM (Song et al. 2023): label-net codes, gradient-aware memory, GEM/A-GEM projection', create: (c) => new CcmhGam(c as unknown as CcmhGamConfig), load: (ck, p) => CcmhGam.fromCheckpoint(ck, p) });

export function methodNames(): string[] { return [...methods.keys()]; }

export function isSupervised(method: string): boolean { return entry(method).supervised; }

function entry(method: string): MethodEntry {
  const e = methods.get(method);
  if (!e) throw new InputError(`unknown method "${method}" (known: ${methodNames().join(', ')})`);
  return e;
}

/** A fresh, untrained model of `method` with `config.bits` bits (checked: multiple of 8). */
export function createHasher(method: string, config: MethodConfig): Hasher {
  checkBits(config.bits);
  return entry(method).create(config);
}

export interface LoadExpectations {
  /** Refuse a checkpoint of another method. */
  method?: string;
  /** Refuse a checkpoint of another code length. */
  bits?: number;
}

/**
 * Loads any method's checkpoint, dispatching on its kind. With `expect`, a checkpoint of another
 * method or code length is an InputError that says what was expected and what the file holds.
 */
export function loadHasher(path: string, expect: LoadExpectations = {}): Hasher {
  const ck = loadCheckpoint(path) as LoadedCheckpoint;
  let found: [string, MethodEntry] | undefined;
  for (const [name, e] of methods) if (e.kind === ck.kind) found = [name, e];
  if (!found) {
    throw new InputError(`${path}: checkpoint kind "${ck.kind}" is not a cmhash hashing model (known kinds: ${[...methods.values()].map((e) => e.kind).join(', ')})`);
  }
  const [name, e] = found;
  if (expect.method !== undefined && expect.method !== name) {
    throw new InputError(`${path}: this is a ${name} checkpoint, expected a ${expect.method} model`);
  }
  const arch = ck.architecture as { bits?: unknown } | null;
  if (expect.bits !== undefined && arch?.bits !== expect.bits) {
    throw new InputError(`${path}: this ${name} checkpoint makes ${String(arch?.bits)}-bit codes, expected ${expect.bits} bits`);
  }
  return e.load(ck, path);
}
