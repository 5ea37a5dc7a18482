// A search request in product terms → one query code, all from one snapshot: features are encoded
// with the snapshot's model, raw text goes through the vocabulary first, an item id takes that
// item's stored code of the query modality, and a hex code is used as it is.
import type { PackedCodes } from '../codes/packed-codes.js';
import type { Modality } from '../methods/hasher.js';
import { InputError } from '../util/errors.js';
import { Collection } from './collection.js';
import { hexToCode } from './code-hex.js';
import { checkFeatures, textToFeatures } from './featurize.js';
import type { CollectionSnapshot } from './snapshot.js';

export interface QueryInput {
  features?: readonly number[] | Float32Array;
  text?: string | string[];
  itemId?: string;
  code?: string;
}

const KINDS = ['features', 'text', 'itemId', 'code'] as const;

/** The one query kind given (exactly one is allowed). */
export function queryKind(q: QueryInput): (typeof KINDS)[number] {
  const given = KINDS.filter((k) => q[k] !== undefined);
  if (given.length !== 1) throw new InputError(`query: give exactly one of ${KINDS.join(', ')} (got ${given.length ? given.join(', ') : 'none'})`);
  return given[0]!;
}

export function queryCode(collection: Collection, snap: CollectionSnapshot, modality: Modality, q: QueryInput): PackedCodes {
  const kind = queryKind(q);
  switch (kind) {
    case 'features': return Collection.encodeQuery(snap, modality, checkFeatures(q.features!, collection.config, modality, 'query.features'));
    case 'text': {
      if (modality !== 'text') throw new InputError('query.text is raw text: use modality "text" (text → images)');
      const t = q.text!;
      if (Array.isArray(t) ? t.length === 0 : t.trim().length === 0) throw new InputError('query.text is empty');
      return Collection.encodeQuery(snap, 'text', textToFeatures(t, collection.vocabulary, collection.config));
    }
    case 'itemId': return collection.storedCodeOf(snap, modality, q.itemId!);
    case 'code': return hexToCode(q.code!, snap.bits, 'query.code');
  }
}
