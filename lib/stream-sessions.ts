// SPDX-License-Identifier: MIT
// HTTP/2 streams and the session each belonged to.
//
// Node drops a stream's link to its session when the stream closes, so a
// request asked after its stream ended could not reach the socket. Servers
// passed to trustLoadBalancer (lib/remote-address.ts) record every new stream
// here; the handle walk (lib/connection.ts) reads it as a fallback.

import type * as http2 from 'node:http2';

const sessions = new WeakMap<http2.ServerHttp2Stream, http2.Http2Session>();

/** Keeps `stream`'s session for after the stream has closed. */
export function rememberStreamSession(stream: http2.ServerHttp2Stream): void {
  const { session } = stream;
  if (session !== undefined) sessions.set(stream, session);
}

/** The session a closed stream belonged to, if it was remembered. */
export function rememberedSession(stream: http2.ServerHttp2Stream): http2.Http2Session | undefined {
  return sessions.get(stream);
}
