// `cmhash serve <collection-dir...> [--root <dir>]`: the HTTP service with the search page.
// Access control, the Host and Origin checks, CORS, timeouts and the rate limit are described in
// docs/access-control.md.
import type { Command } from 'commander';
import { InputError } from '../../util/errors.js';
import { Output } from '../output.js';
import { CollectionRegistry } from '../../product/registry.js';
import { ReplicaSync } from '../../product/replica-sync.js';
import { DurableSessionJobs } from '../../product/durable-jobs.js';
import { sessionJobRunner } from '../../product/session-job.js';
import { storeUrl } from '../store-option.js';
import { JobManager } from '../../product/jobs.js';
import { startService, untilSignal } from '../../server/serve.js';
import { DEFAULT_LIMITS } from '../../server/limits.js';
import { readTokenFile } from '../../server/token-file.js';
import { checkCorsOrigins } from '../../server/cors.js';
import { checkAllowedHosts } from '../../server/host-check.js';
import { checkExposure, isLoopbackHost } from '../../server/exposure.js';
import { intOption, optionalNumber } from '../options.js';
import { checkFlagFile, checkFlagFolder } from '../flag-paths.js';
import { getBackend } from '../../tensor/backends.js';

interface ServeOptions {
  store?: string; search: string; root?: string; host: string; port: string; maxK: string; uploadMb: string; bodyMb: string; log?: boolean; json?: boolean;
  tokenFile?: string; insecure?: boolean; corsOrigin?: string[]; allowedHosts?: string[]; rateLimit: string; threads?: string;
  headersTimeout: string; requestTimeout: string; keepAliveTimeout: string;
}

/** Requests per minute per client of `cmhash serve` unless --rate-limit says otherwise: room for
 * a busy search page (a search plus its thumbnails is ~20 requests) and scripted clients, while a
 * runaway loop is slowed. The library default is off (rate-limit.ts). */
export const SERVE_RATE_LIMIT = 3000;

/** `--allowed-hosts a,b --allowed-hosts c` → [a, b, c]. */
const commaList = (v: string, previous: string[] = []): string[] => [...previous, ...v.split(',').map((s) => s.trim()).filter(Boolean)];

const seconds = (v: string, name: string): number => Math.round(optionalNumber(v, name, 0.01, 3600)! * 1000);

export function register(program: Command): void {
  program.command('serve')
    .description('serve collections over HTTP: search API, session updates as jobs, search page at /, /metrics, /openapi.json')
    .argument('[dirs...]', 'collection directories (each becomes a collection named by its collection.json)')
    .option('--root <dir>', 'also serve every collection directory directly under this folder')
    .option('--store <url>', 'also serve every collection of this PostgreSQL database (postgresql://user@host:port/db; default $CMHASH_STORE), kept in step with other replicas on it')
    .option('--search <where>', 'with --store: memory (load the codes, search in process; default) | server (search in PostgreSQL: nothing loaded, slower per query)', 'memory')
    .option('--host <host>', 'address to listen on (default loopback only; any other address needs --token-file or --insecure)', '127.0.0.1')
    .option('--port <port>', 'port', '8080')
    .option('--token-file <file>', 'access tokens, lines "read TOKEN" / "write TOKEN" (default: $CMHASH_TOKEN_FILE); without it every route is open')
    .option('--insecure', 'allow a non-loopback --host without access tokens')
    .option('--cors-origin <origin...>', 'browser origins allowed to call the API (CORS), e.g. https://app.example.com; default none')
    .option('--allowed-hosts <names>', 'Host header names to answer besides localhost and IP addresses, comma-separated (DNS rebinding guard; on a non-loopback --host, giving any turns the check on)', commaList)
    .option('--rate-limit <n>', 'requests per minute per client address (429 beyond; 0 = off)', String(SERVE_RATE_LIMIT))
    .option('--headers-timeout <s>', 'seconds a client has to send the request headers', String(DEFAULT_LIMITS.headersTimeoutMs / 1000))
    .option('--request-timeout <s>', 'seconds for a whole request (headers and body)', String(DEFAULT_LIMITS.requestTimeoutMs / 1000))
    .option('--keep-alive-timeout <s>', 'seconds an idle keep-alive connection stays open', String(DEFAULT_LIMITS.keepAliveTimeoutMs / 1000))
    .option('--max-k <n>', 'largest k a search may ask for', String(DEFAULT_LIMITS.maxK))
    .option('--upload-mb <n>', 'largest uploaded image (MiB)', String(DEFAULT_LIMITS.uploadBytes >> 20))
    .option('--body-mb <n>', 'largest JSON body of item additions / session updates (MiB)', String(DEFAULT_LIMITS.itemsBodyBytes >> 20))
    .option('--threads <n>', 'kernel threads shared by searches and session training (default: $CMHASH_THREADS or the number of cores; on 2 cores, 1 keeps a core for each)')
    .option('--log', 'log every request (JSON lines on stdout)')
    .option('--json', 'print {"url","local_url","collections"} as one JSON line once listening')
    .addHelpText('after', `
Examples:
  cmhash serve cmhash-demo/synthetic
  cmhash serve --root collections --host 0.0.0.0 --port 9000 --token-file tokens.txt
  curl -s localhost:8080/api/collections/synthetic/search -H 'content-type: application/json' \\
       -d '{"modality":"text","query":{"text":"w1 w7"},"k":5}'
Token file (docs/access-control.md): "read TOKEN" or "write TOKEN" per line, tokens ≥ 16 characters;
send them as "Authorization: Bearer TOKEN".`)
    .action(async (dirs: string[], o: ServeOptions) => {
      const out = new Output(!!o.json);
      // everything that can be refused is checked before collections are opened
      const tokenFile = o.tokenFile ?? (process.env.CMHASH_TOKEN_FILE || undefined);
      const tokens = tokenFile ? readTokenFile(checkFlagFile(o.tokenFile ? '--token-file' : '$CMHASH_TOKEN_FILE', tokenFile)) : [];
      checkExposure(o.host, tokens.length > 0, !!o.insecure);
      const corsOrigins = checkCorsOrigins(o.corsOrigin ?? []);
      const allowedHosts = checkAllowedHosts(o.allowedHosts ?? []);
      if (o.threads !== undefined) getBackend().setThreads(intOption(o.threads, 'threads', 1));
      const limits = {
        maxK: intOption(o.maxK, 'max-k', 1, 100_000), uploadBytes: intOption(o.uploadMb, 'upload-mb', 1, 1024) << 20, itemsBodyBytes: intOption(o.bodyMb, 'body-mb', 1, 2048) << 20,
        rateLimitPerMinute: intOption(o.rateLimit, 'rate-limit', 0, 10_000_000),
        headersTimeoutMs: seconds(o.headersTimeout, 'headers-timeout'), requestTimeoutMs: seconds(o.requestTimeout, 'request-timeout'), keepAliveTimeoutMs: seconds(o.keepAliveTimeout, 'keep-alive-timeout'),
      };
      if (limits.headersTimeoutMs > limits.requestTimeoutMs) throw new InputError(`--headers-timeout (${o.headersTimeout} s) must not exceed --request-timeout (${o.requestTimeout} s)`);
      const pgUrl = storeUrl(o);
      if (o.search !== 'memory' && o.search !== 'server') throw new InputError(`--search: expected memory or server, got ${JSON.stringify(o.search)}`);
      if (o.search === 'server' && !pgUrl) throw new InputError('--search server needs --store postgresql://… (codes in a directory are always searched in process)');
      const searchWhere = o.search;
      if (o.root !== undefined) checkFlagFolder('--root', o.root);
      const registry = new CollectionRegistry();
      try {
        for (const d of dirs) registry.openDir(d);
        if (o.root) registry.openRoot(o.root);
        if (pgUrl) registry.openStore(pgUrl, { search: searchWhere });
      } catch (e) { registry.close(); throw e; }
      if (registry.list().length === 0) { registry.close(); throw new InputError('no collections to serve: give collection directories, --root <dir> or --store <url> with collections in it (build one with cmhash demo)'); }
      const jobs = new JobManager();
      const onError = (m: string): void => { process.stderr.write(`${m}\n`); };
      const sync = pgUrl ? await ReplicaSync.start(pgUrl, registry, { onError }) : null;
      const durableJobs = pgUrl ? new DurableSessionJobs(pgUrl, registry, jobs, sessionJobRunner(jobs.trainInWorker), { onError }).start() : null;
      const started = await startService({ durableJobs,
        collections: registry, jobs, host: o.host, port: intOption(o.port, 'port', 0, 65535), logger: !!o.log, tokens, corsOrigins, allowedHosts, limits,
      });
      const names = registry.list().map((c) => c.name);
      out.record({ url: started.url, local_url: started.localUrl, collections: names, tokens: { read: tokens.filter((t) => t.scope === 'read').length, write: tokens.filter((t) => t.scope === 'write').length } });
      for (const c of registry.list()) {
        const i = c.info();
        out.text(`${c.name}: ${i.items} items, ${i.bits}-bit codes, model version ${i.model_version ?? 'none'} (${i.method ?? 'codes only'})`);
      }
      const where = started.allInterfaces ? `all interfaces (bound to ${started.url.slice(7)}); from this machine ${started.localUrl}` : started.url;
      out.text(`listening on ${where} — search page ${started.localUrl}/?collection=${encodeURIComponent(names[0]!)}, API ${started.localUrl}/openapi.json`);
      out.text(tokens.length > 0
        ? `access tokens: ${tokens.length} from ${tokenFile} (send "Authorization: Bearer <token>")`
        : !isLoopbackHost(started.host) ? 'WARNING: no access tokens (--insecure): every route is open to whoever can reach this address' : 'no access tokens: every route is open (loopback only)');
      await untilSignal(started, { jobsIdle: () => jobs.idle(), onStop: async () => { await durableJobs?.stop(); await sync?.stop(); registry.close(); } });
    });
}
