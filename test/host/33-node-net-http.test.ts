// SPDX-License-Identifier: MIT
// net and http servers: the real peer of each connection, asked once however
// many requests a keep-alive connection carries.

import * as http from 'node:http';
import * as net from 'node:net';
import t from 'tap';

import { getClientPeer, getRealPeer } from '../../lib/index.js';
import { answerWith, connectPair, countSyscalls, getKeepAlive, listen } from '../lib/node-fixtures.js';

const client = { family: 4, address: '203.0.113.9', port: 51000 } as const;

t.test('a net server gets the client the module reports', async (t) => {
  const log = answerWith(t, client);
  const { accepted } = await connectPair(t, net.createServer());
  t.same(getRealPeer(accepted), { address: '203.0.113.9', port: 51000, family: 'IPv4' });
  t.equal(log.calls.length, 1);
  t.equal(log.calls[0]?.fd, (accepted as unknown as { _handle: { fd: number } })._handle.fd, 'asked on the socket’s fd');
});

function peerServer(): http.Server {
  return http.createServer((req, res) => res.end(JSON.stringify(getClientPeer(req))));
}

t.test('an http server answers 20 keep-alive requests with one syscall', async (t) => {
  const log = answerWith(t, client);
  const port = await listen(t, peerServer());
  const bodies = await getKeepAlive(port, 20);
  t.equal(bodies.length, 20);
  for (const body of new Set(bodies))
    t.same(JSON.parse(body), { address: '203.0.113.9', port: 51000, family: 'IPv4', source: 'module' });
  t.equal(log.calls.length, 1, 'one syscall for the connection');
});

t.test('an http server without the module: each connection asked once, the socket’s own peer logged', async (t) => {
  const log = countSyscalls(t);
  const port = await listen(t, peerServer());
  const first = await getKeepAlive(port, 3);
  const second = await getKeepAlive(port, 3);
  for (const body of [...first, ...second]) t.match(JSON.parse(body), { address: '127.0.0.1', source: 'socket' });
  t.equal(log.calls.length, 2, 'two connections, two syscalls');
});

t.test('the request, its socket and the raw socket share one answer', async (t) => {
  const log = answerWith(t, client);
  const server = http.createServer((req, res) => {
    const viaRequest = getRealPeer(req);
    res.end(String(viaRequest === getRealPeer(req.socket)));
  });
  const port = await listen(t, server);
  t.same(await getKeepAlive(port, 2), ['true', 'true']);
  t.equal(log.calls.length, 1);
});
