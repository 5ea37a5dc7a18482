// Starting the service for the CLI (`serve`, `demo`): listen, print the URL, stop cleanly on
// SIGINT/SIGTERM (waiting briefly for running jobs so a commit is not cut in half).
import type { FastifyInstance } from 'fastify';
import { buildService, type ServiceOptions } from './app.js';
import { warmNewSpace } from './warm-heap.js';
import { isWildcardHost, urlOf } from './exposure.js';

export interface Started {
  app: FastifyInstance;
  /** The real bound address (http://0.0.0.0:8080 when listening on every interface). */
  url: string;
  /** A URL that reaches the service from this machine (loopback for a wildcard bind, else `url`). */
  localUrl: string;
  /** Bound to every interface (0.0.0.0 or ::). */
  allInterfaces: boolean;
  port: number;
  host: string;
}

export async function startService(o: ServiceOptions & { host: string; port: number; fallbackPort?: boolean }): Promise<Started> {
  warmNewSpace(); // once, before the first upload (warm-heap.ts)
  const app = await buildService(o);
  let port = o.port;
  try {
    await app.listen({ host: o.host, port });
  } catch (e) {
    if ((e as { code?: string }).code !== 'EADDRINUSE' || !o.fallbackPort) { await app.close(); throw e; }
    await app.listen({ host: o.host, port: 0 });
  }
  const addr = app.server.address();
  port = typeof addr === 'object' && addr ? addr.port : port;
  const bound = typeof addr === 'object' && addr ? addr.address : o.host;
  const allInterfaces = isWildcardHost(o.host);
  const url = urlOf(bound, port);
  return { app, url, localUrl: allInterfaces ? urlOf(bound.includes(':') ? '::1' : '127.0.0.1', port) : url, allInterfaces, port, host: o.host };
}

/** Resolves on SIGINT/SIGTERM after closing the service and waiting (up to `graceMs`) for jobs. */
export function untilSignal(s: Started, o: { onStop?: () => void | Promise<void>; jobsIdle?: () => Promise<void>; graceMs?: number }): Promise<void> {
  return new Promise((resolve) => {
    const stop = async () => {
      process.off('SIGINT', stop); process.off('SIGTERM', stop);
      // in-flight requests get 2 s to finish; then keep-alive sockets are cut so close() returns
      const cut = setTimeout(() => s.app.server.closeAllConnections(), 2000);
      await s.app.close();
      clearTimeout(cut);
      if (o.jobsIdle) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([o.jobsIdle(), new Promise((r) => { timer = setTimeout(r, o.graceMs ?? 10_000); })]);
        clearTimeout(timer);
      }
      await o.onStop?.();
      resolve();
    };
    process.on('SIGINT', stop); process.on('SIGTERM', stop);
  });
}
