// A model named on the command line (`eval --model`, `export <model>`): a checkpoint file, or a
// collection folder standing for its current model version's checkpoint.
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { InputError } from '../util/errors.js';
import { Collection } from '../product/collection.js';

/** The checkpoint file of a model path or of a collection directory's current version. */
export function checkpointOf(path: string): string {
  if (existsSync(path) && statSync(path).isDirectory()) {
    if (!existsSync(join(path, 'collection.json'))) throw new InputError(`${path}: a folder but not a collection (collection.json missing); give a .ckpt file or a collection folder`);
    const c = Collection.open(path);
    try {
      const v = c.history().versions.find((x) => x.id === c.snapshot().modelVersion);
      if (!v?.checkpoint) throw new InputError(`${path}: the collection has no model yet`);
      return join(resolve(path), v.checkpoint);
    } finally { c.close(); }
  }
  return path;
}
