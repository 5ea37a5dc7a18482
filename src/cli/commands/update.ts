// `cmhash update <collection-dir>`: apply a new session (labelled items, new labels allowed) to the
// collection's model and commit the result as a new model version (old codes kept).
import type { Command } from 'commander';
import { STORE_HELP, collectionSource } from '../store-option.js';
import { InputError } from '../../util/errors.js';
import { Output } from '../output.js';
import { sessionEpochs } from '../session-epochs.js';
import { MAX_SESSION_EPOCHS } from '../../product/session-limits.js';
import { Collection } from '../../product/collection.js';
import { applySessionUpdate } from '../../product/session-update.js';
import { itemsFromOptions } from './add.js';

interface UpdateOptions { store?: string; data?: string; split?: string; items?: string; name?: string; epochs?: string; seed: string; json?: boolean }

export function register(program: Command): void {
  program.command('update')
    .description('apply a new session to a collection: train its continual model on labelled items, commit a new model version')
    .argument('<collection>', 'collection directory (or name, with --store) (with a continual model: ccmh-gam, dlcmh, finetune)')
    .option('--store <url>', STORE_HELP)
    .option('--data <preset|path>', 'a dataset with labels: its --split rows (default: train, or all rows)')
    .option('--split <name>', 'dataset split used as the session')
    .option('--items <file>', 'session items as JSON or JSONL (each with image and text features or raw_text, and labels)')
    .option('--name <name>', 'session name stored with the version')
    .option('--epochs <n>', `training epochs of the update (1–${MAX_SESSION_EPOCHS})`)
    .option('--seed <n>', 'random seed', '1')
    .option('--json', 'print {"model_version","previous_version","items","new_labels","train_seconds","method"}')
    .addHelpText('after', `
Examples:
  cmhash update cmhash-demo/synthetic --items session5.jsonl --name "spring 2025"
  cmhash update my-collection --data new-batch.jsonl --epochs 5 --json`)
    .action(async (dir: string, o: UpdateOptions) => {
      const out = new Output(!!o.json);
      const epochs = sessionEpochs(o.epochs);
      const seed = Number(o.seed);
      if (!Number.isInteger(seed) || seed < 0) throw new InputError(`--seed: expected a non-negative integer, got ${o.seed}`);
      const c = Collection.open(collectionSource(dir, o));
      try {
        const items = await itemsFromOptions(c, o, 'train');
        c.checkItems(items, true);
        out.text(`session of ${items.length} items → "${c.name}" (model version ${c.snapshot().modelVersion})`);
        const bar = out.progress(1, 'epochs');
        const r = await applySessionUpdate(c, items, { name: o.name, epochs, seed, onProgress: (p) => { bar.setTotal(p.epochs); bar.update(p.epoch); } }).finally(() => bar.stop());
        out.record(r);
        out.text(`committed model version ${r.model_version} (was ${r.previous_version}); ${r.items} items added${r.new_labels.length ? `, new labels: ${r.new_labels.join(', ')}` : ''}; trained in ${r.train_seconds.toFixed(1)} s`);
      } finally { c.close(); }
    });
}
