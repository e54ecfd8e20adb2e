// SPDX-License-Identifier: MIT
// tls and https servers: the TLS socket is followed to the TCP handle under it,
// so it and its raw socket share one answer and one syscall.

import * as https from 'node:https';
import t from 'tap';

import { getClientPeer, getRealPeer } from '../../lib/index.js';
import { answerWith, countSyscalls, getKeepAlive, listen, selfSigned, tlsPair } from '../lib/node-fixtures.js';

const client = { family: 6, address: '2001:db8::5', port: 443 } as const;
const { key, cert } = selfSigned();

t.test('a tls server: the TLS socket and its raw socket, one answer, one syscall', async (t) => {
  const log = answerWith(t, client);
  const { rawSocket, tlsSocket } = await tlsPair(t);
  const answer = getRealPeer(tlsSocket);
  t.same(answer, { address: '2001:db8::5', port: 443, family: 'IPv6' });
  t.equal(getRealPeer(rawSocket), answer, 'the raw socket shares it');
  t.equal(log.calls.length, 1);
  t.equal(log.calls[0]?.fd, (rawSocket as unknown as { _handle: { fd: number } })._handle.fd, 'on the TCP fd');
});

t.test('an https server answers 10 keep-alive requests with one syscall', async (t) => {
  const log = answerWith(t, client);
  const server = https.createServer({ key, cert }, (req, res) => res.end(JSON.stringify(getRealPeer(req))));
  const port = await listen(t, server);
  const bodies = await getKeepAlive(port, 10, { ca: cert });
  t.same(new Set(bodies), new Set([JSON.stringify({ address: '2001:db8::5', port: 443, family: 'IPv6' })]));
  t.equal(log.calls.length, 1);
});

t.test('an https server without the module logs the socket’s own peer', async (t) => {
  const log = countSyscalls(t);
  const server = https.createServer({ key, cert }, (req, res) => res.end(JSON.stringify(getClientPeer(req))));
  const port = await listen(t, server);
  const [body] = await getKeepAlive(port, 1, { ca: cert });
  t.match(JSON.parse(body ?? ''), { address: '127.0.0.1', family: 'IPv4', source: 'socket' });
  t.equal(log.calls.length, 1);
});
