// SPDX-License-Identifier: MIT
// `kgwttm doctor`'s round trip, on a host without the module (this one):
// - the TypeScript packet builder, byte for byte against test/lbsim/lbsim.py
//   (an independent implementation) and against fixed checksums;
// - the plan: which LB address and option formats the module's parameters give;
// - doctor's verdict from an injected round trip: ok, fail (each way a
//   connection can come back wrong, with the counters' hint), not run, and no
//   round trip at all without the module;
// - the real thing where this host allows it: a network namespace, a TUN
//   device and three handshakes, whose getRealPeer answers null here (no
//   module); and "not run" when unshare is not on PATH.
// The guest suite (test/guest/45-cli.test.sh) runs it against the module.

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import t, { type Test } from 'tap';

import { doctor, type Check } from '../../lib/cli/doctor.js';
import { fakeLoadedHost } from '../lib/cli-fixtures.js';
import {
  ACK,
  RST,
  SYN,
  addressBytes,
  encodeOption,
  internetChecksum,
  ipv4TcpPacket,
  parseIpv4Tcp,
  toaV4,
  toaV6,
  ttmPeer,
  type TcpSegment,
} from '../../lib/cli/packet.js';
import { roundTripTimeoutMs, runRoundTrip, type CaseResult, type RoundTripResult } from '../../lib/cli/roundtrip.js';
import { CLIENT4, CLIENT6, pickAddresses, planRoundTrip, type RoundTripPlan } from '../../lib/cli/roundtrip-plan.js';

const root = join(__dirname, '..', '..');
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

/** lbsim's bytes for the same packets: `[src, dst, sport, dport, seq, ack, flags, options hex, ident]` each. */
function lbsimPackets(packets: Array<[string, string, number, number, number, number, number, string, number]>): string[] {
  const script = `
import json, sys
sys.path.insert(0, 'test/lbsim')
import lbsim
for src, dst, sport, dport, seq, ack, flags, options, ident in json.loads(sys.argv[1]):
    seg = lbsim.tcp_segment(src, dst, sport, dport, seq, ack, flags, options=lbsim.pad_options(bytes.fromhex(options)))
    print(lbsim.ip_packet(src, dst, seg, ident=ident).hex())
`;
  const run = spawnSync('/usr/bin/python3', ['-c', script, JSON.stringify(packets)], { cwd: root, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`lbsim: ${run.stderr}`);
  return run.stdout.trim().split('\n');
}

/** lbsim's option encoders, as hex. */
function lbsimOptions(): Record<string, string> {
  const script = `
import json, sys
sys.path.insert(0, 'test/lbsim')
import lbsim
print(json.dumps({
    'toa4': lbsim.toa_v4('203.0.113.7', 4242).hex(),
    'k200': lbsim.toa_v4('203.0.113.7', 4242, kind=200).hex(),
    'toa6': lbsim.toa_v6('2001:db8::7', 4242).hex(),
    'k253': lbsim.toa_v6('2001:db8::7', 4242, kind=253).hex(),
    'ttm4': lbsim.ttm_peer(2, '203.0.113.7', 4242).hex(),
    'ttm6': lbsim.ttm_peer(10, '2001:db8::7', 4242).hex(),
}))
`;
  const run = spawnSync('/usr/bin/python3', ['-c', script], { cwd: root, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`lbsim: ${run.stderr}`);
  return JSON.parse(run.stdout) as Record<string, string>;
}

t.test('internetChecksum: the classic IPv4 header example, odd lengths, and zero over a checksummed header', async (t) => {
  // 45 00 00 73 00 00 40 00 40 11 [b8 61] c0 a8 00 01 c0 a8 00 c7: a worked example of RFC 1071's sum.
  const header = Buffer.from('450000730000400040110000c0a80001c0a800c7', 'hex');
  t.equal(internetChecksum(header), 0xb861);
  header.writeUInt16BE(0xb861, 10);
  t.equal(internetChecksum(header), 0, 'a header with its checksum sums to zero');
  t.equal(internetChecksum(Uint8Array.of(0x01)), 0xfeff, 'an odd byte is the high byte of a zero-padded word');
  t.equal(internetChecksum(header.subarray(0, 7), header.subarray(7)), 0, 'split at an odd offset: the same sum');
});

t.test("option encoders: the bytes of README.md's wire-format table, and the same as lbsim", async (t) => {
  t.equal(hex(toaV4('203.0.113.7', 4242)), 'fe081092cb007107');
  t.equal(hex(toaV6('2001:db8::7', 4242)), 'fe141092' + '20010db8000000000000000000000007');
  t.equal(hex(ttmPeer('203.0.113.7', 4242)), 'fe1602001092cb007107' + '00'.repeat(12));
  const lbsim = lbsimOptions();
  t.same(
    {
      toa4: hex(encodeOption('254:8', '203.0.113.7', 4242)),
      k200: hex(encodeOption('200:8', '203.0.113.7', 4242)),
      toa6: hex(encodeOption('254:20', '2001:db8::7', 4242)),
      k253: hex(encodeOption('253:20', '2001:db8::7', 4242)),
      ttm4: hex(encodeOption('254:22', '203.0.113.7', 4242)),
      ttm6: hex(encodeOption('254:22', '2001:db8::7', 4242)),
    },
    lbsim,
  );
  t.throws(() => encodeOption('254:9', '203.0.113.7', 1), /no encoder/);
  t.throws(() => toaV4('2001:db8::7', 1), TypeError);
});

t.test('addressBytes: IPv4, IPv6 with ::, and an IPv4 tail', async (t) => {
  t.equal(hex(addressBytes('10.0.0.2')), '0a000002');
  t.equal(hex(addressBytes('::')), '00'.repeat(16));
  t.equal(hex(addressBytes('2001:db8::')), '20010db8' + '00'.repeat(12));
  t.equal(hex(addressBytes('::ffff:1.2.3.4')), '00'.repeat(10) + 'ffff01020304');
  t.equal(hex(addressBytes('fe80:1:2:3:4:5:6:7')), 'fe80000100020003000400050006' + '0007');
  t.throws(() => addressBytes('10.0.0'), TypeError);
});

t.test('ipv4TcpPacket: byte for byte what lbsim builds (SYN with MSS, ACKs with each option, RST)', async (t) => {
  const packets: Array<[string, string, number, number, number, number, number, string, number]> = [
    ['10.0.0.2', '10.0.0.1', 40001, 8080, 0x10000000, 0, SYN, '020405b4', 0],
    ['10.0.0.2', '10.0.0.1', 40001, 8080, 0x10000001, 0xdeadbeef, ACK, hex(toaV4('203.0.113.7', 4242)), 1],
    ['10.0.0.2', '10.0.0.1', 40002, 8080, 0x20000001, 0xffffffff, ACK, hex(toaV6('2001:db8::7', 4242)), 2],
    ['192.168.7.2', '192.168.7.1', 40003, 8080, 0x30000001, 7, ACK, hex(ttmPeer('2001:db8::7', 4242)), 3],
    ['10.0.0.2', '10.0.0.1', 40003, 8080, 0xffffffff, 0, RST, '', 65535],
  ];
  const expected = lbsimPackets(packets);
  packets.forEach(([src, dst, sport, dport, seq, ack, flags, options, ident], i) => {
    const segment: TcpSegment = { src, dst, sport, dport, seq, ack, flags, options: Buffer.from(options, 'hex'), ident };
    const packet = ipv4TcpPacket(segment);
    t.equal(hex(packet), expected[i], `packet ${i}: same bytes as lbsim`);
    const parsed = parseIpv4Tcp(packet);
    t.match(parsed, { src, dst, sport, dport, seq, ack, flags, checksumsOk: true }, `packet ${i} parses back`);
    t.equal(parsed?.options.subarray(0, options.length / 2).toString('hex'), options, `packet ${i}: its options, EOL-padded`);
  });
});

t.test('parseIpv4Tcp: a flipped bit fails the checksum; IPv6, UDP and short packets are not TCP/IPv4', async (t) => {
  const packet = ipv4TcpPacket({ src: '10.0.0.1', dst: '10.0.0.2', sport: 8080, dport: 40001, seq: 5, ack: 6, flags: SYN | ACK, payload: Buffer.from('hi') });
  t.equal(parseIpv4Tcp(packet)?.payload.toString(), 'hi');
  const flipped = Buffer.from(packet);
  flipped[flipped.length - 1]! ^= 1;
  t.equal(parseIpv4Tcp(flipped)?.checksumsOk, false);
  const udp = Buffer.from(packet);
  udp[9] = 17;
  t.equal(parseIpv4Tcp(udp), null);
  const v6 = Buffer.from(packet);
  v6[0] = 0x60;
  t.equal(parseIpv4Tcp(v6), null);
  t.equal(parseIpv4Tcp(packet.subarray(0, 30)), null);
  t.throws(() => ipv4TcpPacket({ src: '10.0.0.1', dst: '10.0.0.2', sport: 1, dport: 2, seq: 0, ack: 0, flags: 0, options: new Uint8Array(41) }), RangeError);
});

t.test('the plan: the LB in the first usable IPv4 net of trusted_nets, the formats the module accepts', async (t) => {
  t.same(pickAddresses('10.0.0.0/8,172.16.0.0/12,fc00::/7'), { lb: '10.0.0.2', server: '10.0.0.1' });
  t.same(pickAddresses('fc00::/7, 127.0.0.0/8, 100.64.0.0/10'), { lb: '100.64.0.2', server: '100.64.0.1' }, 'loopback passed over');
  t.same(pickAddresses('192.168.7.5'), { lb: '192.168.7.5', server: '192.0.2.1' }, 'a bare address is a /32');
  t.same(pickAddresses('192.0.2.1/32'), { lb: '192.0.2.1', server: '192.0.2.2' });
  t.same(pickAddresses('any'), { lb: '10.200.0.2', server: '10.200.0.1' });
  t.same(pickAddresses('0.0.0.0/0'), { lb: '10.200.0.2', server: '10.200.0.1' });
  for (const empty of ['', ' , ', '(null)'])
    t.match(pickAddresses(empty), /^trusted_nets is empty: the module believes no load balancer/, `${JSON.stringify(empty)}: no plan, nothing is trusted`);
  t.same(pickAddresses('::/0,0.0.0.0/0,10.1.0.0/16'), { lb: '10.1.0.2', server: '10.1.0.1' }, 'a /0 comes after a real network');
  t.match(pickAddresses('fc00::/7'), /^trusted_nets=fc00::\/7 holds no IPv4 network/);

  const plan = planRoundTrip({ trusted_nets: '10.0.0.0/8', formats: '254:8,254:20,254:22', rewrite_getname: 'Y' }, 1345);
  t.match(plan, {
    lb: '10.0.0.2',
    optname: 1345,
    rewriteGetname: true,
    cases: [
      { name: '4to4', format: '254:8', client: CLIENT4 },
      { name: '6to4', format: '254:20', client: CLIENT6 },
      { name: 'none', format: null, client: null },
    ],
  });
  const other = planRoundTrip({ trusted_nets: '10.0.0.0/8', formats: '200:8,254:22', rewrite_getname: 'N' }, 1400);
  t.match(other, { optname: 1400, rewriteGetname: false, cases: [{ format: '200:8' }, { format: '254:22' }, { name: 'none' }] });
  const v6only = planRoundTrip({ trusted_nets: '10.0.0.0/8', formats: '253:20' }, 1345);
  t.same('cases' in v6only ? v6only.cases.map((c) => c.name) : v6only, ['6to4', 'none']);
  t.match(planRoundTrip({ trusted_nets: 'fc00::/7', formats: '254:8' }, 1345), { reason: /no IPv4 network/ });
  const ports = 'cases' in plan ? plan.cases.map((c) => c.sport) : [];
  t.equal(new Set(ports).size, ports.length, 'each connection its own source port');
});


const probe = async (): Promise<{ answered: true; errno: string }> => ({ answered: true, errno: 'ENOENT' });

/** What a working module gives for a plan. */
function healthyCases(plan: RoundTripPlan): CaseResult[] {
  return plan.cases.map((c) => ({
    name: c.name,
    got: c.client,
    remoteAddress: c.name === '4to4' && plan.rewriteGetname ? (c.client?.address ?? null) : plan.lb,
    remotePort: c.name === '4to4' && plan.rewriteGetname ? (c.client?.port ?? null) : c.sport,
  }));
}

function roundTripCheck(checks: Check[]): Check | undefined {
  return checks.find((check) => check.name === 'round-trip');
}

t.test('doctor: a round trip that shows every client is ok, and says what it proved', async (t) => {
  const host = fakeLoadedHost(t);
  const plans: RoundTripPlan[] = [];
  const report = await doctor({
    ...host,
    probe,
    roundTrip: async (plan) => {
      plans.push(plan);
      host.counters({ with_option: 2, without_option: 1 });
      return { ran: true, cases: healthyCases(plan) };
    },
  });
  t.equal(plans.length, 1, 'run once');
  t.equal(plans[0]?.lb, '10.0.0.2');
  t.same(roundTripCheck(report.checks), {
    name: 'round-trip',
    status: 'ok',
    message:
      '4to4: LB 10.0.0.2 wrote 203.0.113.7:4242 in a 254:8 option: getRealPeer returned it, and so did remoteAddress; ' +
      '6to4: LB 10.0.0.2 wrote [2001:db8::7]:4242 in a 254:20 option: getRealPeer returned it; ' +
      'a connection without the option: getRealPeer null (with_option +2)',
  });
  t.same(report.checks.filter((check) => check.status === 'fail'), []);
  t.match(report.roundTrip, { plan: { lb: '10.0.0.2' }, result: { ran: true } }, 'the JSON report carries plan and result');

  const noRewrite = fakeLoadedHost(t, { trusted: '10.0.0.0/8', rewrite: 'N' });
  const plain = await doctor({ ...noRewrite, probe, roundTrip: async (plan) => ({ ran: true, cases: healthyCases(plan) }) });
  t.equal(roundTripCheck(plain.checks)?.status, 'ok', 'rewrite_getname=N: the 4to4 remoteAddress is the LB');
  t.notMatch(roundTripCheck(plain.checks)?.message, /remoteAddress/);
});

t.test('doctor: each way a connection can come back wrong is a failure that names it', async (t) => {
  const wrong = async (t: Test, change: (cases: CaseResult[]) => void, moved: Record<string, number> = { with_option: 2, without_option: 1 }): Promise<Check | undefined> => {
    const host = fakeLoadedHost(t);
    const report = await doctor({
      ...host,
      probe,
      roundTrip: async (plan) => {
        const cases = healthyCases(plan);
        change(cases);
        host.counters(moved);
        return { ran: true, cases };
      },
    });
    return roundTripCheck(report.checks);
  };
  const untrusted = await wrong(t, (cases) => {
    cases[0]!.got = null;
    cases[0]!.remoteAddress = '10.0.0.2';
    cases[1]!.got = null;
  }, { untrusted: 2, without_option: 3 });
  t.equal(untrusted?.status, 'fail');
  t.match(untrusted?.message, /^4to4: LB 10\.0\.0\.2 wrote 203\.0\.113\.7:4242 in a 254:8 option: getRealPeer returned null; 6to4: .*: getRealPeer returned null; untrusted \+2: the module did not trust 10\.0\.0\.2 \(with_option \+0\)$/);

  const unseen = await wrong(t, (cases) => {
    cases[0]!.got = null;
    cases[0]!.remoteAddress = '10.0.0.2';
  }, {});
  t.match(unseen?.message, /counters did not move: its probes saw none of these connections \(kprobes disabled\?/);

  const other = await wrong(t, (cases) => {
    cases[1]!.got = { address: '2001:db8::8', port: 4242, family: 'IPv6' };
  });
  t.match(other?.message, /^6to4: LB 10\.0\.0\.2 wrote \[2001:db8::7\]:4242 in a 254:20 option: getRealPeer returned \[2001:db8::8\]:4242 \(with_option \+2\)$/);

  const getname = await wrong(t, (cases) => {
    cases[0]!.remoteAddress = '10.0.0.2';
    cases[0]!.remotePort = 40001;
  });
  t.match(getname?.message, /^4to4: .*: remoteAddress:remotePort 10\.0\.0\.2:40001, expected 203\.0\.113\.7:4242 \(rewrite_getname=Y\)/);

  const phantom = await wrong(t, (cases) => {
    cases[2]!.got = CLIENT4;
  });
  t.match(phantom?.message, /^a connection without the option: getRealPeer returned 203\.0\.113\.7:4242 for a connection without the option \(expected null\)/);

  const broken = await wrong(t, (cases) => {
    cases[0]!.error = 'no SYN-ACK from the server within 5000 ms';
  });
  t.match(broken?.message, /^4to4: .*: no SYN-ACK from the server within 5000 ms/);

  const missing = await wrong(t, (cases) => {
    cases.pop();
  });
  t.match(missing?.message, /^a connection without the option: no result/);
});

t.test('doctor: not run is a warning with the reason; no round trip without the module or an IPv4 trusted net', async (t) => {
  const notRun = await doctor({
    ...fakeLoadedHost(t),
    probe,
    roundTrip: async (): Promise<RoundTripResult> => ({ ran: false, reason: 'unshare --net: unshare failed: Operation not permitted' }),
  });
  t.same(roundTripCheck(notRun.checks), { name: 'round-trip', status: 'warn', message: 'not run: unshare --net: unshare failed: Operation not permitted' });
  t.same(notRun.checks.filter((check) => check.status === 'fail'), [], 'a round trip that cannot run fails nothing');

  let called = 0;
  const roundTrip = async (): Promise<RoundTripResult> => {
    called++;
    return { ran: false, reason: 'called' };
  };
  // Nothing trusted: no plan; the trust check fails and says how to fix it (45-cli).
  const empty = await doctor({ ...fakeLoadedHost(t, { trusted: '' }), probe, roundTrip });
  t.same(roundTripCheck(empty.checks), {
    name: 'round-trip',
    status: 'warn',
    message: 'not run: trusted_nets is empty: the module believes no load balancer, so a fake one would prove nothing (see the trust check)',
  });
  t.match(empty.roundTrip, { plan: null, result: { ran: false, reason: /^trusted_nets is empty/ } });
  const v6 = await doctor({ ...fakeLoadedHost(t, { trusted: 'fc00::/7' }), probe, roundTrip });
  t.match(roundTripCheck(v6.checks), { status: 'warn', message: /^not run: trusted_nets=fc00::\/7 holds no IPv4 network/ });
  t.match(v6.roundTrip, { plan: null, result: { ran: false } });
  const unloaded = await doctor({ proc: '/nonexistent', sys: '/nonexistent', probe: async () => ({ answered: true, errno: 'ENOPROTOOPT' }), roundTrip });
  t.equal(roundTripCheck(unloaded.checks), undefined, 'no round-trip check without the module');
  t.equal(unloaded.roundTrip, null);
  t.equal(called, 0, 'the round trip never ran');
});

const plan = planRoundTrip({ trusted_nets: '10.0.0.0/8', formats: '254:8,254:20,254:22', rewrite_getname: 'Y' }, 1345) as RoundTripPlan;

t.test('runRoundTrip without unshare on PATH: not run, and why', async (t) => {
  const path = process.env.PATH;
  process.env.PATH = '/nonexistent';
  t.teardown(() => {
    process.env.PATH = path;
  });
  t.same(await runRoundTrip(plan), { ran: false, reason: 'unshare (util-linux) is not installed' });
});

t.test('runRoundTrip on this host: three real handshakes through a TUN device in a new namespace', async (t) => {
  const result = await runRoundTrip(plan);
  if (!result.ran) {
    // A host that does not allow it says why (this one, as root, does).
    t.not(process.getuid?.(), 0, `as root the round trip runs: ${result.reason}`);
    t.match(result.reason, /unshare|TUN|ip/);
    return;
  }
  // No module here: the handshakes complete, getpeername shows the LB, getRealPeer has nothing.
  t.same(
    result.cases,
    plan.cases.map((c) => ({ name: c.name, got: null, remoteAddress: '10.0.0.2', remotePort: c.sport })),
  );
});

t.test('KGWTTM_ROUND_TRIP_TIMEOUT: seconds, else 20 s', async (t) => {
  t.equal(roundTripTimeoutMs(undefined), 20_000);
  t.equal(roundTripTimeoutMs('180'), 180_000);
  t.equal(roundTripTimeoutMs('0.5'), 500);
  for (const bad of ['', '0', '-3', 'ten', 'Infinity']) t.equal(roundTripTimeoutMs(bad), 20_000, `'${bad}' is ignored`);
});
