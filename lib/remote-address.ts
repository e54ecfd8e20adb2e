// SPDX-License-Identifier: MIT
// trustLoadBalancer: a server's sockets report the real client in
// `remoteAddress`, `remotePort` and `remoteFamily`.
//
// Express (`req.ip`), Fastify (`request.ip`), proxy-addr and most loggers read
// `socket.remoteAddress`; shadowing the three properties on each socket of one
// server, with getters that ask getRealPeer lazily, makes them all right
// without touching them, and costs nothing for connections whose address
// nobody reads. Whether the module knew the client or not, an IPv4 client
// reads as plain IPv4 (also on a dual-stack socket, where Node would say
// ::ffff:a.b.c.d / IPv6), as getRealPeer reports it: one form per client in
// a log. getSocketPeer still reports the socket's own peer (the load
// balancer, for 6to4). This is the application's opt-in, per server; which
// load balancers the kernel module believes is its own `trusted_nets`.

import * as net from 'node:net';
import * as tls from 'node:tls';
import type * as http2 from 'node:http2';

import type { Peer } from './peer-record.js';
import { getRealPeer } from './real-peer.js';
import { asClient, getSocketPeer } from './socket-peer.js';
import { rememberStreamSession } from './stream-sessions.js';

const overridden = new WeakSet<net.Server>();
// Sockets whose getsockopt failed: asked once, then reported by their own peer.
const failed = new WeakSet<net.Socket>();
let warned = false;

function realPeerOrWarn(socket: net.Socket): Peer | null {
  if (failed.has(socket)) return null;
  try {
    return getRealPeer(socket);
  } catch (error) {
    failed.add(socket);
    // A throwing remoteAddress would break every caller that reads it; say it once.
    if (!warned) {
      warned = true;
      process.emitWarning(`kgwttm: reporting the socket's own peer: ${(error as Error).message}`, 'KgwttmWarning');
    }
    return null;
  }
}

function shadow<K extends keyof Peer>(key: K): PropertyDescriptor {
  return {
    configurable: true,
    enumerable: false,
    get(this: net.Socket): Peer[K] | undefined {
      const peer = realPeerOrWarn(this) ?? getSocketPeer(this);
      return peer === null ? undefined : asClient(peer)[key];
    },
  };
}

const realPeerProperties: PropertyDescriptorMap = {
  remoteAddress: shadow('address'),
  remotePort: shadow('port'),
  remoteFamily: shadow('family'),
};

function reportRealPeer(socket: net.Socket): void {
  Object.defineProperties(socket, realPeerProperties);
}

/**
 * Makes `remoteAddress`, `remotePort` and `remoteFamily` of every connection
 * this server accepts from now on report the real client when the module knows
 * it (else what they reported before). For net, http, https, tls and http2
 * servers; HTTP/2 requests see it through `req.socket` and `session.socket`.
 * Idempotent; returns the server.
 */
export function trustLoadBalancer<S extends net.Server>(server: S): S {
  if (!(server instanceof net.Server))
    throw new TypeError('trustLoadBalancer: expected a net, http, https, tls or http2 server');
  if (overridden.has(server)) return server;
  overridden.add(server);
  // Prepended, so that the socket reports the client before any other listener sees it.
  server.prependListener('connection', reportRealPeer);
  if (server instanceof tls.Server) server.prependListener('secureConnection', reportRealPeer);
  // Only HTTP/2 servers emit 'stream'.
  server.prependListener('stream', (stream: http2.ServerHttp2Stream) => rememberStreamSession(stream));
  return server;
}
