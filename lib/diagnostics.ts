// SPDX-License-Identifier: MIT
// kgwttm/diagnostics: the pieces under getRealPeer, for tools that check a host
// rather than serve clients (the operator CLI, `kgwttm doctor`, is built on
// these and the main exports only).
//
// getRealPeer gives every "no answer" the same null and caches it; a tool
// needs the errno itself, on a connection of its own, every time it asks.

import { checkConnection, openSocket, route, type Connection } from './connection.js';
import { askModule } from './peer-query.js';
import type { Peer } from './peer-record.js';
import { errnoName } from './system-error.js';

export { loadedModuleOptname } from './module-status.js';
export { systemError, errnoName, type SystemError } from './system-error.js';

/** What one getsockopt(fd, SOL_IP, optname) answered. */
export type PeerQuery =
  /** The module's record, decoded. */
  | { readonly code: 'OK'; readonly errno: 0; readonly peer: Peer }
  /** The errno's name (`'ENOENT'`, `'ENOPROTOOPT'`, …) and its number, negative as in Node's system errors. */
  | { readonly code: string; readonly errno: number; readonly peer: null };

/**
 * The fd of the TCP socket under `connection`, or `null` once it has closed.
 * Use it at once: the kernel gives a closed fd's number to the next socket,
 * so an fd kept across an `await` may name another connection.
 */
export function socketFd(connection: Connection): number | null {
  checkConnection(connection, 'socketFd');
  const { owner } = route(connection);
  return (owner === undefined ? undefined : openSocket(owner))?.fd ?? null;
}

/**
 * One getsockopt(fd, SOL_IP, optname) through the library's addon, uncached:
 * the decoded record, or the errno. `-EPROTO` when an answer was not a
 * kgwttm record. Throws only when the addon does not load.
 */
export function queryPeer(fd: number, optname: number): PeerQuery {
  if (!(Number.isInteger(fd) && fd >= 0)) throw new TypeError(`queryPeer: expected an fd, got ${String(fd)}`);
  if (!(Number.isInteger(optname) && optname > 0 && optname <= 0x7fffffff))
    throw new TypeError(`queryPeer: expected a positive 32-bit optname, got ${String(optname)}`);
  const answer = askModule(fd, optname);
  if (typeof answer !== 'number') return { code: 'OK', errno: 0, peer: answer };
  return { code: errnoName(answer), errno: answer, peer: null };
}
