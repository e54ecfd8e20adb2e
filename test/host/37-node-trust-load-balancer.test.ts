// SPDX-License-Identifier: MIT
// trustLoadBalancer(server): existing code that reads socket.remoteAddress
// (Express req.ip, loggers) sees the real client; getSocketPeer still sees
// the socket's own peer.

import { once } from 'node:events';
import * as http from 'node:http';
import * as http2 from 'node:http2';
import * as https from 'node:https';
import * as net from 'node:net';
import { constants } from 'node:os';
import express from 'express';
import t from 'tap';

import { getSocketPeer, trustLoadBalancer } from '../../lib/index.js';
import {
  answerWith,
  connectPair,
  countSyscalls,
  getKeepAlive,
  http2Requests,
  listen,
  scriptBinding,
  selfSigned,
} from '../lib/node-fixtures.js';

const client = { family: 4, address: '203.0.113.9', port: 51000 } as const;
const { key, cert } = selfSigned();

t.test('a trusted net server: remoteAddress, remotePort, remoteFamily report the client', async (t) => {
  answerWith(t, client);
  const { accepted, client: local } = await connectPair(t, trustLoadBalancer(net.createServer()));
  t.same([accepted.remoteAddress, accepted.remotePort, accepted.remoteFamily], ['203.0.113.9', 51000, 'IPv4']);
  t.same(getSocketPeer(accepted), { address: '127.0.0.1', port: local.localPort, family: 'IPv4' }, 'the socket’s own peer is still there');
});

t.test('nothing is asked until someone reads the address', async (t) => {
  const log = answerWith(t, client);
  const { accepted } = await connectPair(t, trustLoadBalancer(net.createServer()));
  t.equal(log.calls.length, 0);
  void accepted.remoteAddress;
  void accepted.remotePort;
  t.equal(log.calls.length, 1);
});

t.test('an untrusted server keeps reporting the socket’s own peer', async (t) => {
  answerWith(t, client);
  const { accepted } = await connectPair(t, net.createServer());
  t.equal(accepted.remoteAddress, '127.0.0.1');
});

t.test('without the module a trusted server reports the socket’s own peer', async (t) => {
  countSyscalls(t);
  const { accepted } = await connectPair(t, trustLoadBalancer(net.createServer()));
  t.equal(accepted.remoteAddress, '127.0.0.1');
  t.equal(accepted.remoteFamily, 'IPv4');
});

t.test('Express req.ip on a trusted server is the client', async (t) => {
  answerWith(t, client);
  const app = express();
  app.get('/', (req, res) => {
    res.json({ ip: req.ip, port: req.socket.remotePort });
  });
  const port = await listen(t, trustLoadBalancer(http.createServer(app)));
  const [body] = await getKeepAlive(port, 1);
  t.same(JSON.parse(body ?? ''), { ip: '203.0.113.9', port: 51000 });
});

t.test('a trusted https server: req.socket.remoteAddress is the client', async (t) => {
  answerWith(t, client);
  const server = trustLoadBalancer(https.createServer({ key, cert }, (req, res) => res.end(req.socket.remoteAddress)));
  const port = await listen(t, server);
  const [body] = await getKeepAlive(port, 1, { ca: cert });
  t.equal(body, '203.0.113.9');
});

t.test('a trusted HTTP/2 server: req.socket and session.socket report the client', async (t) => {
  answerWith(t, client);
  const server = trustLoadBalancer(http2.createSecureServer({ key, cert }));
  server.on('request', (req, res) =>
    res.end(`${req.socket.remoteAddress} ${req.stream.session?.socket.remoteAddress} ${req.socket.remotePort}`),
  );
  const port = await listen(t, server);
  t.same(await http2Requests(`https://localhost:${port}`, 2, { ca: cert }), [
    '203.0.113.9 203.0.113.9 51000',
    '203.0.113.9 203.0.113.9 51000',
  ]);
});

t.test('an unexpected errno falls back to the socket’s own peer, with one warning', async (t) => {
  scriptBinding(t, () => constants.errno.EACCES);
  const warnings: Error[] = [];
  const onWarning = (warning: Error): void => void warnings.push(warning);
  process.on('warning', onWarning);
  t.teardown(() => process.off('warning', onWarning));
  const server = trustLoadBalancer(net.createServer());
  const port = await listen(t, server);
  for (let i = 0; i < 2; i++) {
    const local = net.connect(port, '127.0.0.1');
    t.teardown(() => local.destroy());
    const [accepted] = (await once(server, 'connection')) as [net.Socket];
    t.equal(accepted.remoteAddress, '127.0.0.1');
  }
  await new Promise((resolve) => setImmediate(resolve));
  t.equal(warnings.length, 1);
  t.match(warnings[0], { name: 'KgwttmWarning', message: /EACCES/ });
});
