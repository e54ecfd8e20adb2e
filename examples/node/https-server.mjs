// SPDX-License-Identifier: MIT
// An HTTPS server whose sockets report the real client as remoteAddress (ESM).
// Run: TLS_KEY=key.pem TLS_CERT=cert.pem node examples/node/https-server.mjs
//   (a test certificate: openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1
//    -nodes -subj /CN=localhost -keyout key.pem -out cert.pem)
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { getSocketPeer, trustLoadBalancer } from 'kgwttm';

const server = https.createServer(
  { key: readFileSync(process.env.TLS_KEY ?? 'key.pem'), cert: readFileSync(process.env.TLS_CERT ?? 'cert.pem') },
  (req, res) => {
    // remoteAddress is the client; getSocketPeer is what the socket itself says (the LB, for 6to4).
    res.end(JSON.stringify({ client: req.socket.remoteAddress, socket: getSocketPeer(req) }) + '\n');
  },
);
trustLoadBalancer(server);

server.listen(Number(process.env.PORT ?? 8443), process.env.HOST ?? '::', () => {
  console.log(`listening on ${server.address().port}`);
});
