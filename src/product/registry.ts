// The collections a service holds, by name. Names are checked (no path tricks); directories are
// opened once and closed with the registry.
import { resolve } from 'node:path';
import { InputError, NotFoundError } from '../util/errors.js';
import { Collection, listCollectionDirs, type OpenOptions } from './collection.js';
import { checkCollectionName } from './names.js';
import { listPgCollections } from '../index/pg/pg-store.js';

export class CollectionRegistry {
  private byName = new Map<string, Collection>();

  add(c: Collection): Collection {
    if (this.byName.has(c.name)) throw new InputError(`a collection named "${c.name}" is already loaded`);
    this.byName.set(c.name, c);
    return c;
  }

  /** Opens a collection directory (its name: the config's, or `name`). */
  openDir(dir: string, name?: string): Collection {
    const c = Collection.open(resolve(dir), name ? { name } : {});
    try { return this.add(c); } catch (e) { c.close(); throw e; }
  }

  /** Opens every collection directory directly under `root`. */
  openRoot(root: string): Collection[] {
    return listCollectionDirs(root).map((d) => this.openDir(d));
  }

  /** How collections of a PostgreSQL database are opened (set by openStore; replicas open new ones alike). */
  private pgOptions: OpenOptions = {};

  /** Opens collection `name` of a PostgreSQL database. */
  openPostgres(url: string, name: string): Collection {
    const c = Collection.open(url, { ...this.pgOptions, name });
    try { return this.add(c); } catch (e) { c.close(); throw e; }
  }

  /** Opens every collection of a PostgreSQL database (those not loaded yet). */
  openStore(url: string, opts: Omit<OpenOptions, 'name'> = {}): Collection[] {
    this.pgOptions = opts;
    return listPgCollections(url).filter((row) => !this.byName.has(row.name)).map((row) => this.openPostgres(url, row.name));
  }

  /** The collection named `name`, or undefined. */
  find(name: string): Collection | undefined { return this.byName.get(name); }

  get(name: string): Collection {
    checkCollectionName(name);
    const c = this.byName.get(name);
    if (!c) throw new NotFoundError(`no collection named "${name}" (loaded: ${[...this.byName.keys()].join(', ') || 'none'})`);
    return c;
  }

  list(): Collection[] { return [...this.byName.values()]; }

  close(): void { for (const c of this.byName.values()) c.close(); this.byName.clear(); }
}
