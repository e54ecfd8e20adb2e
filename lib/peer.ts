// The real client of a connection, from whatever object a server hands out.
//
// Design: every kind of server object (request, stream, session, TLS socket)
// is followed down to the native TCP handle that owns the fd; the fd is read
// there and given to the addon in the same tick, so it cannot have been closed
// and reused in between. The answer is cached in a WeakMap under each object
// passed on the way and under the innermost native handle, which TLS sockets,
// their raw sockets and HTTP/2 session sockets share: one syscall per
// connection whichever object asks first, and an HTTP/2 request whose stream
// has closed (and so forgot its session) still finds the answer it was given
// while open. Nothing is ever keyed by fd number: the kernel reuses fds at once.

import * as http from 'node:http';
import * as http2 from 'node:http2';
import * as net from 'node:net';
import { constants } from 'node:os';
import { Duplex } from 'node:stream';
import { EventEmitter } from 'node:events';
import { getSystemErrorMap } from 'node:util';

import { binding } from './binding.js';
import { decodePeerRecord, PEER_RECORD_BYTES } from './peer-record.js';
import { loadedModuleOptname } from './module-status.js';

export type Family = 'IPv4' | 'IPv6';

/** A peer address, as `net.Socket` reports its own (`remoteAddress`, `remotePort`, `remoteFamily`). */
export interface Peer {
  readonly address: string;
  readonly port: number;
  readonly family: Family;
}

/** What `getClientPeer` returns: a peer, and where it came from. */
export interface ClientPeer extends Peer {
  /**
   * `'module'`: the kernel module's answer (the real client); `'socket'`: the
   * socket's own peer (getpeername); `'unknown'`: neither is known any more (the
   * socket closed before its peer was read), with `address` `''` and `port` 0.
   */
  readonly source: 'module' | 'socket' | 'unknown';
}

/** Every object `getRealPeer` accepts. `tls.TLSSocket` is a `net.Socket`. */
export type Connection =
  | net.Socket
  | http.IncomingMessage
  | http2.Http2ServerRequest
  | http2.ServerHttp2Stream
  | http2.Http2Session;

/** The error thrown for an unexpected errno, shaped like Node's own system errors. */
export interface SystemError extends Error {
  /** The errno's name, e.g. `'EACCES'`. */
  code: string;
  /** Negative, as in Node's system errors: `util.getSystemErrorName(err.errno) === err.code`. */
  errno: number;
  syscall: 'getsockopt';
}

// The private shapes of Node's native handles that the fd lookup relies on:
// a stream handle (TCP, Pipe) has `fd`; a TLSWrap has `_parent`, the handle it
// encrypts, down to the TCP handle.
interface NativeHandle {
  readonly fd?: unknown;
  readonly _parent?: NativeHandle | null;
}

interface HandleOwner {
  readonly _handle?: NativeHandle | null;
}

// Cached answers; `null` is a cached "no client address".
const answers = new WeakMap<object, Peer | null>();

// HTTP/2 streams whose session trustLoadBalancer saw: a closed stream forgets it.
const streamSessions = new WeakMap<http2.ServerHttp2Stream, http2.Http2Session>();

let optnameOverride: number | undefined;
let moduleOptname: number | undefined;
// Without the module every new connection answers ENOPROTOOPT: reading sysfs
// again for each would put a failing file read on every accept, so a module
// loaded since is looked for at most once a second.
const OPTNAME_REREAD_MS = 1000;
let moduleOptnameReadAt = 0;

function currentOptname(): number {
  if (optnameOverride !== undefined) return optnameOverride;
  if (moduleOptname === undefined) {
    moduleOptname = loadedModuleOptname();
    moduleOptnameReadAt = Date.now();
  }
  return moduleOptname;
}

const { errno } = constants;
const onLinux = process.platform === 'linux';

// Node exports neither class; these are the members that set them apart.
function isHttp2Stream(x: object): x is http2.ServerHttp2Stream {
  return x instanceof Duplex && 'rstCode' in x && 'session' in x;
}

function isHttp2Session(x: object): x is http2.Http2Session {
  return x instanceof EventEmitter && 'alpnProtocol' in x && typeof (x as { goaway?: unknown }).goaway === 'function';
}

function isConnection(x: unknown): x is Connection {
  return (
    typeof x === 'object' &&
    x !== null &&
    (x instanceof net.Socket ||
      x instanceof http.IncomingMessage ||
      x instanceof http2.Http2ServerRequest ||
      isHttp2Stream(x) ||
      isHttp2Session(x))
  );
}

function checkConnection(x: unknown, caller: string): asserts x is Connection {
  if (!isConnection(x))
    throw new TypeError(
      `${caller}: expected a net.Socket, tls.TLSSocket, http.IncomingMessage, Http2ServerRequest, ` +
        `ServerHttp2Stream or Http2Session, got ${x === null ? 'null' : typeof x}`,
    );
}

interface Route {
  /** The objects passed from the caller's down to the socket, each a cache key. */
  holders: object[];
  /** The socket (for HTTP/2: the session's socket proxy) that owns the handle, if still reachable. */
  owner: HandleOwner | undefined;
}

function route(x: Connection): Route {
  const holders: object[] = [];
  let at: object | undefined = x;
  while (at !== undefined) {
    holders.push(at);
    if (at instanceof net.Socket) return { holders, owner: at as unknown as HandleOwner };
    if (at instanceof http.IncomingMessage) at = at.socket ?? undefined;
    else if (at instanceof http2.Http2ServerRequest) at = at.stream;
    else if (isHttp2Stream(at)) at = at.session ?? streamSessions.get(at);
    else if (isHttp2Session(at)) return { holders, owner: at.socket as unknown as HandleOwner | undefined };
    else break;
  }
  return { holders, owner: undefined };
}

interface OpenSocket {
  fd: number;
  /** The innermost native handle: the connection's identity while it is open. */
  handle: NativeHandle;
}

function openSocket(owner: HandleOwner): OpenSocket | undefined {
  let handle: NativeHandle | null | undefined;
  try {
    handle = owner._handle;
  } catch {
    return undefined; // the socket proxy of a destroyed HTTP/2 session throws
  }
  let fd = -1;
  let innermost: NativeHandle | undefined;
  for (let h = handle; h; h = h._parent) {
    innermost = h;
    if (fd < 0 && typeof h.fd === 'number' && h.fd >= 0) fd = h.fd;
  }
  return innermost !== undefined && fd >= 0 ? { fd, handle: innermost } : undefined;
}

function systemError(positiveErrno: number): SystemError {
  const [name, description] = getSystemErrorMap().get(-positiveErrno) ?? ['UNKNOWN', `unknown error ${positiveErrno}`];
  const error = new Error(`${name}: ${description}, getsockopt`) as SystemError;
  error.code = name;
  error.errno = -positiveErrno;
  error.syscall = 'getsockopt';
  return error;
}

// One record for every call: getsockopt fills it, decodePeerRecord reads it
// in the same tick.
const record = new Uint8Array(PEER_RECORD_BYTES);

// The socket was closed under us: answer null but cache nothing.
const CLOSED = Symbol('closed');

function ask(fd: number): Peer | null | typeof CLOSED {
  const result = binding().getPeer(fd, currentOptname(), record);
  if (result === 0) {
    const peer = decodePeerRecord(record);
    if (peer === null) throw systemError(errno.EPROTO); // something else answered this optname
    return peer;
  }
  switch (result) {
    case errno.ENOENT: // this connection carried no (trusted) client address
    case errno.EOPNOTSUPP: // not an IP socket (a Unix domain socket)
      return null;
    case errno.ENOPROTOOPT: // no module (yet): a later connection reads its optname again
      if (Date.now() - moduleOptnameReadAt >= OPTNAME_REREAD_MS) moduleOptname = undefined;
      return null;
    case errno.EBADF:
    case errno.ENOTSOCK:
      return CLOSED;
    default:
      throw systemError(result);
  }
}

function remember(holders: object[], answer: Peer | null): Peer | null {
  for (const holder of holders) answers.set(holder, answer);
  return answer;
}

// The answer kept under a connection's innermost native handle, which every
// object sharing the connection (TLS socket, raw socket, HTTP/2 session)
// reaches: asked once, whichever object comes first.
function handleAnswer(handle: NativeHandle, fd: unknown = handle.fd): Peer | null | typeof CLOSED {
  let answer = answers.get(handle);
  if (answer === undefined) {
    if (typeof fd !== 'number' || fd < 0) return CLOSED;
    const asked = ask(fd);
    if (asked === CLOSED) return CLOSED;
    answers.set(handle, (answer = asked));
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
 * most one syscall per connection; the returned object is frozen and shared.
 */
export function getRealPeer(connection: Connection): Peer | null {
  // Only checked connections are ever cached: a hit needs no other check.
  const cached = answers.get(connection);
  if (cached !== undefined) return cached;
  // The two common first calls skip the general walk, whose allocations and
  // extra cache entries cost more than the syscall in bench/ (the first call
  // is measured against a bare getsockopt): a plain TCP socket (no TLSWrap
  // `_parent`) owns its fd handle; an HTTP/1 request asks its socket, which
  // then answers every later request on the connection without an entry of
  // its own (Node never clears `req.socket`).
  if (connection instanceof net.Socket) {
    const handle = (connection as unknown as HandleOwner)._handle;
    if (handle != null && handle._parent === undefined && onLinux) {
      const answer = handleAnswer(handle);
      if (answer === CLOSED) return null;
      answers.set(connection, answer);
      return answer;
    }
  } else if (connection instanceof http.IncomingMessage && connection.socket instanceof net.Socket) {
    return getRealPeer(connection.socket);
  }
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

// Node's own getters, which report what getpeername says even where
// trustLoadBalancer has shadowed them on the socket.
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
  return own !== null ? { ...own, source: 'socket' } : UNKNOWN_PEER;
}

/**
 * Lets an HTTP/2 stream find its session after it closed (a closed stream
 * forgets its session). trustLoadBalancer calls it for every new stream.
 */
export function rememberStreamSession(stream: http2.ServerHttp2Stream): void {
  const { session } = stream;
  if (session !== undefined) streamSessions.set(stream, session);
}

/**
 * Sets the optname to ask the module on; `undefined` returns to the default:
 * the loaded module's `optname` parameter (read from sysfs once, and again
 * after an `ENOPROTOOPT`, at most once a second), else 1345.
 */
export function setOptname(optname: number | undefined): void {
  if (optname !== undefined && !(Number.isInteger(optname) && optname > 0 && optname <= 0x7fffffff))
    throw new TypeError(`setOptname: expected a positive 32-bit integer or undefined, got ${String(optname)}`);
  optnameOverride = optname;
  moduleOptname = undefined;
}
