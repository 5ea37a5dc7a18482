// The validation score used for model selection and early stopping: validation items (carved from
// the training data, never the query set) query the training items, exactly the shape of the test
// protocol (unseen queries against a database of training items), scored by mAP@all both ways.
import { InputError } from '../util/errors.js';
import type { Hasher, TrainingData } from './hasher.js';
import { crossModalMap, validationDatabase, type Directions } from './evaluate.js';

export function makeValidator(h: Hasher, train: TrainingData, validation: TrainingData): () => Directions {
  if (validation.imageDim !== train.imageDim || validation.textDim !== train.textDim || validation.numClasses !== train.numClasses) {
    throw new InputError(`validation data widths (image ${validation.imageDim}, text ${validation.textDim}, classes ${validation.numClasses}) differ from the training data's (${train.imageDim}, ${train.textDim}, ${train.numClasses})`);
  }
  if (validation.numClasses < 1) throw new InputError('validation-based model selection needs labels on the validation split (numClasses = 0)');
  const db = validationDatabase(train);
  return () => crossModalMap(h, validation, db);
}
