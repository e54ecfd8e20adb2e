// SPDX-License-Identifier: MIT
// kgwttm/diagnostics, what tools that check a host are given beside the main
// API (the operator CLI is built on it): the fd under a connection, one
// uncached getsockopt with its errno, and the errno naming every native call
// of the package shares, the CLI's own addon included.

import { openSync, closeSync } from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import { constants } from 'node:os';
import t from 'tap';

import { setBinding } from '../../lib/binding.js';
import { errnoName, queryPeer, socketFd, systemError } from '../../lib/diagnostics.js';
import { cliBinding } from '../../lib/cli/native.js';
import { openTun } from '../../lib/cli/tun.js';
import { connectPair, countSyscalls, getKeepAlive, listen, scriptBinding, tlsPair } from '../lib/node-fixtures.js';

const { errno } = constants;
type Fd = { _handle: { fd: number } };

t.test('socketFd: the TCP fd under a socket, a TLS socket and an HTTP request; null once closed', async (t) => {
  const { accepted } = await connectPair(t, net.createServer());
  t.equal(socketFd(accepted), (accepted as unknown as Fd)._handle.fd);
  accepted.destroy();
  t.equal(socketFd(accepted), null, 'closed');

  const { rawSocket, tlsSocket } = await tlsPair(t);
  t.equal(socketFd(tlsSocket), (rawSocket as unknown as Fd)._handle.fd, 'a TLS socket: the TCP fd under it');

  let fromRequest: number | null = null;
  const httpServer = http.createServer((req, res) => {
    fromRequest = socketFd(req);
    res.end(String((req.socket as unknown as Fd)._handle.fd));
  });
  const [body] = await getKeepAlive(await listen(t, httpServer), 1);
  t.equal(fromRequest, Number(body), 'an HTTP request: its socket’s fd');
  t.throws(() => socketFd({ _handle: { fd: 3 } } as unknown as net.Socket), { name: 'TypeError', message: /^socketFd: expected a net\.Socket/ });
});

t.test('queryPeer on this host: the real ENOPROTOOPT, every time it is asked', async (t) => {
  const log = countSyscalls(t);
  const { accepted } = await connectPair(t, net.createServer());
  const fd = socketFd(accepted) ?? -1;
  const expected = { code: 'ENOPROTOOPT', errno: -errno.ENOPROTOOPT, peer: null };
  t.same(queryPeer(fd, 1345), expected);
  t.same(queryPeer(fd, 1345), expected);
  t.equal(log.calls.length, 2, 'uncached: one syscall per call');
});

t.test('queryPeer: the decoded record, an errno by name, EPROTO for a record of no known family', async (t) => {
  const answers = [{ family: 4, address: '203.0.113.7', port: 40001 } as const, errno.ENOENT, errno.EINVAL];
  scriptBinding(t, () => answers.shift() ?? errno.EIO);
  t.same(queryPeer(5, 1345), { code: 'OK', errno: 0, peer: { address: '203.0.113.7', port: 40001, family: 'IPv4' } });
  t.same(queryPeer(5, 1345), { code: 'ENOENT', errno: -errno.ENOENT, peer: null });
  t.same(queryPeer(5, 1345), { code: 'EINVAL', errno: -errno.EINVAL, peer: null });
  // A 20-byte answer whose family is neither AF_INET nor AF_INET6: not kgwttm's.
  const record = new Uint8Array(20);
  setBinding({
    record,
    getPeer() {
      record.fill(0).set([7, 7]);
      return 0;
    },
  });
  t.same(queryPeer(5, 1345), { code: 'EPROTO', errno: -errno.EPROTO, peer: null });
  t.throws(() => queryPeer(-1, 1345), TypeError);
  t.throws(() => queryPeer(5, 0), TypeError);
});

t.test('errno names and errors: one shape for every native call (negated errno in, Node’s system error out)', async (t) => {
  t.equal(errnoName(-errno.ENOPROTOOPT), 'ENOPROTOOPT');
  t.equal(errnoName(-4000), 'UNKNOWN');
  const error = systemError(-errno.EPERM, 'ioctl', '/dev/net/tun');
  t.match(error, { code: 'EPERM', errno: -errno.EPERM, syscall: 'ioctl', path: '/dev/net/tun' });
  t.match(error.message, /^EPERM: .+, ioctl '\/dev\/net\/tun'$/);
});

t.test('the CLI’s addon returns a negated errno too; openTun throws it as a system error', async (t) => {
  const fd = openSync('/dev/null', 'r');
  t.teardown(() => closeSync(fd));
  t.equal(cliBinding().setTun(fd, 'kgwttm-test'), -errno.ENOTTY, 'TUNSETIFF on /dev/null: -ENOTTY');
  t.throws(() => cliBinding().setTun(fd, 'x'.repeat(16)), TypeError, 'a name too long for IFNAMSIZ');
  // An interface name the kernel refuses: the ioctl fails, and the fd is closed again.
  t.throws(() => openTun('bad name/'), { code: 'EINVAL', errno: -errno.EINVAL, syscall: 'ioctl', path: '/dev/net/tun' });
});
