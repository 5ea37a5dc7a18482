// The MLP builder lives with Sequential; this file re-exports it under its own name.
export { mlp, Sequential } from './sequential.js';
export type { MlpOpts, ActivationName } from './sequential.js';
