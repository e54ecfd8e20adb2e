// SPDX-License-Identifier: MIT
// A caller that passes the wrong thing gets a TypeError before any syscall.

import * as net from 'node:net';
import { Duplex } from 'node:stream';
import t from 'tap';

import { getClientPeer, getRealPeer, getSocketPeer, setOptname, trustLoadBalancer } from '../../lib/index.js';
import { scriptBinding } from '../lib/node-fixtures.js';

const notConnections: Array<[string, unknown]> = [
  ['undefined', undefined],
  ['null', null],
  ['a number (an fd)', 7],
  ['a string', '127.0.0.1'],
  ['a plain object with a _handle', { _handle: { fd: 0 } }],
  ['a net.Server', net.createServer()],
  ['a generic Duplex', new Duplex()],
];

t.test('getRealPeer, getClientPeer and getSocketPeer reject what is not a connection', async (t) => {
  const log = scriptBinding(t, () => 0);
  for (const [name, value] of notConnections) {
    for (const f of [getRealPeer, getClientPeer, getSocketPeer]) {
      t.throws(() => f(value as net.Socket), TypeError, `${f.name}(${name})`);
    }
  }
  t.equal(log.calls.length, 0, 'no syscall was made');
});

t.test('the TypeError names the function and what it got', async (t) => {
  t.throws(() => getRealPeer(null as unknown as net.Socket), { name: 'TypeError', message: /^getRealPeer: expected a net\.Socket.*got null$/ });
  t.throws(() => getClientPeer(42 as unknown as net.Socket), { message: /^getClientPeer: .*got number$/ });
});

t.test('setOptname takes a positive 32-bit integer or undefined', async (t) => {
  for (const bad of [0, -1, 1.5, NaN, 2 ** 31, '1345', null]) {
    t.throws(() => setOptname(bad as number), TypeError, `setOptname(${String(bad)})`);
  }
  t.doesNotThrow(() => setOptname(1346));
  t.doesNotThrow(() => setOptname(undefined));
});

t.test('trustLoadBalancer takes a server', async (t) => {
  for (const bad of [undefined, {}, new net.Socket()]) {
    t.throws(() => trustLoadBalancer(bad as net.Server), TypeError);
  }
  const server = net.createServer();
  t.equal(trustLoadBalancer(server), server, 'returns the server');
  t.equal(trustLoadBalancer(server), server, 'a second call changes nothing');
  t.equal(server.listenerCount('connection'), 1, 'one connection listener');
});
