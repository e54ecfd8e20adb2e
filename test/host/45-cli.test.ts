// SPDX-License-Identifier: MIT
// The operator CLI on a host without the module (this one): `kgwttm status` and
// `kgwttm doctor` as installed (package.json's bin, the built dist/), their
// exit codes and JSON shapes, usage errors; and what doctor says of hosts we
// cannot make here (a loaded module, vtoa loaded, the optname taken), from
// procfs/sysfs trees written for the test.

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';

import { doctor, type Check } from '../../lib/cli/doctor.js';
import { fakeHost, fakeLoadedHost, type FakeHost, type FakeHostOptions } from '../lib/cli-fixtures.js';

const root = join(__dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { bin?: Record<string, string> };
const bin = join(root, pkg.bin?.kgwttm ?? 'package.json has no bin.kgwttm');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function kgwttm(...args: string[]): Run {
  const run = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 20_000 });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

function json(run: Run): Record<string, unknown> {
  return JSON.parse(run.stdout) as Record<string, unknown>;
}

// A host whose module has seen some traffic.
const TRAFFIC = { with_option: 12, without_option: 3, malformed: 0, untrusted: 0, nomem: 0, missed: 0, live: 5, entry_bytes: 96 };
const loadedHost = (t: Test, opts: FakeHostOptions = {}): FakeHost => fakeLoadedHost(t, { counters: TRAFFIC, ...opts });

// The loaded module answers the loopback probe; the round trip's own verdicts
// are in 46-cli-roundtrip, here it cannot run.
const probe = async (): Promise<{ answered: true; errno: string }> => ({ answered: true, errno: 'ENOENT' });
const roundTrip = async (): Promise<{ ran: false; reason: string }> => ({ ran: false, reason: 'not on this host' });

function byName(checks: Check[]): Record<string, Check> {
  return Object.fromEntries(checks.map((check) => [check.name, check]));
}

t.test('package.json bin.kgwttm is the built CLI, runnable by node', async (t) => {
  t.ok(existsSync(bin), `${bin} exists (npm run build)`);
  t.match(readFileSync(bin, 'utf8'), /^#!\/usr\/bin\/env node\n/, 'starts with a node shebang');
});

t.test('kgwttm --help documents the commands and the exit codes', async (t) => {
  const run = kgwttm('--help');
  t.equal(run.code, 0);
  for (const text of ['status', 'doctor', '--json', '0  healthy', '1  problems found', '2  usage error', '3  the module is not loaded'])
    t.ok(run.stdout.includes(text), `mentions "${text}"`);
  t.match(run.stdout, /a real round trip: in a throwaway network namespace/);
});

t.test('status without the module: exit 3, "not loaded"', async (t) => {
  const run = kgwttm('status');
  t.equal(run.code, 3);
  t.match(run.stdout, /^kgwttm: not loaded/);
  const asJson = kgwttm('status', '--json');
  t.equal(asJson.code, 3);
  t.same(json(asJson), { backend: 'none', loaded: false, version: null, counters: {}, parameters: {} });
});

t.test('status of a loaded module: exit 0, version, parameters and counters', async (t) => {
  const { proc, sys } = loadedHost(t);
  const run = kgwttm('status', '--json', '--proc', proc, '--sys', sys);
  t.equal(run.code, 0);
  t.same(json(run), {
    backend: 'module',
    loaded: true,
    version: '0.1.0',
    counters: { with_option: 12, without_option: 3, malformed: 0, untrusted: 0, nomem: 0, missed: 0, live: 5, entry_bytes: 96 },
    parameters: { formats: '254:8,254:20,254:22', optname: '1345', rewrite_getname: 'Y', trusted_nets: '10.0.0.0/24,fd00::/64' },
  });
  const human = kgwttm('status', '--proc', proc, '--sys', sys);
  t.equal(human.code, 0);
  t.match(human.stdout, /^kgwttm: loaded, version 0\.1\.0\nparameters:\n/);
  t.match(human.stdout, /\n {2}trusted_nets +10\.0\.0\.0\/24,fd00::\/64\n/);
  t.match(human.stdout, /\ncounters:\n(.*\n)* {2}with_option +12\n/);
});

t.test('status of a module that trusts no one (its default): trusted_nets "(none)", the raw empty string in JSON', async (t) => {
  const { proc, sys } = loadedHost(t, { trusted: '' });
  const human = kgwttm('status', '--proc', proc, '--sys', sys);
  t.equal(human.code, 0, 'status reports; doctor judges');
  t.match(human.stdout, /\n {2}trusted_nets +\(none\)\n/);
  t.equal((json(kgwttm('status', '--json', '--proc', proc, '--sys', sys)).parameters as Record<string, string>).trusted_nets, '');
});

t.test('doctor on this host: exit 3 (not loaded), the optname free, JSON with every check', async (t) => {
  const run = kgwttm('doctor', '--json');
  t.equal(run.code, 3, run.stdout + run.stderr);
  const report = json(run);
  t.match(report, { kernel: release(), backend: 'none', loaded: false, version: null, optname: 1345, healthy: false, exitCode: 3 });
  const checks = report.checks as Check[];
  for (const check of checks) {
    t.match(check, { name: String, message: String });
    t.ok(['ok', 'warn', 'fail', 'info'].includes(check.status), `${check.name}: status ${check.status}`);
  }
  const named = byName(checks);
  t.same(Object.keys(named), ['kernel', 'headers', 'installed', 'loaded', 'conflicts', 'signing', 'optname', 'somaxconn', 'listen-queue', 'keepalive']);
  t.equal(named.loaded?.status, 'fail');
  t.not(named.conflicts?.status, 'fail', 'no TOA module here (warn where /proc/modules is hidden)');
  t.equal(named.optname?.status, 'ok');
  t.match(named.optname?.message, /ENOPROTOOPT/);
  const human = kgwttm('doctor');
  t.equal(human.code, 3);
  t.match(human.stdout, /^\[FAIL\] loaded +kgwttm is not loaded/m);
  t.match(human.stdout, /^\[ok  \] optname +getsockopt\(SOL_IP, 1345\) on a loopback connection: ENOPROTOOPT/m);
});

t.test('doctor with vtoa loaded (and so no kgwttm): exit 1, the conflict named', async (t) => {
  const { proc, sys } = fakeHost(t, { modules: 'vtoa 16384 0 - Live 0x0000000000000000\nnf_conntrack 1 0 - Live 0x0\n' });
  const run = kgwttm('doctor', '--json', '--proc', proc, '--sys', sys);
  t.equal(run.code, 1, 'a failed check outranks "not loaded"');
  const named = byName(json(run).checks as Check[]);
  t.equal(named.loaded?.status, 'fail');
  t.equal(named.conflicts?.status, 'fail');
  t.match(named.conflicts?.message, /vtoa/);
});

t.test('doctor: the optname answered by another module, or not by a loaded kgwttm, is a failure', async (t) => {
  const notLoaded = await doctor({ proc: '/nonexistent', sys: '/nonexistent', probe: async () => ({ answered: true, errno: 'ENOENT' }) });
  t.equal(byName(notLoaded.checks).optname?.status, 'fail');
  t.match(byName(notLoaded.checks).optname?.message, /another module answers optname 1345/);
  const { proc, sys } = loadedHost(t);
  const silent = await doctor({ proc, sys, probe: async () => ({ answered: true, errno: 'ENOPROTOOPT' }), roundTrip });
  t.equal(byName(silent.checks).optname?.status, 'fail');
  const healthy = await doctor({
    proc,
    sys,
    probe,
    roundTrip,
  });
  t.same(
    healthy.checks.filter((check) => check.status === 'fail'),
    [],
    'a loaded module that answers ENOENT fails no check',
  );
  t.match(byName(healthy.checks).traffic, { status: 'info', message: /^12 connections so far carried a client address/ });
  t.same(byName(healthy.checks)['round-trip'], { name: 'round-trip', status: 'warn', message: 'not run: not on this host' });
});

const trustOf = async (t: Test, trusted: string, counters: Record<string, number> = TRAFFIC): Promise<Check | undefined> =>
  byName((await doctor({ ...loadedHost(t, { trusted, counters }), probe, roundTrip })).checks).trust;

t.test('doctor fails when nothing is trusted (the module\'s default), and says which line to set where', async (t) => {
  for (const empty of ['', ' , ']) {
    const trust = await trustOf(t, empty);
    t.equal(trust?.status, 'fail', `trusted_nets=${JSON.stringify(empty)}`);
    t.match(trust?.message, /^trusted_nets is empty: the module believes no load balancer and ignores every client address option; /);
    t.match(trust?.message, /set trusted_nets to the load balancers' local-IP networks in \/etc\/modprobe\.d\/kgwttm\.conf /);
    t.match(trust?.message, /"options kgwttm trusted_nets=10\.0\.0\.0\/24,fd00::\/64" with your LB subnets/);
    t.match(trust?.message, /then reload the module: modprobe -r kgwttm && modprobe kgwttm$/);
  }
  const { proc, sys } = loadedHost(t, { trusted: '' });
  const run = kgwttm('doctor', '--proc', proc, '--sys', sys);
  t.equal(run.code, 1, 'a module that believes no one is a problem, not "not loaded"');
  t.match(run.stdout, /^\[FAIL\] trust +trusted_nets is empty: /m);
  t.match(run.stdout, /^\[WARN\] round-trip +not run: trusted_nets is empty/m, 'no round trip that could only fail');
});

t.test('doctor warns when every source is trusted: any, or a /0', async (t) => {
  const any = await trustOf(t, 'any');
  t.same(any, {
    name: 'trust',
    status: 'warn',
    message: "trusted_nets=any: every source is believed, so a client that reaches this host directly can forge its address; list the load balancers' networks",
  });
  const v4 = await trustOf(t, '0.0.0.0/0,fd00::/64');
  t.equal(v4?.status, 'warn');
  t.match(v4?.message, /^trusted_nets=0\.0\.0\.0\/0,fd00::\/64: 0\.0\.0\.0\/0 believes every IPv4 source, so a client that reaches this host directly can forge its address/);
  t.notMatch(v4?.message, /holds/, 'a /0 is not also listed as holding the private blocks');
  const both = await trustOf(t, '10.0.0.0/24,::/0,0.0.0.0/0');
  t.match(both?.message, /^trusted_nets=10\.0\.0\.0\/24,::\/0,0\.0\.0\.0\/0: ::\/0, 0\.0\.0\.0\/0 believes every IPv6 and IPv4 source/);
});

t.test('doctor warns when a whole private, shared or ULA range is trusted, or a network holding one', async (t) => {
  const forged =
    /: anything that can reach this host from (that range|those ranges) \(containers on this host, other VMs, overlay peers\) can forge client addresses; narrow it to the load balancers' local-IP subnet in \/etc\/modprobe\.d\/kgwttm\.conf, then modprobe -r kgwttm && modprobe kgwttm$/;
  for (const range of ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', 'fc00::/7']) {
    const trust = await trustOf(t, `${range},192.0.2.0/28`);
    t.equal(trust?.status, 'warn', range);
    t.ok(trust?.message.startsWith(`trusted_nets trusts ${range}: anything that can reach this host from that range`), trust?.message ?? 'no trust check');
    t.match(trust?.message, forged);
  }
  const wider = await trustOf(t, '10.0.0.0/7,172.0.0.0/8,fc00::/6,100.64.0.0/11');
  t.equal(wider?.status, 'warn');
  t.match(
    wider?.message,
    /^trusted_nets trusts 10\.0\.0\.0\/7 \(holds 10\.0\.0\.0\/8\), 172\.0\.0\.0\/8 \(holds 172\.16\.0\.0\/12\), fc00::\/6 \(holds fc00::\/7\): anything that can reach this host from those ranges/,
    '100.64.0.0/11 is half of 100.64/10: narrower, so not named',
  );
  t.match(wider?.message, forged);
  const old = await trustOf(t, '10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,100.64.0.0/10,fc00::/7');
  t.match(old?.message, /^trusted_nets trusts 10\.0\.0\.0\/8, 172\.16\.0\.0\/12, 192\.168\.0\.0\/16, 100\.64\.0\.0\/10, fc00::\/7: .* from those ranges/, 'the old default: all five named');
  const half = await trustOf(t, '128.0.0.0/1');
  t.match(half?.message, /^trusted_nets trusts 128\.0\.0\.0\/1 \(holds 172\.16\.0\.0\/12, 192\.168\.0\.0\/16\): /);
});

t.test('doctor is content with load balancer subnets, even many or inside a private block', async (t) => {
  for (const trusted of ['10.0.0.0/24,fd00::/64', '10.200.0.0/24,fd00:200::/64,10.201.0.0/24,fd00:201::/64', '172.16.0.0/13,192.168.1.7,10.0.0.0/9,fd00::/8'])
    t.same(await trustOf(t, trusted), { name: 'trust', status: 'ok', message: `options believed from ${trusted}` });
});

t.test('doctor warns when options came only from sources outside trusted_nets, beside any other trust warning', async (t) => {
  const counters = { with_option: 0, without_option: 0, malformed: 0, untrusted: 7, nomem: 0, missed: 2, live: 0, entry_bytes: 96 };
  const outside = await doctor({ ...loadedHost(t, { counters }), probe, roundTrip });
  t.same(byName(outside.checks).trust, {
    name: 'trust',
    status: 'warn',
    message: "7 options came from sources outside trusted_nets (10.0.0.0/24,fd00::/64) and none from inside: add the load balancers' networks",
  });
  t.equal(byName(outside.checks).missed?.status, 'warn');
  const broad = await trustOf(t, '192.168.0.0/16', counters);
  t.match(broad?.message, /^trusted_nets trusts 192\.168\.0\.0\/16: .*; 7 options came from sources outside trusted_nets \(192\.168\.0\.0\/16\)/);
});

t.test('kgwttm --version (-V) prints the package’s version; --json as an object', async (t) => {
  const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
  for (const flag of ['--version', '-V']) t.same(kgwttm(flag), { code: 0, stdout: `kgwttm ${version}\n`, stderr: '' }, flag);
  t.same(json(kgwttm('--version', '--json')), { version });
});

t.test('usage errors: exit 2, a message on stderr, nothing on stdout', async (t) => {
  for (const args of [[], ['bogus'], ['status', 'doctor'], ['--frobnicate', 'status'], ['status', '--proc'], ['status', '--proc=']]) {
    const run = kgwttm(...args);
    t.equal(run.code, 2, `kgwttm ${args.join(' ')}`);
    t.equal(run.stdout, '');
    t.match(run.stderr, /^kgwttm: .+\nusage: kgwttm/);
  }
});
