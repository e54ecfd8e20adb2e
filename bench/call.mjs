// SPDX-License-Identifier: MIT
// The Node side of the call benchmark: a net server that accepts connections
// on command, keeps them open and idle (pauseOnConnect), and times loops of
// getRealPeer / socket.remoteAddress over them. Driven by bench/guest/call.py.
//
//   node bench/call.mjs IP PORT
//
// Commands on stdin, one per line; each answered by one line on stdout
// ("ns NS mean MEAN calls N nulls K"; NS: the median over chunks of 50 calls of
// the time per call, MEAN: the plain mean):
//   accept TOTAL                 wait until TOTAL connections are held, or none came for
//                                20 s ("accepted N": N held now)
//   first START COUNT            getRealPeer once on each of sockets[START..START+COUNT),
//                                which nobody has asked yet: the call that makes the syscall
//   cached START COUNT PASSES    getRealPeer again on sockets already asked (the kept answer)
//   raddr_first START COUNT      socket.remoteAddress read for the first time on each
//                                socket (Node calls getpeername and keeps the answer)
//   raddr START COUNT PASSES     socket.remoteAddress again (Node's kept answer)
//   addon START COUNT PASSES     the addon alone: binding().getPeer(fd, 1345), no lib/ layer
//   addon_noobj START COUNT PASSES  binding().getPeer(fd, 1346): the same N-API call and
//                                the same getsockopt path, which fails (ENOPROTOOPT) and so
//                                builds no result object (must answer "nulls" = calls)
//   addon_decode START COUNT     the first call's steps on fresh sockets: the addon, then
//                                lib/'s decoder (the frozen {address, port, family})
//   addon_decode_cache START COUNT  the same, plus the two stores getRealPeer makes to keep
//                                the answer (a symbol-keyed property of the socket and of
//                                its handle)
import net from 'node:net';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const { getRealPeer } = require(join(root, 'dist', 'index.js'));
const { binding } = require(join(root, 'dist', 'binding.js'));
const { decodePeerRecord } = require(join(root, 'dist', 'peer-record.js'));

const [ip, port] = process.argv.slice(2);
const sockets = [];
let waiting = null;

const server = net.createServer({ pauseOnConnect: true }, (s) => {
  s.on('error', () => {});
  sockets.push(s);
  if (waiting && sockets.length >= waiting.total) {
    const w = waiting;
    waiting = null;
    w.resolve();
  }
});
server.listen({ host: ip, port: Number(port), backlog: 4096 }, () => process.stderr.write('listening\n'));

let sink = 0; // keeps every result observable, so no loop is optimised away

// Calls are timed in chunks (CHUNK calls each, one hrtime pair per chunk): a
// chunk in which the host preempted the VM is an outlier the median drops.
// Every op is its own explicit loop, so V8 sees one monomorphic call site each.
const CHUNK = 50;
const now = process.hrtime.bigint;

function result(times, calls, total, nulls) {
  times.sort((a, b) => a - b);
  const m = times.length;
  const median = m % 2 ? times[(m - 1) / 2] : (times[m / 2 - 1] + times[m / 2]) / 2;
  return `ns ${median.toFixed(1)} mean ${(total / calls).toFixed(1)} calls ${calls} nulls ${nulls}`;
}

function slice(start, count) {
  if (start < 0 || count < 1 || start + count > sockets.length) throw new Error('range');
  return sockets.slice(start, start + count);
}

// The flattened list a loop walks: `passes` times over the slice.
function repeat(list, passes) {
  const out = [];
  for (let k = 0; k < passes; k++) out.push(...list);
  return out;
}

const ops = {
  first(start, count) {
    return ops.cached(start, count, 1);
  },
  cached(start, count, passes) {
    const s = repeat(slice(start, count), passes);
    const times = [];
    let nulls = 0;
    const T0 = now();
    for (let j = 0; j < s.length; ) {
      const end = Math.min(s.length, j + CHUNK);
      const j0 = j;
      const t0 = now();
      for (; j < end; j++) {
        const p = getRealPeer(s[j]);
        if (p === null) nulls++;
        else sink += p.port;
      }
      times.push(Number(now() - t0) / (end - j0));
    }
    return result(times, s.length, Number(now() - T0), nulls);
  },
  raddr_first(start, count) {
    return ops.raddr(start, count, 1);
  },
  raddr(start, count, passes) {
    const s = repeat(slice(start, count), passes);
    const times = [];
    let nulls = 0;
    const T0 = now();
    for (let j = 0; j < s.length; ) {
      const end = Math.min(s.length, j + CHUNK);
      const j0 = j;
      const t0 = now();
      for (; j < end; j++) {
        const a = s[j].remoteAddress;
        if (a === undefined) nulls++;
        else sink += a.length;
      }
      times.push(Number(now() - t0) / (end - j0));
    }
    return result(times, s.length, Number(now() - T0), nulls);
  },
  addon(start, count, passes, optname = 1345) {
    const fds = repeat(slice(start, count).map((x) => x._handle.fd), passes);
    const b = binding();
    const record = b.record;
    const times = [];
    let nulls = 0;
    const T0 = now();
    for (let j = 0; j < fds.length; ) {
      const end = Math.min(fds.length, j + CHUNK);
      const j0 = j;
      const t0 = now();
      for (; j < end; j++) {
        if (b.getPeer(fds[j], optname) !== 0) nulls++;
        else sink += record[3];
      }
      times.push(Number(now() - t0) / (end - j0));
    }
    return result(times, fds.length, Number(now() - T0), nulls);
  },
  addon_noobj(start, count, passes) {
    return ops.addon(start, count, passes, 1346);
  },
  addon_decode(start, count) {
    const s = slice(start, count);
    const b = binding();
    const record = b.record;
    const times = [];
    let nulls = 0;
    const T0 = now();
    for (let j = 0; j < s.length; ) {
      const end = Math.min(s.length, j + CHUNK);
      const j0 = j;
      const t0 = now();
      for (; j < end; j++) {
        const p = b.getPeer(s[j]._handle.fd, 1345) === 0 ? decodePeerRecord(record) : null;
        if (p === null) nulls++;
        else sink += p.port;
      }
      times.push(Number(now() - t0) / (end - j0));
    }
    return result(times, s.length, Number(now() - T0), nulls);
  },
  addon_decode_cache(start, count) {
    const s = slice(start, count);
    const b = binding();
    const record = b.record;
    const times = [];
    let nulls = 0;
    const T0 = now();
    for (let j = 0; j < s.length; ) {
      const end = Math.min(s.length, j + CHUNK);
      const j0 = j;
      const t0 = now();
      for (; j < end; j++) {
        const socket = s[j];
        const handle = socket._handle;
        const p = b.getPeer(handle.fd, 1345) === 0 ? decodePeerRecord(record) : null;
        handle[kept] = p;
        socket[kept] = p;
        if (p === null) nulls++;
        else sink += p.port;
      }
      times.push(Number(now() - t0) / (end - j0));
    }
    return result(times, s.length, Number(now() - T0), nulls);
  },
};
// addon_decode_cache's own key, as lib/real-peer.ts keeps its answers.
const kept = Symbol('bench.kept');

const rl = createInterface({ input: process.stdin });
let queue = Promise.resolve();
rl.on('line', (line) => {
  queue = queue.then(async () => {
    const [cmd, ...args] = line.trim().split(/\s+/);
    const n = args.map(Number);
    try {
      if (cmd === 'accept') {
        // Until TOTAL are held, or none came for 20 s (answers with what it holds).
        while (sockets.length < n[0]) {
          const had = sockets.length;
          await new Promise((resolve) => {
            const timer = setTimeout(resolve, 20000);
            waiting = { total: n[0], resolve: () => (clearTimeout(timer), resolve()) };
          });
          waiting = null;
          if (sockets.length === had) {
            process.stderr.write(`call.mjs: no connection for 20 s (${had} of ${n[0]})\n`);
            break;
          }
        }
        console.log(`accepted ${sockets.length}`);
      } else if (ops[cmd]) {
        console.log(ops[cmd](...n));
      } else {
        console.log('error unknown command');
      }
    } catch (e) {
      console.log(`error ${e.message}`);
    }
  });
});
rl.on('close', () => queue.then(() => {
  process.stderr.write(`sink ${sink}\n`);
  process.exit(0);
}));
