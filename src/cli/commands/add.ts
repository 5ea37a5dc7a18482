// `cmhash add <collection-dir>`: add items encoded by the collection's current model (no training).
import type { Command } from 'commander';
import { STORE_HELP, collectionSource } from '../store-option.js';
import { InputError } from '../../util/errors.js';
import { Output } from '../output.js';
import { checkFlagFile, readFlagFile } from '../flag-paths.js';
import { Collection, type ItemInput } from '../../product/collection.js';
import { datasetItems, commonImageRoot } from '../../product/build-collection.js';
import { imageToFeatures, textToFeatures } from '../../product/featurize.js';
import { itemFromJson } from '../../product/item-input.js';
import { readItemsFile } from '../../product/items-file.js';
import { loadDataset } from '../../data/load.js';

interface AddOptions { store?: string; data?: string; split?: string; items?: string; id?: string; image?: string; text?: string; labels?: string; json?: boolean }

/** Items from --data (a dataset's split), --items (a JSON/JSONL file) or the single-item flags. */
export async function itemsFromOptions(c: Collection, o: AddOptions, defaultSplit: string): Promise<ItemInput[]> {
  const sources = [o.data, o.items, o.id].filter((x) => x !== undefined).length;
  if (sources !== 1) throw new InputError('give one source of items: --data <preset|path>, --items <file.json|.jsonl>, or --id with --image/--text');
  if (o.data !== undefined) {
    const ds = await loadDataset(o.data);
    // A named --split must exist; only the default split falls back to every row when the data has none.
    if (o.split !== undefined && !ds.hasSplit(o.split)) throw new InputError(`${o.data}: no split "${o.split}" in this dataset`);
    const split = o.split ?? defaultSplit;
    const rows = ds.hasSplit(split) ? ds.split(split) : Int32Array.from({ length: ds.n }, (_, i) => i);
    if (ds.imageDim !== c.config.imageDim || ds.textDim !== c.config.textDim) {
      throw new InputError(`${o.data}: features are image ${ds.imageDim}-d / text ${ds.textDim}-d, collection "${c.name}" takes ${c.config.imageDim}-d / ${c.config.textDim}-d`);
    }
    return datasetItems(ds, rows, c.config.imageRoot ?? commonImageRoot(ds));
  }
  if (o.items !== undefined) return readItemsFile(checkFlagFile('--items', o.items)).map((it, i) => itemFromJson(c, it, i));
  if (o.image === undefined && o.text === undefined) throw new InputError('--id needs --image <file> and/or --text <words>');
  return [{
    id: o.id!, image: o.image !== undefined ? await imageToFeatures(readFlagFile('--image', o.image), c.config) : null,
    text: o.text !== undefined ? textToFeatures(o.text, c.vocabulary, c.config) : null,
    labels: o.labels ? o.labels.split(',').map((l) => l.trim()).filter(Boolean) : [], metadata: null,
  }];
}

export function register(program: Command): void {
  program.command('add')
    .description("add items to a collection, encoded by its current model (labels must be known; new labels come with `cmhash update`)")
    .argument('<collection>', 'collection directory (or name, with --store)')
    .option('--store <url>', STORE_HELP)
    .option('--data <preset|path>', 'a dataset: its --split rows (default: retrieval, or all rows)')
    .option('--split <name>', 'dataset split to add')
    .option('--items <file>', 'items as JSON or JSONL: {"id","image":[…],"text":[…] or "raw_text","labels":[…],"metadata":{…}}')
    .option('--id <id>', 'one item: its id (with --image and/or --text)')
    .option('--image <file>', 'one item: an image file')
    .option('--text <words>', 'one item: raw text or tags')
    .option('--labels <list>', 'one item: comma-separated label names')
    .option('--json', 'print {"added","model_version"}')
    .addHelpText('after', `
Examples:
  cmhash add cmhash-demo/synthetic --items new-items.jsonl
  cmhash add cmhash-demo/synthetic --id note-1 --text "w3 w17" --labels class3`)
    .action(async (dir: string, o: AddOptions) => {
      const out = new Output(!!o.json);
      const c = Collection.open(collectionSource(dir, o));
      try {
        const items = await itemsFromOptions(c, o, 'retrieval');
        const r = await c.addItems(items);
        out.record(r);
        out.text(`added ${r.added} items to "${c.name}" (model version ${r.model_version}); it now holds ${c.info().items} items`);
      } finally { c.close(); }
    });
}
