// SPDX-License-Identifier: MIT
// Express with req.ip set to the real client: trust the load balancer on the
// server, and leave the app unchanged (CommonJS).
// Run: node examples/node/express-server.cjs   (PORT, HOST: where to listen)
const http = require('node:http');
const express = require('express');
const { getSocketPeer, trustLoadBalancer } = require('kgwttm');

const app = express();
app.get('/', (req, res) => {
  res.json({ ip: req.ip, port: req.socket.remotePort, socket: getSocketPeer(req) });
});

const server = trustLoadBalancer(http.createServer(app));
server.listen(Number(process.env.PORT ?? 8080), process.env.HOST ?? '::', () => {
  console.log(`listening on ${server.address().port}`);
});
