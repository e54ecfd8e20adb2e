// SPDX-License-Identifier: MIT
// getSocketPeer: a connection's peer as the socket itself reports it
// (getpeername), read through Node's own getters, which trustLoadBalancer
// (lib/remote-address.ts) shadows on the socket but cannot change here; and
// that peer in the form kgwttm reports clients in.

import * as net from 'node:net';

import { checkConnection, route, type Connection } from './connection.js';
import type { Peer } from './peer-record.js';

function nativeGetter(name: 'remoteAddress' | 'remotePort' | 'remoteFamily'): (this: unknown) => unknown {
  const getter = Object.getOwnPropertyDescriptor(net.Socket.prototype, name)?.get;
  if (getter === undefined) throw new Error(`net.Socket.prototype.${name} is not a getter`);
  return getter;
}

const socketGetters = {
  address: nativeGetter('remoteAddress'),
  port: nativeGetter('remotePort'),
  family: nativeGetter('remoteFamily'),
};

/**
 * The connection's peer as the socket itself reports it (getpeername), even on
 * a server passed to `trustLoadBalancer`: the load balancer's address for
 * 6to4 connections; the client for IPv4 clients, which the module already
 * rewrites. `null` when the socket closed before its peer was read.
 */
export function getSocketPeer(connection: Connection): Peer | null {
  checkConnection(connection, 'getSocketPeer');
  const { owner } = route(connection);
  if (owner === undefined) return null;
  try {
    const address = socketGetters.address.call(owner);
    const port = socketGetters.port.call(owner);
    const family = socketGetters.family.call(owner);
    if (typeof address !== 'string' || typeof port !== 'number') return null;
    // Node 18.0–18.3 reported the family as a number.
    return Object.freeze({ address, port, family: family === 'IPv6' || family === 6 ? 'IPv6' : 'IPv4' });
  } catch {
    return null; // the socket proxy of a destroyed HTTP/2 session throws
  }
}

const MAPPED = '::ffff:';

/**
 * A socket's peer in the form every client kgwttm reports takes (getRealPeer,
 * getClientPeer, remoteAddress on a server passed to trustLoadBalancer): an
 * IPv4 client is plain IPv4, family 'IPv4', also on a dual-stack socket, where
 * Node writes it `::ffff:a.b.c.d`. One rule, whether or not the module knew
 * the client; getSocketPeer alone keeps the socket's own form.
 */
export function asClient(peer: Peer): Peer {
  if (peer.family !== 'IPv6' || !peer.address.startsWith(MAPPED)) return peer;
  const ipv4 = peer.address.slice(MAPPED.length);
  return net.isIPv4(ipv4) ? Object.freeze({ address: ipv4, port: peer.port, family: 'IPv4' }) : peer;
}
