// Where the service listens and whether that is safe: a non-loopback address without access
// tokens would let anyone on the network read and change the collections, so `cmhash serve`
// refuses it unless --insecure says that is intended.
import { isIP } from 'node:net';
import { InputError } from '../util/errors.js';

/** 127.0.0.0/8, ::1 (also IPv4-mapped) and "localhost" reach only this machine. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  const v4 = h.startsWith('::ffff:') ? h.slice(7) : h;
  return isIP(v4) === 4 && v4.startsWith('127.');
}

export function checkExposure(host: string, hasTokens: boolean, insecure: boolean): void {
  if (hasTokens || insecure || isLoopbackHost(host)) return;
  const where = host === '0.0.0.0' || host === '::' ? `all network interfaces (--host ${host})` : `--host ${host}, which is not a loopback address`;
  throw new InputError(`refusing to serve on ${where} without access tokens: anyone who can reach it could read and change the collections. Give --token-file <file> (or CMHASH_TOKEN_FILE) with "read TOKEN" / "write TOKEN" lines, or --insecure to serve without tokens anyway`);
}

/** True for the wildcard addresses that bind every interface. */
export function isWildcardHost(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '[::]';
}

/** http://address:port for a bound address (IPv6 in brackets). */
export function urlOf(address: string, port: number): string {
  return `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
}
