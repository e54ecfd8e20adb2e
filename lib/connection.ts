// SPDX-License-Identifier: MIT
// From whatever object a server hands out to the fd of its TCP socket.
//
// Every kind of server object (request, stream, session, TLS socket) is
// followed down to the native TCP handle that owns the fd. The fd is only
// ever read here and handed to a syscall in the same tick, so it cannot have
// been closed and reused in between; nothing is keyed by fd number (the
// kernel reuses fds at once). The innermost native handle, which TLS sockets,
// their raw sockets and HTTP/2 session sockets share, is the connection's
// identity while it is open: lib/real-peer.ts caches its answer there.

import * as http from 'node:http';
import * as http2 from 'node:http2';
import * as net from 'node:net';
import { EventEmitter } from 'node:events';
import { Duplex } from 'node:stream';

import { rememberedSession } from './stream-sessions.js';

/** Every object `getRealPeer` accepts. `tls.TLSSocket` is a `net.Socket`. */
export type Connection =
  | net.Socket
  | http.IncomingMessage
  | http2.Http2ServerRequest
  | http2.ServerHttp2Stream
  | http2.Http2Session;

// The private shapes of Node's native handles that the fd lookup relies on:
// a stream handle (TCP, Pipe) has `fd`; a TLSWrap has `_parent`, the handle it
// encrypts, down to the TCP handle.
export interface NativeHandle {
  readonly fd?: unknown;
  readonly _parent?: NativeHandle | null;
}

export interface HandleOwner {
  readonly _handle?: NativeHandle | null;
}

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

/** Throws the API's TypeError, naming `caller`, unless `x` is a {@link Connection}. */
export function checkConnection(x: unknown, caller: string): asserts x is Connection {
  if (!isConnection(x))
    throw new TypeError(
      `${caller}: expected a net.Socket, tls.TLSSocket, http.IncomingMessage, Http2ServerRequest, ` +
        `ServerHttp2Stream or Http2Session, got ${x === null ? 'null' : typeof x}`,
    );
}

export interface Route {
  /** The objects passed from the caller's down to the socket, each a cache key. */
  holders: object[];
  /** The socket (for HTTP/2: the session's socket proxy) that owns the handle, if still reachable. */
  owner: HandleOwner | undefined;
}

/** The way from a checked connection down to the socket that owns its handle. */
export function route(x: Connection): Route {
  const holders: object[] = [];
  let at: object | undefined = x;
  while (at !== undefined) {
    holders.push(at);
    if (at instanceof net.Socket) return { holders, owner: at as unknown as HandleOwner };
    if (at instanceof http.IncomingMessage) at = at.socket ?? undefined;
    else if (at instanceof http2.Http2ServerRequest) at = at.stream;
    else if (isHttp2Stream(at)) at = at.session ?? rememberedSession(at);
    else if (isHttp2Session(at)) return { holders, owner: at.socket as unknown as HandleOwner | undefined };
    else break;
  }
  return { holders, owner: undefined };
}

export interface OpenSocket {
  fd: number;
  /** The innermost native handle: the connection's identity while it is open. */
  handle: NativeHandle;
}

/** The fd and innermost handle of an open socket; undefined once it has closed. */
export function openSocket(owner: HandleOwner): OpenSocket | undefined {
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
