// SPDX-License-Identifier: MIT
// Who answers the module's getsockopt on this host: one loopback TCP connection,
// asked through the same addon call getRealPeer makes (kgwttm/diagnostics'
// queryPeer, which reports the errno instead of null).
//
// A loopback connection never carries a load balancer's option, so kgwttm
// answers ENOENT on it; ENOPROTOOPT means nobody registered the optname; any
// other answer comes from some other module holding the range (vtoa holds
// 1344–1347).

import * as net from 'node:net';

import { queryPeer, socketFd } from '../diagnostics.js';

export type ProbeResult =
  /** The errno name (`'ENOENT'`, `'ENOPROTOOPT'`, …), or `'OK'` when an address came back. */
  | { answered: true; errno: string }
  /** The probe could not run (addon not loadable, no loopback): why. */
  | { answered: false; reason: string };

/** getsockopt(SOL_IP, optname) on the accepted side of a fresh 127.0.0.1 connection. */
export async function probeOptname(optname: number): Promise<ProbeResult> {
  const server = net.createServer();
  const sockets: net.Socket[] = [];
  let socket: net.Socket;
  try {
    const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    const { port } = server.address() as net.AddressInfo;
    const client = net.connect(port, '127.0.0.1');
    sockets.push(client);
    await new Promise<void>((resolve, reject) => {
      client.once('connect', resolve);
      client.once('error', reject);
    });
    socket = await accepted;
    sockets.push(socket);
  } catch (err) {
    for (const s of sockets) s.destroy();
    server.close();
    return { answered: false, reason: `no loopback TCP connection: ${(err as Error).message}` };
  }
  try {
    // The fd is read and asked in the same tick.
    const fd = socketFd(socket);
    if (fd === null) return { answered: false, reason: 'the accepted socket has no fd' };
    return { answered: true, errno: queryPeer(fd, optname).code };
  } catch (err) {
    return { answered: false, reason: `the kgwttm addon does not load: ${(err as Error).message}` };
  } finally {
    for (const s of sockets) s.destroy();
    server.close();
  }
}
