// DNS rebinding: a page on evil.example can point its own name at 127.0.0.1 and then call this
// service as if it were same-origin — reading answers and sending writes. The browser still sends
// `Host: evil.example`, so a service bound to loopback answers only Host names that cannot be
// rebound: localhost, IP addresses (127.x.x.x, [::1], …: a rebinding needs a name), and the names
// the operator listed (`serve --allowed-hosts`), with any port. Bound to another address the Host
// is not checked unless names were listed (such a bind needs tokens anyway: exposure.ts).
// A refused Host gets 421 Misdirected Request with the usual JSON error body.
import { isIP } from 'node:net';
import type { Server } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { InputError } from '../util/errors.js';
import { isLoopbackHost } from './exposure.js';

const NAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

/** Checks `--allowed-hosts` entries: host names or IP addresses, no scheme, port or "*"; lower-cased. */
export function checkAllowedHosts(hosts: readonly string[]): string[] {
  return hosts.map((h) => {
    const name = h.trim().toLowerCase();
    const ip = name.replace(/^\[(.*)\]$/, '$1');
    if (isIP(ip) === 6) return `[${ip}]`; // as it appears in a Host header
    if (isIP(ip) === 4 || NAME.test(name)) return name;
    throw new InputError(`--allowed-hosts ${JSON.stringify(h)}: expected a host name like cmhash.example.com or an IP address (no scheme, no port, no "*")`);
  });
}

/** The host part of a Host header ("name", "name:port", "[v6]:port"), lower-cased; null when malformed. */
export function hostName(header: string | undefined): string | null {
  const m = /^(\[[0-9a-f:.]+\]|[^\s:[\]/\\@?#]+)(?::\d{0,5})?$/i.exec(header ?? '');
  return m ? m[1]!.toLowerCase() : null;
}

/** Whether a Host name is answered: localhost, an IP address, or one of the allowed names. */
export function hostAccepted(name: string, allowed: ReadonlySet<string>): boolean {
  if (name === 'localhost' || allowed.has(name)) return true;
  return name.startsWith('[') ? isIP(name.slice(1, -1)) === 6 : isIP(name) === 4;
}

/** The refusal message for a request's Host header, or null when it is answered. */
export function hostRefusal(header: string | undefined, allowed: ReadonlySet<string>): string | null {
  const name = hostName(header);
  if (name !== null && hostAccepted(name, allowed)) return null;
  const got = header === undefined ? 'no Host header' : `Host ${JSON.stringify(header)}`;
  // the listed names are not spelled out: a rebound page can read this answer
  const names = allowed.size > 0 ? 'localhost, IP addresses and its --allowed-hosts names' : 'localhost and IP addresses';
  return `Host header refused: got ${got}; this service answers ${names} (add names with serve --allowed-hosts)`;
}

/** True when bound to loopback, false for another address or a socket path, null while not listening. */
function boundToLoopback(server: Server): boolean | null {
  const a = server.address();
  if (a === null) return null;
  return typeof a === 'object' && isLoopbackHost(a.address);
}

/** Adds the Host check as an onRequest hook on every route (call before any route is registered). */
export function registerHostCheck(app: FastifyInstance, allowedHosts: readonly string[]): void {
  const allowed = new Set(allowedHosts);
  let loopback: boolean | null = null;
  app.addHook('onRequest', async (req, reply) => {
    // not listening yet means app.inject() (tests, tools): checked like a loopback bind
    loopback ??= boundToLoopback(app.server);
    if (allowed.size === 0 && loopback === false) return;
    const refusal = hostRefusal(req.headers.host, allowed);
    if (refusal) return reply.status(421).send({ statusCode: 421, error: 'Misdirected Request', message: refusal });
  });
}
