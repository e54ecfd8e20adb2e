// SPDX-License-Identifier: MIT
// getClientPeer: never null, for access logs: the module's answer when there
// is one, else the socket's own peer (an IPv4 client as plain IPv4 either
// way), saying which.

import { checkConnection, type Connection } from './connection.js';
import type { Peer } from './peer-record.js';
import { getRealPeer } from './real-peer.js';
import { asClient, getSocketPeer } from './socket-peer.js';

/** What `getClientPeer` returns: a peer, and where it came from. */
export interface ClientPeer extends Peer {
  /**
   * `'module'`: the kernel module's answer (the real client); `'socket'`: the
   * socket's own peer (getpeername); `'unknown'`: neither is known any more (the
   * socket closed before its peer was read), with `address` `''` and `port` 0.
   */
  readonly source: 'module' | 'socket' | 'unknown';
}

const UNKNOWN_PEER: ClientPeer = Object.freeze({ address: '', port: 0, family: 'IPv4', source: 'unknown' });

/**
 * The real client when the module knows it, else the socket's own peer: never
 * null, for access logs. Throws like {@link getRealPeer}.
 */
export function getClientPeer(connection: Connection): ClientPeer {
  checkConnection(connection, 'getClientPeer');
  const real = getRealPeer(connection);
  if (real !== null) return { ...real, source: 'module' };
  const own = getSocketPeer(connection);
  return own !== null ? { ...asClient(own), source: 'socket' } : UNKNOWN_PEER;
}
