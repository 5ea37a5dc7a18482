// `cmhash encode`: features (or raw text / an image, with a collection) → binary codes.
import type { Command } from 'commander';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../../util/errors.js';
import { Output } from '../output.js';
import { checkFlagFile, checkOutputFile, readFlagFile } from '../flag-paths.js';
import { checkpointOf } from '../checkpoint-of.js';
import { PackedCodes, writeCodesFile } from '../../codes/packed-codes.js';
import { Collection } from '../../product/collection.js';
import { readFeatureFile } from '../../product/feature-file.js';
import { imageToFeatures, textToFeatures } from '../../product/featurize.js';
import { codeToHex } from '../../product/code-hex.js';
import { loadHasher } from '../../methods/registry.js';
import type { Hasher, Modality } from '../../methods/hasher.js';

interface EncodeOptions { model: string; modality?: string; features?: string; text?: string; image?: string; out?: string; json?: boolean }

export function register(program: Command): void {
  program.command('encode')
    .description('encode features (or raw text / an image file, given a collection) into binary codes')
    .requiredOption('--model <path>', 'a model checkpoint (.ckpt) or a collection directory (its current model)')
    .option('--modality <m>', 'image | text (default: text for --text, image for --image)')
    .option('--features <file>', 'features to encode (.npy or .json; one row per item)')
    .option('--text <words>', 'raw text or tags (needs a collection with a vocabulary)')
    .option('--image <file>', 'an image file (needs a collection built on the built-in image descriptor)')
    .option('--out <file>', 'also write the codes as a packed code file (CMHC, readable with readCodesFile)')
    .option('--json', 'print {"bits","modality","codes":["hex",…]}')
    .addHelpText('after', `
Codes are printed as hex: bits/8 bytes in code order, byte b holding bits 8b..8b+7 (bit i of the byte = code bit 8b+i); a set bit is +1.
Examples:
  cmhash encode --model models/ccmh-gam.ckpt --modality image --features queries.npy
  cmhash encode --model cmhash-demo/synthetic --text "w3 w17" --json`)
    .action(async (o: EncodeOptions) => {
      const out = new Output(!!o.json);
      const given = (['features', 'text', 'image'] as const).filter((k) => o[k] !== undefined);
      if (given.length !== 1) throw new InputError('give exactly one input: --features, --text or --image');
      const modality = (o.modality ?? (o.text !== undefined ? 'text' : o.image !== undefined ? 'image' : undefined)) as Modality | undefined;
      if (modality !== 'image' && modality !== 'text') throw new InputError(`--modality: expected image or text, got ${o.modality ?? 'nothing'}`);
      if (o.features !== undefined) checkFlagFile('--features', o.features);
      if (o.out !== undefined) checkOutputFile('--out', o.out);
      const isCollection = existsSync(o.model) && statSync(o.model).isDirectory() && existsSync(join(o.model, 'collection.json'));
      let collection: Collection | null = null;
      let hasher: Hasher;
      if (isCollection) {
        collection = Collection.open(o.model);
        const h = collection.snapshot().hasher;
        if (!h) { collection.close(); throw new InputError(`${o.model}: the collection has no model yet`); }
        hasher = h;
      } else {
        if (o.text !== undefined || o.image !== undefined) throw new InputError('--text and --image need --model <collection dir> (its vocabulary / image descriptor turn them into features)');
        hasher = loadHasher(checkpointOf(o.model));
      }
      try {
        let feats: Float32Array, rows: number;
        if (o.features !== undefined) {
          const f = readFeatureFile(o.features);
          const want = modality === 'image' ? hasher.imageDim : hasher.textDim;
          if (want && f.dim !== want) throw new InputError(`${o.features}: the model takes ${want} ${modality} features, the file has ${f.dim} columns`);
          feats = f.data; rows = f.rows;
        } else if (o.text !== undefined) {
          if (modality !== 'text') throw new InputError('--text is a text input: use --modality text');
          feats = textToFeatures(o.text, collection!.vocabulary, collection!.config); rows = 1;
        } else {
          if (modality !== 'image') throw new InputError('--image is an image input: use --modality image');
          feats = await imageToFeatures(readFlagFile('--image', o.image!), collection!.config); rows = 1;
        }
        const bar = out.progress(rows, 'encode');
        const chunk = 4096, parts: PackedCodes[] = [];
        const dim = feats.length / rows;
        for (let s = 0; s < rows; s += chunk) {
          const e = Math.min(rows, s + chunk);
          const enc = hasher.encode(modality, feats.subarray(s * dim, e * dim), e - s);
          parts.push(PackedCodes.fromReal(enc.values, e - s, hasher.bits));
          bar.update(e);
        }
        bar.stop();
        const codes = PackedCodes.concat(parts);
        if (o.out) writeCodesFile(o.out, codes);
        const hex = Array.from({ length: codes.count }, (_, i) => codeToHex(codes, i));
        out.record({ bits: codes.bits, modality, method: hasher.method, codes: hex, ...(o.out ? { out: o.out } : {}) });
        if (!out.json) for (const h of hex) out.text(h);
        if (o.out) out.text(`wrote ${codes.count} ${codes.bits}-bit codes to ${o.out}`);
      } finally { collection?.close(); }
    });
}
