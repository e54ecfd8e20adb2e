// SPDX-License-Identifier: MIT
// `kgwttm doctor`'s round trip, the child's side, run by lib/cli/roundtrip.ts
// inside a network namespace of its own:
//
//   node roundtrip-child.js '<RoundTripPlan as JSON>'
//
// It plays the load balancer on a TUN device: for each planned connection it
// writes the SYN from the LB's address, reads the server's SYN-ACK, and writes
// the ACK carrying the planned option; a real `net` server accepts the
// connection and asks the package's own getRealPeer. It prints one JSON line,
// a RoundTripResult, and judges nothing: doctor compares it with the plan.
//
// Interfaces are set up with iproute2 (`ip -batch`, one process): the command
// every operator knows, and no more native code in the CLI's addon than the
// one ioctl Node cannot make (src/cli/tun.cc).

import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import * as net from 'node:net';

import { getRealPeer, setOptname } from '../index.js';
import { ACK, RST, SYN, encodeOption, ipv4TcpPacket, type ParsedTcp } from './packet.js';
import type { CaseResult, RoundTripResult } from './roundtrip.js';
import type { PlannedCase, RoundTripPlan } from './roundtrip-plan.js';
import { Tun, openTun } from './tun.js';

const TUN_NAME = 'kgwttm0';
/** Each step (SYN-ACK, accept) on the local TUN takes milliseconds; this only bounds a broken one. */
const STEP_MS = 5000;
/** MSS 1460, as any client's SYN carries one. */
const SYN_OPTIONS = Uint8Array.of(2, 4, 0x05, 0xb4);

function setUpInterfaces(plan: RoundTripPlan): string | undefined {
  // No IPv6 on the TUN: no router solicitations or MLD reports to read past.
  try {
    writeFileSync(`/proc/sys/net/ipv6/conf/${TUN_NAME}/disable_ipv6`, '1');
  } catch {
    // IPv6 disabled or absent altogether: nothing to quiet.
  }
  const commands = [
    'link set lo up',
    `addr add ${plan.server} peer ${plan.lb} dev ${TUN_NAME}`,
    `link set ${TUN_NAME} up`,
  ];
  const ip = spawnSync('ip', ['-batch', '-'], { input: commands.join('\n') + '\n', encoding: 'utf8' });
  if (ip.error !== undefined)
    return (ip.error as NodeJS.ErrnoException).code === 'ENOENT' ? 'ip (iproute2) is not installed' : `ip: ${ip.error.message}`;
  if (ip.status !== 0) return `ip -batch (${commands.join('; ')}): ${ip.stderr.trim() || `exit ${ip.status}`}`;
  return undefined;
}

/** The next connection the server accepts. */
function nextConnection(server: net.Server, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const onConnection = (socket: net.Socket): void => {
      clearTimeout(timer);
      resolve(socket);
    };
    const timer = setTimeout(() => {
      server.off('connection', onConnection);
      reject(new Error(`the server accepted no connection within ${timeoutMs} ms of the handshake's ACK`));
    }, timeoutMs);
    server.once('connection', onConnection);
  });
}

async function runCase(tun: Tun, server: net.Server, plan: RoundTripPlan, planned: PlannedCase, isn: number): Promise<CaseResult> {
  const result: CaseResult = { name: planned.name, got: null, remoteAddress: null, remotePort: null };
  const base = { src: plan.lb, dst: plan.server, sport: planned.sport, dport: plan.port };
  const fromServer = (packet: ParsedTcp): boolean =>
    packet.src === plan.server && packet.dst === plan.lb && packet.sport === plan.port && packet.dport === planned.sport;
  let socket: net.Socket | undefined;
  try {
    const answer = tun.next((packet) => fromServer(packet) && (packet.flags & (SYN | RST)) !== 0, STEP_MS, 'SYN-ACK from the server');
    tun.write(ipv4TcpPacket({ ...base, seq: isn, ack: 0, flags: SYN, options: SYN_OPTIONS }));
    const synAck = await answer;
    if ((synAck.flags & RST) !== 0) throw new Error('the server answered the SYN with RST');
    if (synAck.ack !== ((isn + 1) >>> 0)) throw new Error(`the SYN-ACK acknowledges ${synAck.ack}, not ${(isn + 1) >>> 0}`);
    const accepted = nextConnection(server, STEP_MS);
    const option = planned.client === null ? undefined : encodeOption(planned.format ?? '', planned.client.address, planned.client.port);
    tun.write(ipv4TcpPacket({ ...base, seq: isn + 1, ack: synAck.seq + 1, flags: ACK, ...(option && { options: option }) }));
    socket = await accepted;
    socket.on('error', () => {
      // The RST below resets it: expected.
    });
    result.remoteAddress = socket.remoteAddress ?? null;
    result.remotePort = socket.remotePort ?? null;
    result.got = getRealPeer(socket);
  } catch (err) {
    result.error = (err as Error).message;
  } finally {
    // The LB's RST ends the connection on the server at once (no FIN_WAIT).
    tun.write(ipv4TcpPacket({ ...base, seq: isn + 1, ack: 0, flags: RST }));
    socket?.destroy();
  }
  return result;
}

async function run(plan: RoundTripPlan): Promise<RoundTripResult> {
  let fd: number;
  try {
    fd = openTun(TUN_NAME);
  } catch (err) {
    const error = err as NodeJS.ErrnoException;
    const hint = error.code === 'ENOENT' ? ' (no TUN support: modprobe tun)' : '';
    return { ran: false, reason: `cannot open a TUN device: ${error.message}${hint}` };
  }
  const setupError = setUpInterfaces(plan);
  if (setupError !== undefined) return { ran: false, reason: setupError };
  setOptname(plan.optname);
  const tun = new Tun(fd);
  const server = net.createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(plan.port, plan.server, resolve);
    });
  } catch (err) {
    return { ran: false, reason: `cannot listen on ${plan.server}:${plan.port} in the namespace: ${(err as Error).message}` };
  }
  const cases: CaseResult[] = [];
  // Distinct ISNs per connection, fixed so that a packet capture is readable.
  for (const [i, planned] of plan.cases.entries()) cases.push(await runCase(tun, server, plan, planned, 0x10000000 * (i + 1)));
  server.close();
  return { ran: true, cases };
}

const planText = process.argv[2];
const done = (result: RoundTripResult): void => {
  // Exit once written: nothing else needs to end in this process.
  process.stdout.write(JSON.stringify(result) + '\n', () => process.exit(0));
};
if (planText === undefined) done({ ran: false, reason: 'roundtrip-child: no plan given' });
else
  run(JSON.parse(planText) as RoundTripPlan).then(done, (err: unknown) =>
    done({ ran: false, reason: `roundtrip-child failed: ${err instanceof Error ? err.message : String(err)}` }),
  );
