// `cmhash serve <collection-dir...> [--root <dir>]`: the HTTP service with the search page.
import type { Command } from 'commander';
import { InputError } from '../../util/errors.js';
import { Output } from '../output.js';
import { CollectionRegistry } from '../../product/registry.js';
import { JobManager } from '../../product/jobs.js';
import { startService, untilSignal } from '../../server/serve.js';
import { DEFAULT_LIMITS } from '../../server/limits.js';
import { intOption } from '../options.js';

interface ServeOptions { root?: string; host: string; port: string; maxK: string; uploadMb: string; bodyMb: string; log?: boolean; json?: boolean }

export function register(program: Command): void {
  program.command('serve')
    .description('serve collections over HTTP: search API, session updates as jobs, search page at /, /metrics, /openapi.json')
    .argument('[dirs...]', 'collection directories (each becomes a collection named by its collection.json)')
    .option('--root <dir>', 'also serve every collection directory directly under this folder')
    .option('--host <host>', 'address to listen on (default loopback only)', '127.0.0.1')
    .option('--port <port>', 'port', '8080')
    .option('--max-k <n>', 'largest k a search may ask for', String(DEFAULT_LIMITS.maxK))
    .option('--upload-mb <n>', 'largest uploaded image (MiB)', String(DEFAULT_LIMITS.uploadBytes >> 20))
    .option('--body-mb <n>', 'largest JSON body of item additions / session updates (MiB)', String(DEFAULT_LIMITS.itemsBodyBytes >> 20))
    .option('--log', 'log every request (JSON lines on stdout)')
    .option('--json', 'print {"url","collections"} as one JSON line once listening')
    .addHelpText('after', `
Examples:
  cmhash serve cmhash-demo/synthetic
  cmhash serve --root collections --host 0.0.0.0 --port 9000
  curl -s localhost:8080/api/collections/synthetic/search -H 'content-type: application/json' \\
       -d '{"modality":"text","query":{"text":"w1 w7"},"k":5}'`)
    .action(async (dirs: string[], o: ServeOptions) => {
      const out = new Output(!!o.json);
      const registry = new CollectionRegistry();
      try {
        for (const d of dirs) registry.openDir(d);
        if (o.root) registry.openRoot(o.root);
      } catch (e) { registry.close(); throw e; }
      if (registry.list().length === 0) { registry.close(); throw new InputError('no collections to serve: give collection directories or --root <dir> (build one with cmhash demo)'); }
      const jobs = new JobManager();
      const started = await startService({
        collections: registry, jobs, host: o.host, port: intOption(o.port, 'port', 0, 65535), logger: !!o.log,
        limits: { maxK: intOption(o.maxK, 'max-k', 1, 100_000), uploadBytes: intOption(o.uploadMb, 'upload-mb', 1, 1024) << 20, itemsBodyBytes: intOption(o.bodyMb, 'body-mb', 1, 2048) << 20 },
      });
      const names = registry.list().map((c) => c.name);
      out.record({ url: started.url, collections: names });
      for (const c of registry.list()) {
        const i = c.info();
        out.text(`${c.name}: ${i.items} items, ${i.bits}-bit codes, model version ${i.model_version ?? 'none'} (${i.method ?? 'codes only'})`);
      }
      out.text(`listening on ${started.url} — search page ${started.url}/?collection=${encodeURIComponent(names[0]!)}, API ${started.url}/openapi.json`);
      await untilSignal(started, { jobsIdle: () => jobs.idle(), onStop: () => registry.close() });
    });
}
