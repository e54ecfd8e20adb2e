// Who answers the module's getsockopt on this host: one loopback TCP connection,
// asked through the same addon call getRealPeer makes.
//
// A loopback connection never carries a load balancer's option, so kgwttm
// answers ENOENT on it; ENOPROTOOPT means nobody registered the optname; any
// other answer comes from some other module holding the range (vtoa holds
// 1344–1347).

import * as net from 'node:net';
import { getSystemErrorName } from 'node:util';

import { PEER_RECORD_BYTES } from '../peer-record.js';
import { binding } from '../binding.js';

export type ProbeResult =
  /** The errno name (`'ENOENT'`, `'ENOPROTOOPT'`, …), or `'OK'` when an address came back. */
  | { answered: true; errno: string }
  /** The probe could not run (addon not loadable, no loopback): why. */
  | { answered: false; reason: string };

interface HandleOwner {
  readonly _handle?: { readonly fd?: unknown } | null;
}

/** getsockopt(SOL_IP, optname) on the accepted side of a fresh 127.0.0.1 connection. */
export async function probeOptname(optname: number): Promise<ProbeResult> {
  let getPeer: ReturnType<typeof binding>['getPeer'];
  try {
    const addon = binding();
    getPeer = addon.getPeer.bind(addon);
  } catch (err) {
    return { answered: false, reason: `the kgwttm addon does not load: ${(err as Error).message}` };
  }
  const server = net.createServer();
  const sockets: net.Socket[] = [];
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
    const socket = await accepted;
    sockets.push(socket);
    const fd = (socket as unknown as HandleOwner)._handle?.fd;
    if (typeof fd !== 'number' || fd < 0) return { answered: false, reason: 'the accepted socket has no fd' };
    const result = getPeer(fd, optname, new Uint8Array(PEER_RECORD_BYTES));
    if (result === 0) return { answered: true, errno: 'OK' };
    return { answered: true, errno: getSystemErrorName(-result) };
  } catch (err) {
    return { answered: false, reason: `no loopback TCP connection: ${(err as Error).message}` };
  } finally {
    for (const socket of sockets) socket.destroy();
    server.close();
  }
}
