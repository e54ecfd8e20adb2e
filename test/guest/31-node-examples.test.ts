// SPDX-License-Identifier: MIT
// Guest: every example of examples/node, started as a user would (on the
// dual-stack wildcard), answers real 4to4, 6to4 and 6to6 connections made
// through the real-stack load-balancer simulator with the real client.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';

import { selfSigned, startExample } from '../lib/node-fixtures.js';
import { RS4, RS6, runAsLoadBalancer, withModuleAndLoadBalancer } from './node-guest-fixtures.js';

t.setTimeout(10 * 60 * 1000); // node starts slowly under TCG
withModuleAndLoadBalancer(t);

const { key, cert } = selfSigned();
const certDir = mkdtempSync(join(tmpdir(), 'kgwttm-examples-'));
writeFileSync(join(certDir, 'key.pem'), key);
writeFileSync(join(certDir, 'cert.pem'), cert);
t.teardown(() => rmSync(certDir, { recursive: true, force: true }));
const env = { HOST: '::', TLS_KEY: join(certDir, 'key.pem'), TLS_CERT: join(certDir, 'cert.pem') };

const examples = {
  net: 'net-server.ts',
  http: 'http-server.cjs',
  express: 'express-server.cjs',
  fastify: 'fastify-server.mjs',
  https: 'https-server.mjs',
  http2: 'http2-server.mjs',
};
const ports: Record<string, number> = {};
t.before(async () => {
  for (const [kind, file] of Object.entries(examples)) ports[kind] = await startExample(t, file, env);
});

interface ClientResult {
  localPort: number;
  replies: unknown[];
}

const scenarios = [
  { name: '4to4', format: 'toa4', client: '203.0.113.7', host: RS4, family: 'IPv4' },
  { name: '6to4', format: 'toa6', client: '2001:db8:1::7', host: RS4, family: 'IPv6' },
  { name: '6to6', format: 'toa6', client: '2001:db8:1::8', host: RS6, family: 'IPv6' },
] as const;

for (const scenario of scenarios) {
  t.test(`${scenario.name}: each example reports the real client`, async (t) => {
    const results = (await runAsLoadBalancer(scenario, { host: scenario.host, servers: ports })) as Record<
      string,
      ClientResult
    >;
    const { client, family } = scenario;
    const port = (kind: string): number | undefined => results[kind]?.localPort;
    const real = (kind: string) => ({ address: client, port: port(kind), family });
    t.same(results.net?.replies, [`${client} ${port('net')}\n`], 'net-server.ts greets the client');
    for (const reply of results.http?.replies ?? [null])
      t.match(reply, { real: real('http'), client: { ...real('http'), source: 'module' } }, 'http-server.cjs');
    for (const reply of results.express?.replies ?? [null])
      t.match(reply, { ip: client, port: port('express') }, 'express-server.cjs: req.ip');
    for (const reply of results.fastify?.replies ?? [null])
      t.match(reply, { ip: client, port: port('fastify') }, 'fastify-server.mjs: request.ip');
    for (const reply of results.https?.replies ?? [null])
      t.match(reply, { client }, 'https-server.mjs: remoteAddress on a trusted server');
    for (const reply of results.http2?.replies ?? [null])
      t.match(reply, { httpVersion: '2.0', client: { ...real('http2'), source: 'module' } }, 'http2-server.mjs');
  });
}
