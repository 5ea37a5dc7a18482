// The cmhash library API: one import for the layers a program needs.
//   import { loadDataset, createHasher, FlatIndex, PackedCodes, evaluateRetrieval } from 'cmhash';

// compute core
export { getBackend, setBackend, getJsBackend } from './tensor/backends.js';
export type { Backend } from './tensor/backend.js';
export { Tensor, noGrad } from './tensor/tensor.js';
export * as ops from './tensor/ops.js';
export * as nn from './nn/index.js';
export { Rng } from './util/rng.js';
export { CmhashError, InputError, NotFoundError, CorruptDataError } from './util/errors.js';

// data
export { loadDataset } from './data/load.js';
export type { LoadOptions } from './data/load.js';
export { Dataset } from './data/dataset.js';
export { generateSynthetic, syntheticLabels, syntheticCodes } from './data/synthetic.js';
export type { SyntheticOptions } from './data/synthetic.js';
export { buildClassIncrementalStream, parseSessionSpec } from './data/stream.js';

// methods
export type { Hasher, ContinualHasher, TrainingData, SessionData, TrainOptions, Modality } from './methods/hasher.js';
export { createHasher, createContinualHasher, loadHasher, methodNames, methodEntry, continualMethodNames, registerMethod, reencodesDatabase } from './methods/registry.js';
export type { MethodEntry, MethodKind, MethodOptions } from './methods/registry.js';
export type { OptionSchema, OptionSpec } from './methods/options.js';
export { runContinual, planFromStream } from './continual/runner.js';

// codes, index, store
export { PackedCodes, hammingDistance, readCodesFile, writeCodesFile } from './codes/packed-codes.js';
export { FlatIndex } from './index/flat.js';
export { MultiIndex } from './index/multi-index.js';
export { createIndex, loadIndex } from './index/factory.js';
export { Store } from './index/store.js';

// evaluation and reports
export { evaluateRetrieval, meanAveragePrecision, averagePrecisionPerQuery, precisionRecallAtN, precisionRecallWithinRadius } from './eval/metrics.js';
export { continualSummary } from './eval/continual-metrics.js';
export { renderReport, writeReport } from './eval/report.js';
export { exportOnnx } from './export/onnx.js';

// product
export { Collection } from './product/collection.js';
export { buildService } from './server/app.js';
