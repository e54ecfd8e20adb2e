// SPDX-License-Identifier: MIT
// Guest: with the module loaded, real 4to4, 6to4 and 6to6 connections made by
// a real client through the real-stack load-balancer simulator (a TCP client
// in netns lbsim whose handshake-completing ACK carries the option) reach
// every kind of Node server: net, http (dual-stack and IPv4-only), https,
// HTTP/2 over TLS, and Express behind trustLoadBalancer. Each server reports
// getRealPeer and getSocketPeer; one syscall per connection; HTTP/2 requests
// still answer after their stream closed. Unloads the module at the end.

import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as http2 from 'node:http2';
import * as https from 'node:https';
import * as net from 'node:net';
import { join } from 'node:path';
import express from 'express';
import t from 'tap';

import {
  getRealPeer,
  getSocketPeer,
  trustLoadBalancer,
  type Connection,
  type Peer,
} from '../../lib/index.js';
import { countSyscalls, listen, selfSigned } from '../lib/node-fixtures.js';
import { backendStatus, LIP4, RS4, RS6, runAsLoadBalancer, withModuleAndLoadBalancer } from './node-guest-fixtures.js';

t.setTimeout(10 * 60 * 1000); // node starts slowly under TCG

const root = join(__dirname, '..', '..');

withModuleAndLoadBalancer(t);

interface Report {
  real: Peer | null;
  socket: Peer | null;
  ip?: string;
}

function report(connection: Connection): Report {
  return { real: getRealPeer(connection), socket: getSocketPeer(connection) };
}

const { key, cert } = selfSigned();
const afterStreamClosed: Array<Peer | null> = [];

const app = express();
app.get('/*', (req, res) => {
  res.json({ ...report(req), ip: req.ip });
});

const servers = {
  net: { server: net.createServer((socket) => socket.end(JSON.stringify(report(socket)))), host: '::' },
  http: { server: http.createServer((req, res) => res.end(JSON.stringify(report(req)))), host: '::' },
  http4: { server: http.createServer((req, res) => res.end(JSON.stringify(report(req)))), host: '0.0.0.0' },
  https: { server: https.createServer({ key, cert }, (req, res) => res.end(JSON.stringify(report(req)))), host: '::' },
  http2: {
    server: http2.createSecureServer({ key, cert }, (req, res) => {
      res.on('close', () => afterStreamClosed.push(getRealPeer(req)));
      res.end(JSON.stringify(report(req)));
    }),
    host: '::',
  },
  express: { server: trustLoadBalancer(http.createServer(app)), host: '::' },
};
type Kind = keyof typeof servers;

const ports = {} as Record<Kind, number>;
t.before(async () => {
  for (const [kind, { server, host }] of Object.entries(servers)) ports[kind as Kind] = await listen(t, server, host);
});

interface Scenario {
  name: string;
  format: 'toa4' | 'toa6' | 'none';
  client: string;
  host: string;
  /** The real client's address and family; null for no option. */
  real: { address: string; family: 'IPv4' | 'IPv6' } | null;
  /** What getpeername says on the dual-stack and on the IPv4-only listener. */
  socketPeer: { dual: string; ipv4: string | undefined };
}

const scenarios: Scenario[] = [
  {
    name: '4to4',
    format: 'toa4',
    client: '203.0.113.7',
    host: RS4,
    real: { address: '203.0.113.7', family: 'IPv4' },
    socketPeer: { dual: '::ffff:203.0.113.7', ipv4: '203.0.113.7' }, // the module rewrote getpeername
  },
  {
    name: '6to4',
    format: 'toa6',
    client: '2001:db8:1::7',
    host: RS4,
    real: { address: '2001:db8:1::7', family: 'IPv6' },
    socketPeer: { dual: `::ffff:${LIP4}`, ipv4: LIP4 }, // an IPv6 client does not fit a sockaddr_in
  },
  {
    name: '6to6',
    format: 'toa6',
    client: '2001:db8:1::8',
    host: RS6,
    real: { address: '2001:db8:1::8', family: 'IPv6' },
    socketPeer: { dual: '2001:db8:1::8', ipv4: undefined },
  },
  {
    name: 'no option',
    format: 'none',
    client: '',
    host: RS4,
    real: null,
    socketPeer: { dual: `::ffff:${LIP4}`, ipv4: LIP4 },
  },
];

interface ClientResult {
  localPort: number;
  replies: Report[];
}

async function runClient(scenario: Scenario, kinds: Kind[]): Promise<Record<string, ClientResult>> {
  const servers = Object.fromEntries(kinds.map((kind) => [kind, ports[kind]]));
  return runAsLoadBalancer(scenario, { host: scenario.host, servers }) as Promise<Record<string, ClientResult>>;
}

for (const scenario of scenarios) {
  t.test(`${scenario.name}: every server kind gets the real client`, async (t) => {
    const log = countSyscalls(t);
    afterStreamClosed.length = 0;
    const kinds = (Object.keys(servers) as Kind[]).filter((kind) => kind !== 'http4' || scenario.host === RS4);
    const results = await runClient(scenario, kinds);
    for (const kind of kinds) {
      const result = results[kind];
      if (!t.ok(result, `${kind}: answered`) || result === undefined) continue;
      const port = result.localPort;
      const real = scenario.real && { ...scenario.real, port };
      const socketAddress = kind === 'http4' ? scenario.socketPeer.ipv4 : scenario.socketPeer.dual;
      const socket = { address: socketAddress, port, family: kind === 'http4' ? 'IPv4' : 'IPv6' };
      for (const reply of result.replies) {
        t.same(reply.real, real, `${kind}: getRealPeer`);
        t.same(reply.socket, socket, `${kind}: getSocketPeer`);
      }
      if (kind === 'express')
        // A client the module does not know reads as the socket's peer, an IPv4 one as plain IPv4.
        t.equal(result.replies[0]?.ip, real ? real.address : socketAddress?.replace(/^::ffff:(?=\d+\.)/, ''), 'express: req.ip on a trusted server');
    }
    t.equal(log.calls.length, kinds.length, 'one syscall per connection');
    t.same(afterStreamClosed, [0, 1, 2].map(() => scenario.real && { ...scenario.real, port: results.http2?.localPort }),
      'HTTP/2 requests answer after their stream closed');
  });
}

t.test('the backend reports itself and counts the connections', async (t) => {
  const status = backendStatus();
  t.equal(status.loaded, true);
  t.equal(status.version, readFileSync(join(root, 'kmod', 'VERSION'), 'utf8').trim());
  t.equal(status.optname, '1345');
  const connections = 3 * Object.keys(servers).length - 1; // 6to6 has no IPv4-only server
  t.ok((status.counters.with_option ?? 0) >= connections, `with_option ${status.counters.with_option} >= ${connections}`);
  t.ok((status.counters.without_option ?? 0) >= Object.keys(servers).length, 'without_option counts the no-option connections');
});
