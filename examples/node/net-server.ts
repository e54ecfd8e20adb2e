// SPDX-License-Identifier: MIT
// A TCP server that greets each client with its real address (TypeScript).
// Run: npx tsx examples/node/net-server.ts   (PORT, HOST: where to listen)
import * as net from 'node:net';
import { getRealPeer, type Peer } from 'kgwttm';

const server = net.createServer((socket) => {
  const peer: Peer | null = getRealPeer(socket);
  socket.end(`${peer ? `${peer.address} ${peer.port}` : `${socket.remoteAddress} ${socket.remotePort} (not via the load balancer)`}\n`);
});

server.listen(Number(process.env.PORT ?? 8080), process.env.HOST ?? '::', () => {
  console.log(`listening on ${(server.address() as net.AddressInfo).port}`);
});
