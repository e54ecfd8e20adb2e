// SPDX-License-Identifier: MIT
// The operator CLI with the BPF backend (issue 14) instead of the module:
// `kgwttm status` and `kgwttm doctor` name the backend that answers and read
// its counters and settings through kgwttm-bpf status and params;
// `kgwttm bpf attach|detach` run the loader with the operator's options, and
// say how to get it when it is missing. A fake kgwttm-bpf (test/lib/
// cli-fixtures.ts) stands in for the loader: the real one is run against a
// kernel in test/guest/62-bpf-cli.test.sh.

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';

import { findLoader } from '../../lib/cli/bpf-loader.js';
import { doctor, type Check } from '../../lib/cli/doctor.js';
import { fakeBpfHost, type FakeBpfHost, type FakeBpfHostOptions } from '../lib/cli-fixtures.js';

// About thirty runs of the CLI, each a Node start: seconds apiece on a host
// whose CPUs are busy with the guests' TCG, so more than tap's default 30 s.
t.setTimeout(3 * 60 * 1000);

const root = join(__dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { bin?: Record<string, string> };
const bin = join(root, pkg.bin?.kgwttm ?? 'package.json has no bin.kgwttm');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function kgwttm(env: Record<string, string>, ...args: string[]): Run {
  const run = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 20_000, env: { ...process.env, ...env } });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

const TRAFFIC = { with_option: 12, without_option: 3, malformed: 0, untrusted: 0, nomem: 0, missed: 0, live: 5, entry_bytes: 32 };
const bpfHost = (t: Test, opts: FakeBpfHostOptions = {}): FakeBpfHost => fakeBpfHost(t, { counters: TRAFFIC, ...opts });

const roundTrip = async (): Promise<{ ran: false; reason: string }> => ({ ran: false, reason: 'not on this host' });

function byName(checks: Check[]): Record<string, Check> {
  return Object.fromEntries(checks.map((check) => [check.name, check]));
}

async function doctorOn(host: FakeBpfHost, errno: string): Promise<Awaited<ReturnType<typeof doctor>>> {
  return doctor({
    proc: host.proc,
    sys: host.sys,
    loader: { env: { KGWTTM_BPF_LOADER: host.loader } },
    probe: async () => ({ answered: true, errno }),
    roundTrip,
    betweenSamples: async () => {},
  });
}

t.test('status with the BPF backend attached: backend "bpf", its version, settings and counters from kgwttm-bpf', async (t) => {
  const host = bpfHost(t);
  const env = { KGWTTM_BPF_LOADER: host.loader };
  const run = kgwttm(env, 'status', '--json', '--proc', host.proc, '--sys', host.sys);
  t.equal(run.code, 0, run.stderr);
  t.same(JSON.parse(run.stdout), {
    backend: 'bpf',
    loaded: true,
    version: '0.1.0',
    counters: TRAFFIC,
    parameters: {
      formats: '254:8,254:20,254:22',
      kthread_check: 'Y',
      optname: '1345',
      rewrite_getname: 'Y',
      set_retval: 'Y',
      trusted_nets: '10.0.0.0/24,fd00::/64',
    },
    pins: join(host.sys, 'fs', 'bpf', 'kgwttm'),
  });
  t.same(host.calls(), [`${join(host.sys, 'fs', 'bpf', 'kgwttm')} status`, `${join(host.sys, 'fs', 'bpf', 'kgwttm')} params`], 'the loader reads the pins the CLI found');
  const human = kgwttm(env, 'status', '--proc', host.proc, '--sys', host.sys);
  t.equal(human.code, 0);
  t.match(human.stdout, new RegExp(`^kgwttm: BPF backend attached \\(${join(host.sys, 'fs', 'bpf', 'kgwttm')}\\), version 0\\.1\\.0\\nparameters:\\n`));
  t.match(human.stdout, /\n {2}set_retval +Y\n/);
  t.match(human.stdout, /\ncounters:\n(.*\n)* {2}with_option +12\n/);
  const empty = bpfHost(t, { trusted: '' });
  t.match(kgwttm({ KGWTTM_BPF_LOADER: empty.loader }, 'status', '--proc', empty.proc, '--sys', empty.sys).stdout, /\n {2}trusted_nets +\(none\)\n/);
});

t.test('status with pins but no loader: still "bpf" (it answers), and what is missing said', async (t) => {
  const host = bpfHost(t);
  const run = kgwttm({ KGWTTM_BPF_LOADER: join(host.proc, 'no-such-loader') }, 'status', '--json', '--proc', host.proc, '--sys', host.sys);
  t.equal(run.code, 0);
  const status = JSON.parse(run.stdout) as Record<string, unknown>;
  t.match(status, { backend: 'bpf', loaded: true, counters: {}, parameters: {} });
  t.match(status.error, /KGWTTM_BPF_LOADER=.*no-such-loader is not an executable file/);
});

t.test('status of a host with neither: backend "none", exit 3, the BPF backend named as the way without the module', async (t) => {
  const host = bpfHost(t, { attached: false });
  const run = kgwttm({ KGWTTM_BPF_LOADER: host.loader }, 'status', '--proc', host.proc, '--sys', host.sys);
  t.equal(run.code, 3);
  t.match(run.stdout, /^kgwttm: not loaded \(modprobe kgwttm, or without the module: kgwttm bpf attach --trusted-nets LIST;/);
  t.same(host.calls(), [], 'no loader run without pins');
});

t.test('doctor under the BPF backend: loaded, its trust list, its optname, signing only for information', async (t) => {
  const host = bpfHost(t, { optname: 2000 });
  mkdirSync(join(host.sys, 'kernel', 'security'), { recursive: true });
  writeFileSync(join(host.sys, 'kernel', 'security', 'lockdown'), 'none [integrity] confidentiality\n');
  const report = await doctorOn(host, 'ENOENT');
  t.match(report, { backend: 'bpf', loaded: true, version: '0.1.0', optname: 2000 });
  const named = byName(report.checks);
  t.match(named.loaded, { status: 'ok', message: /^the BPF backend 0\.1\.0 is attached \(pinned in .*\/fs\/bpf\/kgwttm\)/ });
  t.match(named.installed, { status: 'info' }, 'no kgwttm.ko installed is no problem');
  t.match(named.signing, { status: 'info', message: /kernel lockdown is integrity.*\(not in the way: the BPF backend answers, not kgwttm\.ko\)$/ });
  t.match(named.optname, { status: 'ok', message: /^getsockopt\(SOL_IP, 2000\) on a loopback connection: ENOENT: kgwttm answers/ });
  t.same(named.trust, { name: 'trust', status: 'ok', message: 'options believed from 10.0.0.0/24,fd00::/64' });
  t.same(report.checks.filter((check) => check.status === 'fail'), []);
});

t.test('doctor under the BPF backend before 5.18 (set_retval N): ENOPROTOOPT on loopback is its "no client"', async (t) => {
  const named = byName((await doctorOn(bpfHost(t, { setRetval: 'N' }), 'ENOPROTOOPT')).checks);
  t.match(named.optname, { status: 'ok', message: /ENOPROTOOPT: the BPF backend's answer for a connection without a client .*before 5\.18.*getRealPeer reads it as null/ });
  const withRetval = byName((await doctorOn(bpfHost(t, { setRetval: 'Y' }), 'ENOPROTOOPT')).checks);
  t.equal(withRetval.optname?.status, 'fail', 'from 5.18 it answers ENOENT: ENOPROTOOPT means it does not answer');
});

t.test("doctor's trust check reads the BPF backend's trusted_nets and names where it is set", async (t) => {
  const empty = byName((await doctorOn(bpfHost(t, { trusted: '' }), 'ENOENT')).checks).trust;
  t.equal(empty?.status, 'fail');
  t.match(empty?.message, /^trusted_nets is empty: the BPF backend believes no load balancer/);
  t.match(empty?.message, /\/etc\/sysconfig\/kgwttm-bpf .*TRUSTED_NETS=10\.0\.0\.0\/24,fd00::\/64 .*systemctl restart kgwttm-bpf/);
  const broad = byName((await doctorOn(bpfHost(t, { trusted: '10.0.0.0/8' }), 'ENOENT')).checks).trust;
  t.equal(broad?.status, 'warn');
  t.match(broad?.message, /narrow it to the load balancers' local-IP subnet in \/etc\/sysconfig\/kgwttm-bpf/);
  const host = bpfHost(t, { trusted: '' });
  const run = kgwttm({ KGWTTM_BPF_LOADER: host.loader }, 'doctor', '--json', '--proc', host.proc, '--sys', host.sys);
  t.equal(run.code, 1, 'a backend that believes no one is a problem');
  t.match(JSON.parse(run.stdout), { backend: 'bpf', loaded: true, exitCode: 1 });
});

t.test("doctor's round trip under the BPF backend: counters that did not move blame its attachment, not kprobes", async (t) => {
  const host = bpfHost(t);
  const report = await doctor({
    proc: host.proc,
    sys: host.sys,
    loader: { env: { KGWTTM_BPF_LOADER: host.loader } },
    probe: async () => ({ answered: true, errno: 'ENOENT' }),
    roundTrip: async (plan) => ({
      ran: true,
      cases: plan.cases.map((c) => ({ name: c.name, got: null, remoteAddress: plan.lb, remotePort: c.sport })),
    }),
    betweenSamples: async () => {},
  });
  const roundTrip = byName(report.checks)['round-trip'];
  t.equal(roundTrip?.status, 'fail');
  t.match(roundTrip?.message, /the BPF backend's counters did not move: its sockops program saw none of these connections \(attached with --cgroup/);
  t.notMatch(roundTrip?.message, /kprobes/);
});

t.test('kgwttm bpf attach passes its options to kgwttm-bpf attach, in the form it reads; detach; its exit code', async (t) => {
  const host = bpfHost(t, { attached: false });
  const env = { KGWTTM_BPF_LOADER: host.loader };
  const run = kgwttm(env, 'bpf', 'attach', '--trusted-nets=10.0.0.0/24,fd00::/64', '--formats', '254:8', '--optname', '2000', '--no-rewrite-getname', '--cgroup', '/sys/fs/cgroup/lb');
  t.equal(run.code, 0, run.stderr);
  t.equal(run.stdout, 'kgwttm-bpf: attach (fake)\n', "the loader's output is the operator's");
  t.same(kgwttm(env, 'bpf', 'attach').code, 0);
  t.same(kgwttm(env, 'bpf', 'detach').code, 0);
  t.same(host.calls(), [
    '(default) attach --trusted-nets 10.0.0.0/24,fd00::/64 --formats 254:8 --optname 2000 --cgroup /sys/fs/cgroup/lb --no-rewrite-getname',
    '(default) attach',
    '(default) detach',
  ]);
  const refused = bpfHost(t, { exit: 1 });
  t.equal(kgwttm({ KGWTTM_BPF_LOADER: refused.loader }, 'bpf', 'attach', '--trusted-nets', 'bogus').code, 1, "the loader's refusal is exit 1");
});

t.test('kgwttm bpf: usage errors are exit 2 without running the loader', async (t) => {
  const host = bpfHost(t);
  for (const args of [['bpf'], ['bpf', 'status'], ['bpf', 'attach', '--bogus'], ['bpf', 'attach', '--optname'], ['bpf', 'attach', 'now'], ['bpf', 'detach', '--cgroup', 'x']]) {
    const run = kgwttm({ KGWTTM_BPF_LOADER: host.loader }, ...args);
    t.equal(run.code, 2, `kgwttm ${args.join(' ')}`);
    t.equal(run.stdout, '');
    t.match(run.stderr, /^kgwttm: .+\nusage: kgwttm bpf attach/);
  }
  t.same(host.calls(), []);
});

t.test('kgwttm bpf without a loader: exit 1, and how to get one', async (t) => {
  const run = kgwttm({ KGWTTM_BPF_LOADER: '/nonexistent/kgwttm-bpf' }, 'bpf', 'detach');
  t.equal(run.code, 1);
  t.match(run.stderr, /^kgwttm: KGWTTM_BPF_LOADER=\/nonexistent\/kgwttm-bpf is not an executable file\n$/);
  const nowhere = mkdtempSync(join(tmpdir(), 'kgwttm-no-loader-'));
  t.teardown(() => rmSync(nowhere, { recursive: true, force: true }));
  t.throws(() => findLoader({ env: { PATH: nowhere }, packageRoot: nowhere }), {
    message: /^the BPF backend's loader kgwttm-bpf is not installed \(looked in KGWTTM_BPF_LOADER, .*, PATH, \/usr\/sbin, .*\): install the kgwttm-bpf RPM .*make -C bpf/,
  });
  t.equal(findLoader({ env: { PATH: '' } }), join(root, 'bpf', 'build', 'kgwttm-bpf'), "a checkout's build is found");
});
