// SPDX-License-Identifier: MIT
// A host without the module (this one): every connection answers null, the
// access-log form falls back to the socket's own peer, the process is told
// once (a warning with a code), the health check says "not loaded"; and the
// status of a loaded module as procfs and sysfs show it.

import { spawnSync } from 'node:child_process';
import * as net from 'node:net';
import { join } from 'node:path';
import t from 'tap';

import { getClientPeer, getRealPeer, getSocketPeer, isModuleLoaded, moduleStatus } from '../../lib/index.js';
import { fakeLoadedHost } from '../lib/cli-fixtures.js';
import { connectPair, countSyscalls } from '../lib/node-fixtures.js';

t.test('without the module a connection has no real peer (the kernel says ENOPROTOOPT)', async (t) => {
  const log = countSyscalls(t);
  const { accepted, client } = await connectPair(t, net.createServer());
  t.equal(getRealPeer(accepted), null);
  t.equal(getRealPeer(accepted), null, 'asked again');
  t.equal(log.calls.length, 1, 'one syscall for the connection');
  t.equal(log.calls[0]?.optname, 1345, 'on the ABI optname');
  t.same(getClientPeer(accepted), { address: '127.0.0.1', port: client.localPort, family: 'IPv4', source: 'socket' });
  t.same(getSocketPeer(accepted), { address: '127.0.0.1', port: client.localPort, family: 'IPv4' });
});

t.test('the first ENOPROTOOPT is said once per process: a KgwttmWarning with the code KGWTTM_NO_MODULE', async (t) => {
  // A process of its own, so that no other test has asked first.
  const script = `
    const net = require('node:net');
    const { getRealPeer } = require(${JSON.stringify(join(__dirname, '..', '..', 'lib', 'index.ts'))});
    const warnings = [];
    process.on('warning', (w) => warnings.push({ name: w.name, code: w.code, message: w.message }));
    const answers = [];
    const server = net.createServer((socket) => {
      answers.push(getRealPeer(socket));
      socket.destroy();
      if (answers.length === 2) { server.close(); setImmediate(() => console.log(JSON.stringify({ answers, warnings }))); }
    });
    server.listen(0, '127.0.0.1', () => {
      for (let i = 0; i < 2; i++) net.connect(server.address().port, '127.0.0.1').on('error', () => {});
    });`;
  const run = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { encoding: 'utf8' });
  t.equal(run.status, 0, run.stderr);
  const { answers, warnings } = JSON.parse(run.stdout) as { answers: unknown[]; warnings: Array<{ name: string; code: string; message: string }> };
  t.same(answers, [null, null]);
  t.equal(warnings.length, 1, 'one warning for two connections');
  t.match(warnings[0], { name: 'KgwttmWarning', code: 'KGWTTM_NO_MODULE', message: /kernel module does not answer here \(getsockopt\(SOL_IP, 1345\): ENOPROTOOPT\)/ });
  t.match(run.stderr, /\[KGWTTM_NO_MODULE\] KgwttmWarning/, 'Node prints it, with the code to filter it by');
});

t.test('the health check says the module is not loaded', async (t) => {
  t.equal(isModuleLoaded(), false);
  t.same(moduleStatus(), { loaded: false, version: null, counters: {}, parameters: {} });
});

t.test('the status of a loaded module, read from its procfs file and sysfs parameters', async (t) => {
  const counters = { with_option: 12, without_option: 3, malformed: 1, untrusted: 2, missed: 0, live: 5, entry_bytes: 640 };
  const { proc, sys } = fakeLoadedHost(t, { counters, trusted: '10.0.3.0/24' });
  t.equal(isModuleLoaded({ proc, sys }), true);
  t.same(moduleStatus({ proc, sys }), {
    loaded: true,
    version: '0.1.0',
    counters,
    parameters: { formats: '254:8,254:20,254:22', optname: '1345', rewrite_getname: 'Y', trusted_nets: '10.0.3.0/24' },
  });
});
