// `cmhash compact <collection-dir>`: merge code segments, drop removed items' codes and leftovers.
import type { Command } from 'commander';
import { STORE_HELP, collectionSource } from '../store-option.js';
import { Output } from '../output.js';
import { Collection } from '../../product/collection.js';

export function register(program: Command): void {
  program.command('compact')
    .description("merge a collection's code segments into one per model version, drop removed items' codes and files nothing refers to (answers do not change)")
    .argument('<collection>', 'collection directory (or name, with --store)')
    .option('--store <url>', STORE_HELP)
    .option('--json', 'print the compaction record')
    .action(async (dir: string, o: { json?: boolean; store?: string }) => {
      const out = new Output(!!o.json);
      const c = Collection.open(collectionSource(dir, o));
      try {
        const r = await c.compact();
        out.record(r);
        out.text(`compacted "${c.name}": segments ${r.segmentsBefore} → ${r.segmentsAfter} (${r.merged} merged into ${r.written}), ${r.codesDropped} removed codes dropped, ${r.filesDeleted} files deleted`);
      } finally { c.close(); }
    });
}
