// All tensor ops in one import. Every op records itself on the autograd graph when an input
// requires grad (and grad is enabled); shape mismatches throw InputError naming the op and shapes.
export { matmul, affine, affineRelu, gemm, gemmPlain } from './ops-matmul.js';
export {
  add, sub, mul, div, addScalar, mulScalar, powScalar, neg, square, sqrt, abs,
  tanh, sigmoid, relu, softplus, logSigmoid, exp, log, sign, clamp,
  broadcastShape, sigmoidScalar, softplusScalar, tanhScalar,
} from './ops-elementwise.js';
export { pairwiseLikelihood, pairwiseSquaredError } from './ops-pairwise.js';
export type { LikelihoodReduction } from './ops-pairwise.js';
export { sum, mean, sumSquares, l2NormalizeRows, cosineSimilarity } from './ops-reduce.js';
export type { Axis } from './ops-reduce.js';
export { gatherRows, concatCols, concatRows, sliceCols, sliceRows, transpose, dropout } from './ops-shape.js';
export { Tensor, noGrad, makeResult, gradOf, toDtype, isGradEnabled } from './tensor.js';
export type { Buf, DType, TensorOpts, GradNode } from './tensor.js';
