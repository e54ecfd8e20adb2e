// SPDX-License-Identifier: MIT
// Every example in examples/node runs and answers, through the package name
// (`kgwttm`, the built dist/), in CommonJS, ESM and TypeScript. Without the
// module they report the socket's own peer.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';

import { getKeepAlive, http2Requests, selfSigned, startExample } from '../lib/node-fixtures.js';

const { key, cert } = selfSigned();
const certDir = mkdtempSync(join(tmpdir(), 'kgwttm-examples-'));
writeFileSync(join(certDir, 'key.pem'), key);
writeFileSync(join(certDir, 'cert.pem'), cert);
t.teardown(() => rmSync(certDir, { recursive: true, force: true }));
const tlsEnv = { TLS_KEY: join(certDir, 'key.pem'), TLS_CERT: join(certDir, 'cert.pem') };

t.test('net-server.ts (TypeScript) greets the client', async (t) => {
  const port = await startExample(t, 'net-server.ts');
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  const { localPort } = socket;
  let text = '';
  socket.setEncoding('utf8');
  for await (const chunk of socket) text += String(chunk);
  t.equal(text, `127.0.0.1 ${localPort} (not via the load balancer)\n`);
});

t.test('http-server.cjs (CommonJS) returns the client', async (t) => {
  const port = await startExample(t, 'http-server.cjs');
  const [body] = await getKeepAlive(port, 1);
  t.match(JSON.parse(body ?? ''), { real: null, client: { address: '127.0.0.1', family: 'IPv4', source: 'socket' } });
});

t.test('express-server.cjs: req.ip', async (t) => {
  const port = await startExample(t, 'express-server.cjs');
  const [body] = await getKeepAlive(port, 1);
  t.match(JSON.parse(body ?? ''), { ip: '127.0.0.1', socket: { address: '127.0.0.1' } });
});

t.test('fastify-server.mjs (ESM): request.ip', async (t) => {
  const port = await startExample(t, 'fastify-server.mjs');
  const [body] = await getKeepAlive(port, 1);
  t.match(JSON.parse(body ?? ''), { ip: '127.0.0.1', socket: { address: '127.0.0.1' } });
});

t.test('https-server.mjs (ESM): remoteAddress of a trusted server', async (t) => {
  const port = await startExample(t, 'https-server.mjs', tlsEnv);
  const [body] = await getKeepAlive(port, 1, { ca: cert });
  t.match(JSON.parse(body ?? ''), { client: '127.0.0.1', socket: { address: '127.0.0.1' } });
});

t.test('http2-server.mjs (ESM): HTTP/2 streams of one session', async (t) => {
  const port = await startExample(t, 'http2-server.mjs', tlsEnv);
  const bodies = await http2Requests(`https://localhost:${port}`, 3, { ca: cert });
  for (const body of bodies)
    t.match(JSON.parse(body), { httpVersion: '2.0', client: { address: '127.0.0.1', source: 'socket' } });
});
