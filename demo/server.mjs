// SPDX-License-Identifier: MIT
// The demo's backend: an HTTP server on the dual-stack wildcard (Node's
// default), behind the simulated load balancer. It prints, per request, the
// peer the socket sees (the LB's local IP, or the client where the module
// rewrote getpeername) and the real client from getRealPeer().
import http from 'node:http';
import { getRealPeer } from 'kgwttm';

const port = Number(process.env.PORT ?? 8080);

const server = http.createServer((req, res) => {
  const client = getRealPeer(req);
  const real = client ? `${client.family} ${client.address} port ${client.port}` : 'unknown (no option)';
  const seen = `${req.socket.remoteAddress} port ${req.socket.remotePort}`;
  console.log(`${req.method} ${req.url}  socket peer: ${seen}  real client: ${real}`);
  res.end(`hello ${client ? client.address : 'stranger'}\n`);
});

server.listen(port, () => console.log(`demo server listening on [::]:${port}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
