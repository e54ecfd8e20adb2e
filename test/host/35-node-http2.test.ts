// SPDX-License-Identifier: MIT
// HTTP/2 servers, cleartext and TLS: the session, its streams and the compat
// requests share one answer per connection, also after a stream has closed.

import { once } from 'node:events';
import * as http2 from 'node:http2';
import t from 'tap';

import { getRealPeer, trustLoadBalancer, type Peer } from '../../lib/index.js';
import { answerWith, countSyscalls, http2Requests, listen, selfSigned } from '../lib/node-fixtures.js';

const client = { family: 4, address: '198.51.100.20', port: 61000 } as const;
const expected = { address: '198.51.100.20', port: 61000, family: 'IPv4' };
const { key, cert } = selfSigned();

const kinds = [
  { name: 'cleartext (h2c)', create: () => http2.createServer(), scheme: 'http', options: {} },
  {
    name: 'TLS (h2)',
    create: () => http2.createSecureServer({ key, cert }),
    scheme: 'https',
    options: { ca: cert },
  },
];

for (const kind of kinds) {
  t.test(`${kind.name}: session, streams and requests of one connection, one syscall`, async (t) => {
    const log = answerWith(t, client);
    const server = kind.create();
    const seen: Array<Peer | null> = [];
    server.on('stream', (stream) => seen.push(getRealPeer(stream), getRealPeer(stream.session as http2.Http2Session)));
    server.on('request', (req, res) => {
      seen.push(getRealPeer(req));
      res.end(JSON.stringify(getRealPeer(req.stream)));
    });
    const port = await listen(t, server);
    const bodies = await http2Requests(`${kind.scheme}://localhost:${port}`, 10, kind.options);
    t.same(new Set(bodies), new Set([JSON.stringify(expected)]));
    t.equal(seen.length, 30);
    t.ok(seen.every((peer) => peer === seen[0]), 'the same answer everywhere');
    t.same(seen[0], expected);
    t.equal(log.calls.length, 1);
  });

  t.test(`${kind.name}: a request asked while open still answers after its stream closed`, async (t) => {
    answerWith(t, client);
    const server = kind.create();
    const afterClose: Array<Peer | null> = [];
    server.on('request', (req, res) => {
      getRealPeer(req);
      res.on('close', () => afterClose.push(getRealPeer(req), getRealPeer(req.stream)));
      res.end('ok');
    });
    const port = await listen(t, server);
    await http2Requests(`${kind.scheme}://localhost:${port}`, 2, kind.options);
    await new Promise((resolve) => setImmediate(resolve));
    t.equal(afterClose.length, 4);
    for (const peer of afterClose) t.same(peer, expected);
  });

  t.test(`${kind.name}: first asked after its stream closed, on a trusted server`, async (t) => {
    answerWith(t, client);
    const server = trustLoadBalancer(kind.create());
    const afterClose: Array<Peer | null> = [];
    server.on('request', (req, res) => {
      res.on('close', () => afterClose.push(getRealPeer(req)));
      res.end('ok');
    });
    const port = await listen(t, server);
    await http2Requests(`${kind.scheme}://localhost:${port}`, 2, kind.options);
    await new Promise((resolve) => setImmediate(resolve));
    t.same(afterClose, [expected, expected]);
  });
}

t.test('first asked after its stream closed, untrusted server: the stream no longer knows its connection', async (t) => {
  answerWith(t, client);
  const server = http2.createServer();
  const afterClose: Array<Peer | null> = [];
  server.on('request', (req, res) => {
    res.on('close', () => afterClose.push(getRealPeer(req)));
    res.end('ok');
  });
  const port = await listen(t, server);
  await http2Requests(`http://localhost:${port}`, 1);
  await new Promise((resolve) => setImmediate(resolve));
  t.same(afterClose, [null], 'documented: ask while open, or trustLoadBalancer(server)');
});

t.test('a destroyed session has no real peer, and no syscall is made', async (t) => {
  const log = countSyscalls(t);
  const server = http2.createServer();
  const port = await listen(t, server);
  const clientSession = http2.connect(`http://localhost:${port}`);
  t.teardown(() => clientSession.destroy());
  const [session] = (await once(server, 'session')) as [http2.ServerHttp2Session];
  session.destroy();
  await once(session, 'close');
  t.equal(getRealPeer(session), null);
  t.equal(log.calls.length, 0);
});

t.test('without the module an HTTP/2 connection answers null, asked once', async (t) => {
  const log = countSyscalls(t);
  const server = http2.createServer((req, res) => res.end(JSON.stringify(getRealPeer(req))));
  const port = await listen(t, server);
  t.same(await http2Requests(`http://localhost:${port}`, 5), ['null', 'null', 'null', 'null', 'null']);
  t.equal(log.calls.length, 1);
});
