// `cmhash serve` guards through bin/cmhash.js: a non-loopback --host without tokens is refused
// (exit 2, one line saying why), a bad token file names its file and line (exit 2), and with a
// token file on 0.0.0.0 the printed URL is the real bind and the API needs the token; names given
// with --allowed-hosts are the only non-IP Host names answered there.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { get } from 'node:http';
import { rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { buildFixture, type Fixture } from '../server/fixture.js';

const BIN = resolve('bin/cmhash.js');
const READ = 'cli-read-token-0123456789';
let fx: Fixture;

before(async () => { fx = await buildFixture('clitok'); fx.collection.close(); });
after(() => rmSync(fx.root, { recursive: true, force: true }));

function cli(args: string[], env: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, CMHASH_TOKEN_FILE: '', ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('serve refuses a non-loopback host without tokens, and bad token files, with exit 2', () => {
  const r = cli(['serve', fx.dir, '--host', '0.0.0.0', '--port', '0']);
  assert.equal(r.status, 2, r.stderr);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /refusing to serve on all network interfaces .*without access tokens.*--token-file.*--insecure/);
  const bad = join(fx.root, 'bad-tokens.txt');
  writeFileSync(bad, `# ok\nread ${READ}\nwrite tooshort\n`);
  const t = cli(['serve', fx.dir, '--port', '0', '--token-file', bad]);
  assert.equal(t.status, 2, t.stderr);
  assert.match(t.stderr, /bad-tokens\.txt:3: the write token has 8 characters; tokens need at least 16/);
  const env = cli(['serve', fx.dir, '--port', '0'], { CMHASH_TOKEN_FILE: bad });
  assert.equal(env.status, 2, 'CMHASH_TOKEN_FILE is read too');
  assert.match(env.stderr, /bad-tokens\.txt:3:/);
  const cors = cli(['serve', fx.dir, '--port', '0', '--cors-origin', 'https://a.example/']);
  assert.equal(cors.status, 2);
  assert.match(cors.stderr, /--cors-origin "https:\/\/a\.example\/": expected an origin/);
  const hosts = cli(['serve', fx.dir, '--port', '0', '--allowed-hosts', 'cmhash.lan,http://a.example']);
  assert.equal(hosts.status, 2);
  assert.match(hosts.stderr, /--allowed-hosts "http:\/\/a\.example": expected a host name/);
});

/** The status of GET url with this Host header (fetch cannot set Host). */
const statusWithHost = (url: string, host: string): Promise<number> => new Promise((res, rej) => {
  get(url, { headers: { host }, agent: false }, (r) => { r.resume(); res(r.statusCode!); }).on('error', rej);
});

test('serve --host 0.0.0.0 --token-file: prints the real bind, the API needs the token; --allowed-hosts turns the Host check on', async () => {
  const file = join(fx.root, 'tokens.txt');
  writeFileSync(file, `read ${READ}\n`);
  const child = spawn(process.execPath, [BIN, 'serve', fx.dir, '--host', '0.0.0.0', '--port', '0', '--token-file', file, '--json', '--allowed-hosts', 'cmhash.lan, photos.example', '--allowed-hosts', 'other.example'], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const line = await new Promise<string>((res, rej) => {
      let buf = '';
      child.stdout.on('data', (d) => { buf += d; if (buf.includes('\n')) res(buf.split('\n')[0]!); });
      child.on('exit', (code) => rej(new Error(`serve exited ${code}`)));
      setTimeout(() => rej(new Error('serve did not start')), 20_000).unref();
    });
    const rec = JSON.parse(line) as { url: string; local_url: string; tokens: { read: number; write: number } };
    assert.match(rec.url, /^http:\/\/0\.0\.0\.0:\d+$/);
    assert.equal(rec.local_url, rec.url.replace('0.0.0.0', '127.0.0.1'));
    assert.deepEqual(rec.tokens, { read: 1, write: 0 });
    assert.equal((await fetch(`${rec.local_url}/api/collections`)).status, 401);
    assert.equal((await fetch(`${rec.local_url}/api/collections`, { headers: { authorization: `Bearer ${READ}` } })).status, 200);
    assert.equal((await fetch(`${rec.local_url}/health`)).status, 200);
    for (const host of ['cmhash.lan', 'photos.example:8080', 'other.example', '10.0.0.1']) assert.equal(await statusWithHost(`${rec.local_url}/health`, host), 200, host);
    assert.equal(await statusWithHost(`${rec.local_url}/health`, 'evil.example'), 421);
    const code = await new Promise<number | null>((res) => { child.on('exit', res); child.kill('SIGTERM'); });
    assert.equal(code, 0);
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
});

test('demo refuses a non-loopback host before any work (it serves without tokens) unless --insecure', () => {
  const r = cli(['demo', '--host', '0.0.0.0', '--dir', join(tmpdir(), `cmhash-demo-refused-${process.pid}`)]);
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /refusing to serve the demo on 0\.0\.0\.0 .*--insecure.*cmhash serve <dir> --host 0\.0\.0\.0 --token-file/);
  assert.doesNotMatch(r.stdout, /session/); // nothing was trained
});
