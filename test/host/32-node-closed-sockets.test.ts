// SPDX-License-Identifier: MIT
// Sockets that are closed, destroyed, or closing under us answer null, never
// throw, and keep an answer they had before they closed.

import { once } from 'node:events';
import * as net from 'node:net';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';

import { getClientPeer, getRealPeer, getSocketPeer } from '../../lib/index.js';
import { answerWith, connectPair, countSyscalls, scriptBinding } from '../lib/node-fixtures.js';

const { errno } = constants;

t.test('a destroyed socket has no real peer and costs no syscall', async (t) => {
  const log = countSyscalls(t);
  const { accepted } = await connectPair(t, net.createServer());
  accepted.destroy();
  t.equal(getRealPeer(accepted), null);
  t.equal(getSocketPeer(accepted), null, 'nobody read its peer before it closed');
  t.same(getClientPeer(accepted), { address: '', port: 0, family: 'IPv4', source: 'unknown' });
  t.equal(log.calls.length, 0);
});

t.test('a socket the client closed has no real peer once it is closed', async (t) => {
  const log = countSyscalls(t);
  const { accepted, client } = await connectPair(t, net.createServer());
  const port = accepted.remotePort; // read while open: Node keeps it
  client.end();
  accepted.resume();
  accepted.end();
  await once(accepted, 'close');
  t.equal(getRealPeer(accepted), null);
  t.same(getClientPeer(accepted), { address: '127.0.0.1', port, family: 'IPv4', source: 'socket' });
  t.equal(log.calls.length, 0);
});

t.test('a socket that never connected has no real peer', async (t) => {
  t.equal(getRealPeer(new net.Socket()), null);
});

t.test('an answer given while open is still given after the socket closed', async (t) => {
  answerWith(t, { family: 4, address: '192.0.2.7', port: 40001 });
  const { accepted } = await connectPair(t, net.createServer());
  const open = getRealPeer(accepted);
  t.same(open, { address: '192.0.2.7', port: 40001, family: 'IPv4' });
  accepted.destroy();
  await once(accepted, 'close');
  t.equal(getRealPeer(accepted), open, 'the same answer');
  t.same(getClientPeer(accepted), { ...open, source: 'module' });
});

for (const name of ['EBADF', 'ENOTSOCK'] as const) {
  t.test(`an fd closed under the call (${name}) answers null, and is asked again next time`, async (t) => {
    const log = scriptBinding(t, () => errno[name]);
    const { accepted } = await connectPair(t, net.createServer());
    t.equal(getRealPeer(accepted), null);
    t.equal(getRealPeer(accepted), null);
    t.equal(log.calls.length, 2, 'not cached: the fd was not this connection’s answer');
  });
}

t.test('a Unix domain socket is not an IP socket: null, cached (EOPNOTSUPP)', async (t) => {
  const log = countSyscalls(t);
  const path = join(tmpdir(), `kgwttm-test-${process.pid}.sock`);
  const server = net.createServer();
  server.listen(path);
  await once(server, 'listening');
  t.teardown(() => server.close());
  const client = net.connect(path);
  t.teardown(() => client.destroy());
  const [accepted] = (await once(server, 'connection')) as [net.Socket];
  t.equal(getRealPeer(accepted), null);
  t.equal(getRealPeer(accepted), null);
  t.equal(log.calls.length, 1);
});
