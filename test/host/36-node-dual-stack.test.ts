// SPDX-License-Identifier: MIT
// A dual-stack listener on `::` serves IPv4 and IPv6 clients; IPv4 clients
// come back as plain IPv4 even when the answer is IPv4-mapped. One rule for
// every client kgwttm reports (getRealPeer, getClientPeer, remoteAddress on a
// trusted server), whether the module knew the client or not; getSocketPeer
// alone keeps the socket's `::ffff:a.b.c.d`.

import * as http from 'node:http';
import * as net from 'node:net';
import t from 'tap';

import { getClientPeer, getRealPeer, getSocketPeer, trustLoadBalancer } from '../../lib/index.js';
import { answerWith, connectPair, connectTo, countSyscalls, getKeepAlive, listen, scriptBinding } from '../lib/node-fixtures.js';

t.test('a :: listener without the module: IPv4 and IPv6 clients answer null, once each', async (t) => {
  const log = countSyscalls(t);
  const server = net.createServer();
  const port = await listen(t, server, '::');
  for (const [host, address, family] of [
    ['127.0.0.1', '::ffff:127.0.0.1', 'IPv6'],
    ['::1', '::1', 'IPv6'],
  ] as const) {
    const { accepted, client } = await connectTo(t, server, port, host);
    t.equal(getRealPeer(accepted), null, `${host}: no real peer`);
    t.same(getSocketPeer(accepted), { address, port: client.localPort, family }, `${host}: the socket’s own peer, as Node reports it`);
  }
  t.equal(log.calls.length, 2);
});

t.test('an IPv4-mapped answer comes back as plain IPv4', async (t) => {
  answerWith(t, { family: 6, address: '::ffff:10.1.2.3', port: 3333 });
  const { accepted } = await connectPair(t, net.createServer(), '::');
  t.same(getRealPeer(accepted), { address: '10.1.2.3', port: 3333, family: 'IPv4' });
});

t.test('IPv6 answers stay IPv6, including ones that only look mapped', async (t) => {
  const answers = ['2001:db8::1', '::ffff:0:a01:203', '::1'];
  let next = 0;
  scriptBinding(t, () => ({ family: 6, address: answers[next++] ?? '', port: 80 }));
  for (const address of answers) {
    const { accepted } = await connectPair(t, net.createServer(), '::');
    t.same(getRealPeer(accepted), { address, port: 80, family: 'IPv6' });
  }
});

t.test('an http server on :: reports an IPv4 client through the load balancer as IPv4', async (t) => {
  answerWith(t, { family: 6, address: '::ffff:192.0.2.44', port: 1234 });
  const port = await listen(t, http.createServer((req, res) => res.end(JSON.stringify(getClientPeer(req)))), '::');
  const [body] = await getKeepAlive(port, 1, { host: '::1' });
  t.same(JSON.parse(body ?? ''), { address: '192.0.2.44', port: 1234, family: 'IPv4', source: 'module' });
});

t.test('on a dual-stack server an IPv4 client reads as plain IPv4, module or not; getSocketPeer keeps ::ffff:', async (t) => {
  countSyscalls(t); // this host has no module: every connection is one the module does not know
  const server = trustLoadBalancer(net.createServer());
  const port = await listen(t, server, '::');
  for (const [host, address, family] of [
    ['127.0.0.1', '127.0.0.1', 'IPv4'],
    ['::1', '::1', 'IPv6'],
  ] as const) {
    const { accepted, client } = await connectTo(t, server, port, host);
    const peer = { address, port: client.localPort, family };
    t.same([accepted.remoteAddress, accepted.remotePort, accepted.remoteFamily], [address, client.localPort, family], `${host}: remoteAddress on a trusted server`);
    t.same(getClientPeer(accepted), { ...peer, source: 'socket' }, `${host}: getClientPeer`);
    t.same(getSocketPeer(accepted), host === '::1' ? peer : { ...peer, address: '::ffff:127.0.0.1', family: 'IPv6' }, `${host}: getSocketPeer, as the socket says`);
  }
  answerWith(t, { family: 4, address: '203.0.113.9', port: 51000 });
  const { accepted } = await connectTo(t, server, port, '127.0.0.1');
  t.same([accepted.remoteAddress, accepted.remoteFamily], ['203.0.113.9', 'IPv4'], 'a client the module knows: the same form');
});
