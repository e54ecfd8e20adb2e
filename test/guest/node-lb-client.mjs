// SPDX-License-Identifier: MIT
// The client side of 30-node-servers, run by test/lbsim/realstack/run-as-lb.sh
// inside netns lbsim, so that every connection it opens completes its
// handshake with the load balancer's option. It makes one connection to each
// server it is given (by kind: net, https, http2 over TLS, else http; two
// keep-alive requests, three streams on HTTP/2) and prints, per server, its
// own local port (the port the option carries) and the replies.
// Not a suite: its name does not end in .test.*.
//
// usage: node node-lb-client.mjs '{"host":"10.201.0.1","servers":{"net":PORT,...}}'

import { once } from 'node:events';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import net from 'node:net';

const { host, servers } = JSON.parse(process.argv[2]);
const authority = net.isIPv6(host) ? `[${host}]` : host;

// A reply: JSON where it is JSON, else the text (net-server.ts greets in text).
async function reply(stream) {
  let body = '';
  stream.setEncoding('utf8');
  for await (const chunk of stream) body += chunk;
  try {
    return JSON.parse(body);
  } catch {
    return body;
  }
}

async function viaNet(port) {
  const socket = net.connect(port, host);
  await once(socket, 'connect');
  const { localPort } = socket;
  return { localPort, replies: [await reply(socket)] };
}

async function viaHttp(module, port, count) {
  const agent = new module.Agent({ keepAlive: true, maxSockets: 1, rejectUnauthorized: false });
  let localPort;
  const replies = [];
  for (let i = 0; i < count; i++) {
    const [response] = await once(module.get({ host, port, path: '/', agent }), 'response');
    localPort = response.socket.localPort;
    replies.push(await reply(response));
  }
  agent.destroy();
  return { localPort, replies };
}

async function viaHttp2(port, count) {
  const session = http2.connect(`https://${authority}:${port}`, { rejectUnauthorized: false });
  await once(session, 'connect');
  const { localPort } = session.socket;
  const replies = [];
  for (let i = 0; i < count; i++) replies.push(await reply(session.request({ ':path': '/' })));
  session.close();
  return { localPort, replies };
}

const results = {};
for (const [kind, port] of Object.entries(servers)) {
  if (kind === 'net') results[kind] = await viaNet(port);
  else if (kind === 'https') results[kind] = await viaHttp(https, port, 2);
  else if (kind === 'http2') results[kind] = await viaHttp2(port, 3);
  else results[kind] = await viaHttp(http, port, 2);
}
console.log(JSON.stringify(results));
