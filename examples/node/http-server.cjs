// SPDX-License-Identifier: MIT
// An HTTP server that logs and returns each request's client (CommonJS).
// Run: node examples/node/http-server.cjs   (PORT, HOST: where to listen)
const http = require('node:http');
const { getClientPeer, getRealPeer } = require('kgwttm');

const server = http.createServer((req, res) => {
  const client = getClientPeer(req); // never null: the socket's own peer without the module
  console.log(`${client.address} ${client.port} ${req.method} ${req.url}`);
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ real: getRealPeer(req), client }) + '\n');
});

server.listen(Number(process.env.PORT ?? 8080), process.env.HOST ?? '::', () => {
  console.log(`listening on ${server.address().port}`);
});
