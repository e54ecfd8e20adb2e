// SPDX-License-Identifier: MIT
// The addon loads in worker threads (several at once) and in cluster workers,
// and answers there as in the main thread.

import cluster, { type Worker as ClusterWorker } from 'node:cluster';
import { once } from 'node:events';
import * as http from 'node:http';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import t from 'tap';

import { getRealPeer } from '../../lib/index.js';
import { getKeepAlive, listen } from '../lib/node-fixtures.js';

const serverScript = join(__dirname, 'node-peer-server.ts');

// A worker thread does not inherit tsx's loader in Node 20: register it there.
function startWorker(): Worker {
  return new Worker(`require('tsx/cjs'); require(${JSON.stringify(serverScript)});`, { eval: true });
}

interface Report {
  pid: number;
  threadId: number;
  real: unknown;
  client: { address: string; source: string };
}

async function ask(port: number): Promise<Report> {
  const [body] = await getKeepAlive(port, 1);
  return JSON.parse(body ?? '') as Report;
}

t.test('three worker threads load the addon at once and answer', async (t) => {
  const workers = [0, 1, 2].map(startWorker);
  t.teardown(() => Promise.all(workers.map((worker) => worker.terminate())));
  const ports = (await Promise.all(workers.map((worker) => once(worker, 'message')))).map(([port]) => port as number);
  const reports = await Promise.all(ports.map(ask));
  t.same(new Set(reports.map((report) => report.threadId)), new Set(workers.map((worker) => worker.threadId)));
  for (const report of reports) {
    t.equal(report.real, null, 'no module on this host');
    t.match(report.client, { address: '127.0.0.1', source: 'socket' });
  }
});

t.test('the main thread still answers after its workers exited', async (t) => {
  const worker = startWorker();
  const [workerPort] = (await once(worker, 'message')) as [number];
  await ask(workerPort);
  await worker.terminate();
  const port = await listen(t, http.createServer((req, res) => res.end(JSON.stringify(getRealPeer(req)))));
  t.same(await getKeepAlive(port, 1), ['null']);
});

t.test('two cluster workers share a port and answer', async (t) => {
  cluster.setupPrimary({ exec: serverScript, silent: false });
  const workers: ClusterWorker[] = [cluster.fork(), cluster.fork()];
  t.teardown(async () => {
    await Promise.all(
      workers.map(async (worker) => {
        if (worker.isDead()) return;
        const exited = once(worker, 'exit');
        worker.kill();
        await exited;
      }),
    );
  });
  const ports = await Promise.all(workers.map(async (worker) => ((await once(worker, 'message')) as [number])[0]));
  t.equal(ports[0], ports[1], 'one shared port');
  const reports: Report[] = [];
  for (let i = 0; i < 6; i++) reports.push(await ask(ports[0] ?? 0));
  const pids = new Set(workers.map((worker) => worker.process.pid));
  t.ok(reports.every((report) => pids.has(report.pid)), 'each answer came from a worker');
  for (const report of reports) t.equal(report.real, null);
});
