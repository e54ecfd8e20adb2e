// SPDX-License-Identifier: MIT
// A peer-reporting http server for 40-node-workers-cluster, run in a worker
// thread or a cluster worker: it tells its parent its port, and answers each
// request with what kgwttm says about it.

import cluster from 'node:cluster';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parentPort, threadId } from 'node:worker_threads';

import { getClientPeer, getRealPeer } from '../../lib/index.js';

const server = http.createServer((req, res) => {
  res.setHeader('connection', 'close');
  res.end(JSON.stringify({ pid: process.pid, threadId, real: getRealPeer(req), client: getClientPeer(req) }));
});

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  if (parentPort !== null) parentPort.postMessage(port);
  else if (cluster.isWorker) process.send?.(port);
});
