// The one method registry: each method is one entry — name, kind, options schema, how to build it,
// how to load its checkpoint, whether it re-encodes the database, how to export its encoders. The
// session runner, CLI, server, product and export talk only to this.
import { InputError } from '../util/errors.js';
import { loadCheckpoint } from '../nn/checkpoint.js';
import { withoutInitialDraws } from '../nn/init.js';
import type { ContinualHasher, Hasher, Modality } from './hasher.js';
import type { LoadedCheckpoint } from './checkpoint-io.js';
import { checkBits } from './training-loop.js';
import { checkOptions, type OptionSchema } from './options.js';
import type { ExportLayer, LinearLayer } from '../export/onnx.js';
import { dbrcLayers, hashNetLayers, mlpLayers, type EncoderLayers } from './export-layers.js';
import { Dcmh, DCMH_DEFAULTS, DCMH_KIND, DCMH_OPTIONS, type DcmhConfig } from './dcmh.js';
import { Dbrc, DBRC_KIND, DBRC_OPTIONS, type DbrcConfig } from './dbrc.js';
import { CcmhGam, CCMH_GAM_KIND, CCMH_GAM_OPTIONS, FINETUNE_CCMH_GAM_OPTIONS, type CcmhGamConfig } from './ccmh-gam.js';
import { Dlcmh, DLCMH_KIND, DLCMH_OPTIONS, FINETUNE_DLCMH_OPTIONS, type DlcmhConfig } from './dlcmh.js';
import { createFinetune, type FinetuneConfig } from './finetune.js';
import { Joint, JOINT_KIND, JOINT_CCMH_GAM_OPTIONS, JOINT_DLCMH_OPTIONS, type JointConfig } from './joint.js';
import { LinearBaseline, LINEAR_KIND, LINEAR_OPTIONS, refitBaselineLayers, type LinearConfig } from './linear.js';
import { CcaBaseline, CCA_KIND, CCA_OPTIONS, type CcaConfig } from './cca.js';

export type MethodKind = 'supervised' | 'unsupervised' | 'continual' | 'baseline';

/** Options of create(): the code length plus the method's own options (checked against its schema). */
export interface MethodOptions { bits: number; [option: string]: unknown }

export interface MethodEntry {
  name: string;
  kind: MethodKind;
  /** Whether it trains on labels. */
  supervised: boolean;
  description: string;
  /** Its options (besides the common TrainOptions): type, default, range, one-line doc. */
  options: OptionSchema;
  /** Epochs and learning rate it uses when none are given (for help text). */
  defaults: { epochs: number; learningRate: number };
  /** The `kind` its checkpoints carry (several entries may share one: the name tells them apart). */
  checkpointKind: string;
  /** Whether it retrains from scratch and re-stores every database code each session (joint). */
  reencodesDatabase: boolean;
  /** A fresh model; `name` is the name it reports (an alias keeps the name the user typed). */
  create(options: MethodOptions, name?: string): Hasher;
  load(ck: LoadedCheckpoint, path: string): Hasher;
  /** The encoder layers of one modality in a checkpoint of this method (ONNX export). */
  exportLayers(ck: LoadedCheckpoint, path: string, modality: Modality): ExportLayer[];
}

const methods = new Map<string, MethodEntry>();
/** Older names of the same method (the plain baselines are the ccmh-gam base). */
const aliases = new Map<string, string>([['finetune', 'finetune:ccmh-gam'], ['joint', 'joint:ccmh-gam']]);

/** Adds a method. Its options schema is what create() and the CLI accept for it. */
export function registerMethod(entry: MethodEntry): void {
  if (methods.has(entry.name) || aliases.has(entry.name)) throw new InputError(`method "${entry.name}" is already registered`);
  methods.set(entry.name, entry);
}

/** Builds with `name` as the reported method name (aliases keep the name the user typed). */
type Create = (o: MethodOptions, name: string) => Hasher;

function entryOf(name: string, kind: MethodKind, description: string, options: OptionSchema, defaults: MethodEntry['defaults'], checkpointKind: string,
  create: Create, load: MethodEntry['load'], exportLayers: MethodEntry['exportLayers'], supervised = true, reencodesDatabase = false): MethodEntry {
  return { name, kind, supervised, description, options, defaults, checkpointKind, reencodesDatabase, create: (o, as = name) => create(o, as), load, exportLayers };
}

const continualDefaults = { epochs: 30, learningRate: 1e-3 };

registerMethod(entryOf('dcmh', 'supervised', 'DCMH (Jiang & Li 2017): supervised pairwise likelihood + quantization + balance',
  DCMH_OPTIONS, { epochs: DCMH_DEFAULTS.epochs, learningRate: DCMH_DEFAULTS.learningRate }, DCMH_KIND, (o) => new Dcmh(o as DcmhConfig), (ck, p) => Dcmh.fromCheckpoint(ck, p), (ck, p, m) => mlpLayers(ck, p, m)));
registerMethod(entryOf('dbrc', 'unsupervised', 'DBRC (Hu, Nie, Li 2019): unsupervised binary reconstruction with an ATanh code layer',
  DBRC_OPTIONS, { epochs: 300, learningRate: 1e-3 }, DBRC_KIND, (o) => new Dbrc(o as DbrcConfig), (ck, p) => Dbrc.fromCheckpoint(ck, p), dbrcLayers, false));
registerMethod(entryOf('ccmh-gam', 'continual', 'CCMH-GAM (Song et al. 2023): label-net codes, gradient-aware memory, GEM/A-GEM projection',
  CCMH_GAM_OPTIONS, continualDefaults, CCMH_GAM_KIND, (o) => new CcmhGam(o as CcmhGamConfig), (ck, p) => CcmhGam.fromCheckpoint(ck, p), hashNetLayers));
registerMethod(entryOf('dlcmh', 'continual', 'DLCMH (Xu et al. 2024): lifelong hashing with frozen old codes and DCC code learning',
  DLCMH_OPTIONS, continualDefaults, DLCMH_KIND, (o) => new Dlcmh(o as DlcmhConfig), (ck, p) => Dlcmh.fromCheckpoint(ck, p), hashNetLayers));
registerMethod(entryOf('finetune:ccmh-gam', 'baseline', 'continual lower bound: the CCMH-GAM nets fine-tuned on each session only',
  FINETUNE_CCMH_GAM_OPTIONS, continualDefaults, CCMH_GAM_KIND, (o, name) => createFinetune({ ...o, base: 'ccmh-gam', name } as FinetuneConfig), (ck, p) => CcmhGam.fromCheckpoint(ck, p), hashNetLayers));
registerMethod(entryOf('finetune:dlcmh', 'baseline', 'continual lower bound: DLCMH\'s nets and code learning on each session\'s items only',
  FINETUNE_DLCMH_OPTIONS, continualDefaults, DLCMH_KIND, (o, name) => createFinetune({ ...o, base: 'dlcmh', name } as FinetuneConfig), (ck, p) => Dlcmh.fromCheckpoint(ck, p), hashNetLayers));
registerMethod(entryOf('joint:ccmh-gam', 'baseline', 'continual upper bound: retrain the CCMH-GAM nets from scratch on all data so far, re-encode the database',
  JOINT_CCMH_GAM_OPTIONS, continualDefaults, JOINT_KIND, (o, name) => new Joint({ ...o, base: 'ccmh-gam', name } as JointConfig), (ck, p) => Joint.fromCheckpoint(ck, p), hashNetLayers, true, true));
registerMethod(entryOf('joint:dlcmh', 'baseline', 'continual upper bound: DLCMH\'s original phase on all data so far, re-encode the database',
  JOINT_DLCMH_OPTIONS, continualDefaults, JOINT_KIND, (o, name) => new Joint({ ...o, base: 'dlcmh', name } as JointConfig), (ck, p) => Joint.fromCheckpoint(ck, p), hashNetLayers, true, true));
// Closed-form baselines: refit on all data so far at each session, so the runner re-stores every code.
const closedForm = { epochs: 1, learningRate: 0 };
registerMethod(entryOf('linear', 'baseline', 'label regression: ridge from standardised features to labels, seeded rotation, sign; refits on all data so far',
  LINEAR_OPTIONS, closedForm, LINEAR_KIND, (o, name) => new LinearBaseline({ ...o, name } as LinearConfig), (ck, p) => LinearBaseline.fromCheckpoint(ck, p), refitBaselineLayers, true, true));
registerMethod(entryOf('cca', 'baseline', 'unsupervised: regularised CCA of the two modalities, ITQ rotation, sign; refits on all data so far',
  CCA_OPTIONS, closedForm, CCA_KIND, (o, name) => new CcaBaseline({ ...o, name } as CcaConfig), (ck, p) => CcaBaseline.fromCheckpoint(ck, p), refitBaselineLayers, false, true));

/** Registered names, then the aliases (finetune, joint), in registration order. */
export function methodNames(): string[] { return [...methods.keys(), ...aliases.keys()]; }

/** Names of the methods that learn session by session (continual methods and their baselines). */
export function continualMethodNames(): string[] {
  return methodNames().filter((n) => { const k = methodEntry(n).kind; return k === 'continual' || k === 'baseline'; });
}

/** The entry of `name` (an alias gives its method's entry). */
export function methodEntry(name: string): MethodEntry {
  const e = methods.get(aliases.get(name) ?? name);
  if (!e) throw new InputError(`unknown method "${name}" (known: ${methodNames().join(', ')})`);
  return e;
}

export function isSupervised(method: string): boolean { return methodEntry(method).supervised; }

/** Whether `method` re-stores every database code each session (joint retraining, any base). */
export function reencodesDatabase(method: string): boolean { return methodEntry(method).reencodesDatabase; }

/**
 * A fresh, untrained model of `method`. `options.bits` must be a multiple of 8; every other option
 * must be one of the method's (`methodEntry(method).options`), with a value in its range — an
 * unknown option is an InputError that names it and lists the method's options.
 */
export function createHasher(method: string, options: MethodOptions): Hasher {
  const e = methodEntry(method);
  checkBits(options.bits);
  checkOptions(method, e.options, options, ['bits']);
  return e.create(options, method);
}

/** createHasher for a method that learns session by session (refuses one that does not). */
export function createContinualHasher(method: string, options: MethodOptions): ContinualHasher {
  const e = methodEntry(method);
  if (e.kind !== 'continual' && e.kind !== 'baseline') throw new InputError(`${method} does not learn session by session (continual methods: ${continualMethodNames().join(', ')})`);
  return createHasher(method, options) as ContinualHasher;
}

export function isContinual(h: Hasher): h is ContinualHasher {
  return typeof (h as Partial<ContinualHasher>).update === 'function' && typeof (h as Partial<ContinualHasher>).memoryItems === 'function';
}

/** The registered method a checkpoint was written by: its recorded name, else the one entry of its kind. */
function entryOfCheckpoint(ck: LoadedCheckpoint, path: string): MethodEntry {
  const recorded = (ck.architecture as { name?: unknown } | null)?.name;
  if (typeof recorded === 'string') {
    const e = methods.get(aliases.get(recorded) ?? recorded);
    if (e && e.checkpointKind === ck.kind) return e;
    // a joint checkpoint written before joint saved its own state holds only the inner model
    if (e) throw new InputError(`${path}: a ${recorded} checkpoint should be of kind ${e.checkpointKind}, this one is ${ck.kind} (written by an older cmhash: train it again)`);
  }
  const byKind = [...methods.values()].filter((e) => e.checkpointKind === ck.kind);
  if (byKind.length === 0) {
    throw new InputError(`${path}: checkpoint kind "${ck.kind}" is not a cmhash hashing model (known kinds: ${[...new Set([...methods.values()].map((e) => e.checkpointKind))].join(', ')})`);
  }
  return byKind[0]!; // the method itself comes first (ccmh-gam before finetune:ccmh-gam)
}

export interface LoadExpectations {
  /** Refuse a checkpoint of another method. */
  method?: string;
  /** Refuse a checkpoint of another code length. */
  bits?: number;
}

/**
 * Loads any method's checkpoint, dispatching on the method name it records. With `expect`, a
 * checkpoint of another method or code length is an InputError that says what was expected and
 * what the file holds.
 */
export function loadHasher(path: string, expect: LoadExpectations = {}): Hasher {
  const ck = loadCheckpoint(path) as LoadedCheckpoint;
  const e = entryOfCheckpoint(ck, path);
  if (expect.method !== undefined && methodEntry(expect.method) !== e) {
    throw new InputError(`${path}: this is a ${e.name} checkpoint, expected a ${expect.method} model`);
  }
  const arch = ck.architecture as { bits?: unknown } | null;
  if (expect.bits !== undefined && arch?.bits !== expect.bits) {
    throw new InputError(`${path}: this ${e.name} checkpoint makes ${String(arch?.bits)}-bit codes, expected ${expect.bits} bits`);
  }
  return e.load(ck, path);
}

/**
 * The model `loadHasher` would give for a checkpoint file, to encode with, built from that file's
 * contents already loaded (what nn/checkpoint.ts loadCheckpoint returns for it — e.g. read on
 * another thread and handed over): the same method dispatch and loader, without reading or
 * checking a file, and without the nets' initial random draws (every weight comes from the
 * checkpoint; withoutInitialDraws). Same weights and codes as loadHasher's; to train, use
 * loadHasher. `label` names the checkpoint in error messages.
 */
export function hasherFromCheckpointData(ck: LoadedCheckpoint, label = '(checkpoint data)'): Hasher {
  return withoutInitialDraws(() => entryOfCheckpoint(ck, label).load(ck, label));
}

/** A saved model's image and text encoders as export layers, by the layout its method registers. */
export function encoderLayersFromCheckpoint(path: string): EncoderLayers {
  const ck = loadCheckpoint(path) as LoadedCheckpoint;
  const e = entryOfCheckpoint(ck, path);
  const image = e.exportLayers(ck, path, 'image'), text = e.exportLayers(ck, path, 'text');
  const arch = (ck.architecture ?? {}) as { bits?: number; name?: string };
  const bits = arch.bits ?? (image.filter((l): l is LinearLayer => l.type === 'linear').at(-1)!.outDim);
  return { kind: ck.kind, method: arch.name ?? e.name, bits, image, text, imageDim: (image[0] as LinearLayer).inDim, textDim: (text[0] as LinearLayer).inDim };
}
