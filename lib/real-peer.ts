// SPDX-License-Identifier: MIT
// getRealPeer: the module's answer for a connection, asked once and kept.
//
// The answer is kept under each object passed on the way to the socket and
// under the innermost native handle (lib/connection.ts), so that a connection
// costs one syscall whichever object asks first, and an HTTP/2 request whose
// stream has closed (and so forgot its session) still finds the answer it was
// given while open.

import * as http from 'node:http';
import * as net from 'node:net';
import { constants } from 'node:os';

import { checkConnection, openSocket, route, type Connection, type HandleOwner, type NativeHandle } from './connection.js';
import { noModuleAnswered, currentOptname } from './optname.js';
import { askModule } from './peer-query.js';
import type { Peer } from './peer-record.js';
import { systemError } from './system-error.js';

const { errno } = constants;
const onLinux = process.platform === 'linux';

// Cached answers; `null` is a cached "no client address". A plain net.Socket
// and every native handle keep theirs in a symbol-keyed property of their own,
// as Node keeps its own state on both (owner_symbol): a property store costs
// a fraction of a WeakMap insertion (an entry of an ephemeron table that the
// GC walks). The other holders (TLS sockets, HTTP/2 streams and sessions and
// their socket proxies, requests) are looked up in the WeakMap: a proxy must
// not be written through.
const kRealPeer = Symbol('kgwttm.realPeer');
interface Keeper {
  [kRealPeer]?: Peer | null;
}
const answers = new WeakMap<object, Peer | null>();

// "Module not loaded" answers null like "no option", so a fleet deployed
// without the module would log the load balancer's address for weeks, quietly.
// Said once per process, with a code to filter it by.
let warnedNoModule = false;
function warnNoModule(optname: number): void {
  if (warnedNoModule) return;
  warnedNoModule = true;
  process.emitWarning(
    `the kgwttm kernel module does not answer here (getsockopt(SOL_IP, ${optname}): ENOPROTOOPT): getRealPeer is null for every connection until it is loaded; \`kgwttm doctor\` says why (under the BPF backend on a kernel before 5.18 a connection without a client answers ENOPROTOOPT too: there, \`kgwttm status\` shows whether it is attached)`,
    { type: 'KgwttmWarning', code: 'KGWTTM_NO_MODULE' },
  );
}

// The socket was closed under us: answer null but cache nothing.
const CLOSED = Symbol('closed');

function ask(fd: number): Peer | null | typeof CLOSED {
  const optname = currentOptname();
  const answer = askModule(fd, optname);
  if (typeof answer !== 'number') return answer;
  switch (-answer) {
    case errno.ENOENT: // this connection carried no (trusted) client address
    case errno.EOPNOTSUPP: // not an IP socket (a Unix domain socket)
      return null;
    case errno.ENOPROTOOPT: // no module (yet): a later connection reads its optname again
      noModuleAnswered();
      warnNoModule(optname);
      return null;
    case errno.EBADF:
    case errno.ENOTSOCK:
      return CLOSED;
    default:
      throw systemError(answer, 'getsockopt');
  }
}

function remember(holders: object[], answer: Peer | null): Peer | null {
  for (const holder of holders) answers.set(holder, answer);
  return answer;
}

// The answer kept under a connection's innermost native handle, which every
// object sharing the connection (TLS socket, raw socket, HTTP/2 session)
// reaches: asked once, whichever object comes first.
function handleAnswer(handle: NativeHandle & Keeper, fd: unknown = handle.fd): Peer | null | typeof CLOSED {
  let answer = handle[kRealPeer];
  if (answer === undefined) {
    if (typeof fd !== 'number' || fd < 0) return CLOSED;
    const asked = ask(fd);
    if (asked === CLOSED) return CLOSED;
    handle[kRealPeer] = answer = asked;
  }
  return answer;
}

/**
 * The real client of a connection that came through the load balancer.
 *
 * `null` when the connection carried no client address (`ENOENT`), the module
 * is not loaded (`ENOPROTOOPT`), the socket is closed or not an IP socket, or
 * the platform is not Linux. Throws `TypeError` for anything but a
 * {@link Connection}, and a {@link SystemError} for any other errno. Makes at
 * most one syscall per connection; later calls on the connection return the
 * same object, which is read-only by its type (not frozen: see peer-record.ts).
 */
export function getRealPeer(connection: Connection): Peer | null {
  // The two common first calls skip the general walk, whose allocations and
  // extra cache entries cost more than the syscall in bench/ (the first call
  // is measured against a bare getsockopt): a plain TCP socket (no TLSWrap
  // `_parent`) owns its fd handle and keeps the answer itself; an HTTP/1
  // request asks its socket, which then answers every later request on the
  // connection without an entry of its own (Node never clears `req.socket`).
  // Only checked connections are ever cached: a hit needs no other check.
  if (connection instanceof net.Socket) {
    const socket = connection as net.Socket & Keeper;
    const kept = socket[kRealPeer];
    if (kept !== undefined) return kept;
    const handle = (connection as unknown as HandleOwner)._handle;
    if (handle != null && handle._parent === undefined && onLinux) {
      const answer = handleAnswer(handle);
      if (answer === CLOSED) return null;
      socket[kRealPeer] = answer;
      return answer;
    }
  } else if (connection instanceof http.IncomingMessage && connection.socket instanceof net.Socket) {
    return getRealPeer(connection.socket);
  }
  const cached = answers.get(connection);
  if (cached !== undefined) return cached;
  checkConnection(connection, 'getRealPeer');
  if (!onLinux) return null;
  const { holders, owner } = route(connection);
  for (let i = 0; i < holders.length; i++) {
    const hit = answers.get(holders[i] as object);
    if (hit !== undefined) return remember(holders.slice(0, i), hit);
  }
  const open = owner === undefined ? undefined : openSocket(owner);
  if (open === undefined) return null;
  const answer = handleAnswer(open.handle, open.fd);
  return answer === CLOSED ? null : remember(holders, answer);
}
