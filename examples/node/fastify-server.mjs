// SPDX-License-Identifier: MIT
// Fastify with request.ip set to the real client: trust the load balancer on
// Fastify's own server, and leave the routes unchanged (ESM).
// Run: node examples/node/fastify-server.mjs   (PORT, HOST: where to listen)
import Fastify from 'fastify';
import { getSocketPeer, trustLoadBalancer } from 'kgwttm';

const fastify = Fastify();
trustLoadBalancer(fastify.server);

fastify.get('/', async (request) => ({ ip: request.ip, port: request.socket.remotePort, socket: getSocketPeer(request.raw) }));

await fastify.listen({ port: Number(process.env.PORT ?? 8080), host: process.env.HOST ?? '::' });
console.log(`listening on ${fastify.server.address().port}`);
