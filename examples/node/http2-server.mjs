// SPDX-License-Identifier: MIT
// An HTTP/2 server (with HTTP/1.1 fallback) that answers with each request's
// client: one syscall per connection, however many streams it carries (ESM).
// Run: TLS_KEY=key.pem TLS_CERT=cert.pem node examples/node/http2-server.mjs
import { readFileSync } from 'node:fs';
import http2 from 'node:http2';
import { getClientPeer } from 'kgwttm';

const server = http2.createSecureServer({
  key: readFileSync(process.env.TLS_KEY ?? 'key.pem'),
  cert: readFileSync(process.env.TLS_CERT ?? 'cert.pem'),
  allowHTTP1: true,
});

server.on('request', (req, res) => {
  res.end(JSON.stringify({ httpVersion: req.httpVersion, client: getClientPeer(req) }) + '\n');
});

server.listen(Number(process.env.PORT ?? 8443), process.env.HOST ?? '::', () => {
  console.log(`listening on ${server.address().port}`);
});
