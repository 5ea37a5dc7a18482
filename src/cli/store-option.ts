// `--store postgresql://…`: keep a collection in PostgreSQL instead of a directory. With it (or
// $CMHASH_STORE), a command's <collection> argument is the collection's name in that database.
import type { Command } from 'commander';
import { InputError } from '../util/errors.js';
import { isPostgresUrl, redactUrl } from '../index/pg/sync-client.js';
import { checkCollectionName } from '../product/names.js';

export const STORE_HELP = 'keep collections in PostgreSQL (postgresql://user@host:port/db; default $CMHASH_STORE); <collection> is then a name';

export function addStoreOption<C extends Command>(cmd: C): C {
  return cmd.option('--store <url>', STORE_HELP) as C;
}

/** The PostgreSQL URL from --store or $CMHASH_STORE, checked; null for directories. */
export function storeUrl(o: { store?: string }): string | null {
  const url = o.store ?? process.env.CMHASH_STORE ?? null;
  if (url === null || url === '') return null;
  if (!isPostgresUrl(url)) throw new InputError(`--store: expected a postgresql:// URL, got ${JSON.stringify(redactUrl(url))}`);
  return url;
}

/** What Collection.open/create take for a command's <collection> argument: the directory, or url#name. */
export function collectionSource(arg: string, o: { store?: string }): string {
  const url = storeUrl(o);
  if (!url) return arg;
  checkCollectionName(arg, '<collection> (a collection name with --store)');
  return `${url}#${encodeURIComponent(arg)}`;
}
