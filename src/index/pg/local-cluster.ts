// A throwaway PostgreSQL cluster on a loopback port: what the tests and `cmhash bench store` run
// the PostgreSQL backend against. initdb + pg_ctl from the installed server (Debian's
// postgresql-15 puts them under /usr/lib/postgresql/<major>/bin); PostgreSQL refuses to run as
// root, so as root the cluster belongs to the `postgres` user. Trust authentication on 127.0.0.1
// only: the cluster is for this machine's tests, never a deployment.
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface LocalCluster {
  /** postgresql://cmhash@127.0.0.1:<port>/cmhash */
  url: string;
  port: number;
  dir: string;
  /** Stops the server (fast shutdown) and, unless `keep`, deletes its files. */
  stop(opts?: { keep?: boolean }): void;
  /** Stops with immediate shutdown (like a crash) and starts again on the same port. */
  restart(mode?: 'fast' | 'immediate'): void;
}

/** The folder holding initdb and pg_ctl ($CMHASH_PG_BIN, else the newest /usr/lib/postgresql/N/bin), or null. */
export function postgresBinDir(): string | null {
  const env = process.env.CMHASH_PG_BIN;
  if (env) return existsSync(join(env, 'initdb')) ? env : null;
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const majors = readdirSync(root).filter((d) => /^\d+$/.test(d)).map(Number).sort((a, b) => b - a);
  for (const m of majors) {
    const bin = join(root, String(m), 'bin');
    if (existsSync(join(bin, 'initdb')) && existsSync(join(bin, 'pg_ctl'))) return bin;
  }
  return null;
}

/** Why a local cluster cannot be started here (null when it can). */
export function localClusterUnavailable(): string | null {
  if (!postgresBinDir()) return 'PostgreSQL server binaries not found (apt install postgresql-15, or set CMHASH_PG_BIN)';
  if (process.getuid?.() === 0) {
    try { execFileSync('id', ['postgres'], { stdio: 'ignore' }); } catch { return 'running as root and there is no postgres user to run the server as'; }
  }
  return null;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function asServerUser(bin: string, args: string[]): void {
  const root = process.getuid?.() === 0;
  const cmd = root ? 'runuser' : bin;
  const argv = root ? ['-u', 'postgres', '--', bin, ...args] : args;
  execFileSync(cmd, argv, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 120_000 });
}

/** Creates and starts a cluster with database `cmhash` owned by superuser `cmhash`. */
export async function startLocalCluster(opts: { settings?: Record<string, string> } = {}): Promise<LocalCluster> {
  const why = localClusterUnavailable();
  if (why) throw new Error(`cannot start a PostgreSQL cluster: ${why}`);
  const bin = postgresBinDir()!;
  const dir = mkdtempSync(join(tmpdir(), 'cmhash-pg-'));
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    chownSync(dir, uid, gid);
  }
  const data = join(dir, 'data');
  asServerUser(join(bin, 'initdb'), ['-D', data, '-U', 'cmhash', '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
  const port = await freePort();
  const settings: Record<string, string> = {
    listen_addresses: "'127.0.0.1'", port: String(port), unix_socket_directories: `'${dir}'`, jit: 'off',
    max_connections: '100', shared_buffers: "'128MB'", fsync: 'on', ...opts.settings,
  };
  writeFileSync(join(dir, 'extra.conf'), Object.entries(settings).map(([k, v]) => `${k} = ${v}`).join('\n') + '\n');
  if (process.getuid?.() === 0) execFileSync('chown', ['postgres', join(dir, 'extra.conf')]);
  execFileSync('sh', ['-c', `echo "include '${join(dir, 'extra.conf')}'" >> '${join(data, 'postgresql.conf')}'`]);
  const start = (): void => asServerUser(join(bin, 'pg_ctl'), ['-D', data, '-l', join(dir, 'server.log'), '-w', '-t', '60', 'start']);
  const stopWith = (mode: string): void => asServerUser(join(bin, 'pg_ctl'), ['-D', data, '-m', mode, '-w', '-t', '60', 'stop']);
  start();
  asServerUser(join(bin, 'createdb'), ['-h', '127.0.0.1', '-p', String(port), '-U', 'cmhash', 'cmhash']);
  let running = true;
  return {
    url: `postgresql://cmhash@127.0.0.1:${port}/cmhash`, port, dir,
    stop(o = {}) {
      if (running) { try { stopWith('fast'); } catch { /* already down */ } running = false; }
      if (!o.keep) rmSync(dir, { recursive: true, force: true });
    },
    restart(mode = 'immediate') {
      stopWith(mode);
      start();
    },
  };
}
