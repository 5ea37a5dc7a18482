// `cmhash remove <collection-dir> <id...>`: remove items (rows and codes, one transaction).
import type { Command } from 'commander';
import { STORE_HELP, collectionSource } from '../store-option.js';
import { InputError } from '../../util/errors.js';
import { readFlagFile } from '../flag-paths.js';
import { Output } from '../output.js';
import { Collection } from '../../product/collection.js';

interface RemoveOptions { store?: string; idsFile?: string; json?: boolean }

export function register(program: Command): void {
  program.command('remove')
    .description('remove items from a collection: their rows and codes in every model version, all or none')
    .argument('<collection>', 'collection directory (or name, with --store)')
    .option('--store <url>', STORE_HELP)
    .argument('[ids...]', 'item ids')
    .option('--ids-file <file>', 'more ids, one per line')
    .option('--json', 'print {"removed","model_version"}')
    .addHelpText('after', `
An unknown id removes nothing (exit 3). Removed codes leave the files at the next compaction
(automatic past a threshold, or \`cmhash compact\`).

Examples:
  cmhash remove cmhash-demo/synthetic item-17 item-18
  cmhash remove cmhash-demo/synthetic --ids-file stale.txt`)
    .action(async (dir: string, ids: string[], o: RemoveOptions) => {
      const out = new Output(!!o.json);
      const all = [...ids];
      if (o.idsFile !== undefined) {
        const text = readFlagFile('--ids-file', o.idsFile).toString('utf8');
        all.push(...text.split(/\r?\n/).map((l) => l.trim()).filter(Boolean));
      }
      if (all.length === 0) throw new InputError('give item ids (arguments or --ids-file)');
      const c = Collection.open(collectionSource(dir, o));
      try {
        const r = await c.removeItems(all);
        out.record(r);
        out.text(`removed ${r.removed} items from "${c.name}"; it now holds ${c.info().items} items`);
      } finally { c.close(); }
    });
}
