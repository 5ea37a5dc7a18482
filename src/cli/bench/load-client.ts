// The HTTP load generator of the service benchmarks (bench serve, bench store): autocannon in a
// child process — this file, forked with a marker argument — so the load generator and the
// service are scheduled as two processes. One job in, its result (plus the client's CPU time) back.
//
// autocannon is a dev dependency (nothing else uses it): it is imported only when a benchmark
// runs, and when it is not installed the command stops at once with one line saying how to get it.
import type autocannonModule from 'autocannon';
import { fork } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CmhashError } from '../../util/errors.js';

const CLIENT_FLAG = '--cmhash-load-client';

export interface LoadJob {
  /** Base URLs of the services; with several, autocannon spreads the connections over them. */
  urls: string[];
  path: string;
  connections: number;
  pipelining?: number;
  duration: number;
  /** JSON bodies POSTed in turn. */
  bodies: string[];
  /** Requests per URL before the clock starts (JIT and connections warm). */
  warmup: number;
}

export type LoadResult = autocannonModule.Result & { cpuMs: number };

/** The load generator, imported on demand; a one-line error saying how to install it when absent. */
export async function loadAutocannon(command = 'this benchmark'): Promise<typeof autocannonModule> {
  try {
    return (await import('autocannon')).default;
  } catch (e) {
    const err = e as { code?: string; message: string };
    if (err.code === 'ERR_MODULE_NOT_FOUND' && /['"]autocannon['"]/.test(err.message)) {
      throw new CmhashError(`${command} needs the load generator autocannon, which is not installed (it is a dev dependency): npm install --no-save autocannon`);
    }
    throw e;
  }
}

/** Runs one load job in a child process and returns autocannon's result. */
export function runLoadInChild(job: LoadJob): Promise<LoadResult> {
  return new Promise((res, rej) => {
    const child = fork(fileURLToPath(import.meta.url), [CLIENT_FLAG], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], execArgv: [] });
    let result: LoadResult | null = null;
    child.on('message', (m) => { result = m as LoadResult; });
    child.on('error', rej);
    child.on('exit', (code) => (result ? res(result) : rej(new Error(`load generator exited with code ${code} and no result`))));
    child.send(job);
  });
}

async function clientMain(): Promise<void> {
  const autocannon = await loadAutocannon();
  const job = await new Promise<LoadJob>((r) => process.once('message', (m) => r(m as LoadJob)));
  const headers = { 'content-type': 'application/json' };
  for (const url of job.urls) await autocannon({ url: url + job.path, connections: 2, amount: job.warmup, method: 'POST', headers, body: job.bodies[0] });
  const cpu0 = process.cpuUsage();
  const result = await autocannon({
    // several URLs: autocannon spreads the connections over them (its README); the types say one
    url: (job.urls.length === 1 ? job.urls[0]! : job.urls) as string, connections: job.connections, duration: job.duration,
    ...(job.pipelining ? { pipelining: job.pipelining } : {}),
    requests: job.bodies.map((body) => ({ method: 'POST' as const, path: job.path, headers, body })),
  });
  const cpu = process.cpuUsage(cpu0);
  process.send!({ ...result, cpuMs: (cpu.user + cpu.system) / 1000 }, () => process.exit(0));
}

if (process.argv[2] === CLIENT_FLAG && process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  clientMain().catch((e) => { console.error(e); process.exit(1); });
}
