// SPDX-License-Identifier: MIT
// `kgwttm doctor` on the host settings the load balancer's FAQ says break
// backends behind it: net.core.somaxconn (128 makes clients time out under
// load; 1024 or more), the accept-queue drops ListenOverflows/ListenDrops, and
// net.ipv4.tcp_keepalive_time against the LB's 900 s idle timeout. Every
// verdict from procfs trees written for the test (test/lib/cli-fixtures.ts);
// test/guest/45-cli.test.sh sets the real sysctls both ways.

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';

import { doctor, type Check } from '../../lib/cli/doctor.js';
import { fakeHost, fakeLoadedHost, type FakeHostOptions } from '../lib/cli-fixtures.js';

const root = join(__dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { bin?: Record<string, string> };
const bin = join(root, pkg.bin?.kgwttm ?? 'package.json has no bin.kgwttm');

const probe = async (): Promise<{ answered: true; errno: string }> => ({ answered: true, errno: 'ENOENT' });
const roundTrip = async (): Promise<{ ran: false; reason: string }> => ({ ran: false, reason: 'not on this host' });

/** Doctor's checks on a healthy loaded host with `opts` changed, by name. */
async function checksOf(t: Test, opts: FakeHostOptions): Promise<Record<string, Check>> {
  const report = await doctor({ ...fakeLoadedHost(t, opts), probe, roundTrip });
  return Object.fromEntries(report.checks.map((check) => [check.name, check]));
}

const SYSCTL_D = /and "([a-z0-9_.]+) = (\d+)" in \/etc\/sysctl\.d\/99-kgwttm\.conf to keep it across reboots/;

t.test('somaxconn: the FAQ\'s 128 warns with the fix (1024, persisted, applications restarted); 1024 and up are ok', async (t) => {
  const low = (await checksOf(t, { somaxconn: 128 })).somaxconn;
  t.match(low, {
    status: 'warn',
    value: 128,
    message: /^net\.core\.somaxconn = 128 caps every listen\(\) backlog at 128: under load the accept queue fills, .* clients time out$/,
    fix: /^sysctl -w net\.core\.somaxconn=1024, and "net\.core\.somaxconn = 1024" in \/etc\/sysctl\.d\/99-kgwttm\.conf .*; then restart the applications/,
  });
  t.equal((await checksOf(t, { somaxconn: 1023 })).somaxconn?.status, 'warn', 'just under the floor');
  for (const value of [1024, 4096, 65535])
    t.match((await checksOf(t, { somaxconn: value })).somaxconn, { status: 'ok', value, message: new RegExp(`^net\\.core\\.somaxconn = ${value}: `) });
  t.notOk('fix' in ((await checksOf(t, { somaxconn: 4096 })).somaxconn ?? {}), 'no fix when nothing is wrong');
  t.match((await checksOf(t, { somaxconn: null })).somaxconn, { status: 'warn', message: /^cannot read .*sys\/net\/core\/somaxconn: / });
});

t.test('listen-queue: none since boot ok; some since boot but none during the check warn; drops during the check fail', async (t) => {
  t.match((await checksOf(t, {}))['listen-queue'], {
    status: 'ok',
    value: { ListenOverflows: 0, ListenDrops: 0, since: { ListenOverflows: 0, ListenDrops: 0 } },
    message: 'ListenOverflows 0, ListenDrops 0 since boot: no accept queue has overflowed',
  });
  const past = (await checksOf(t, { somaxconn: 128, listen: { overflows: 310, drops: 312 } }))['listen-queue'];
  t.match(past, {
    status: 'warn',
    value: { ListenOverflows: 310, ListenDrops: 312, since: { ListenOverflows: 0, ListenDrops: 0 } },
    message: /^ListenOverflows 310, ListenDrops 312 since boot \(none in the last [\d.]+ s\): accept queues overflowed at some time/,
    fix: /^raise the applications' listen backlog and net\.core\.somaxconn \(net\.core\.somaxconn is 128\): sysctl -w net\.core\.somaxconn=1024, /,
  });
  const now = (await checksOf(t, { somaxconn: 2048, listen: { overflows: 310, drops: 312 }, listenDuringCheck: { overflows: 350, drops: 353 } }))['listen-queue'];
  t.match(now, {
    status: 'fail',
    value: { ListenOverflows: 350, ListenDrops: 353, since: { ListenOverflows: 40, ListenDrops: 41 } },
    message: /^ListenOverflows 350, ListenDrops 353 since boot, \+40 and \+41 in the last [\d.]+ s: accept queues are overflowing now/,
    fix: /net\.core\.somaxconn is 2048\): sysctl -w net\.core\.somaxconn=4096,/,
  });
  const dropsOnly = (await checksOf(t, { listenDuringCheck: { overflows: 0, drops: 3 } }))['listen-queue'];
  t.equal(dropsOnly?.status, 'fail', 'ListenDrops alone (a drop other than an overflow) counts too');
  t.match((await checksOf(t, { listen: null }))['listen-queue'], { status: 'warn', message: /^cannot read ListenOverflows\/ListenDrops/ });
});

t.test('keepalive: the default 7200 s warns, naming the fix; under the LB\'s 900 s idle timeout is ok; 900 itself warns', async (t) => {
  const fallback = (await checksOf(t, { keepalive: 7200 })).keepalive;
  t.match(fallback, {
    status: 'warn',
    value: 7200,
    message: /^net\.ipv4\.tcp_keepalive_time = 7200 s: the load balancer resets connections idle for 900 s, before the first keepalive probe/,
    fix: /^sysctl -w net\.ipv4\.tcp_keepalive_time=600, and "net\.ipv4\.tcp_keepalive_time = 600" in \/etc\/sysctl\.d\/99-kgwttm\.conf .*\(under 900\); it applies to sockets with SO_KEEPALIVE/,
  });
  t.match(fallback?.fix, SYSCTL_D);
  t.equal((await checksOf(t, { keepalive: 900 })).keepalive?.status, 'warn', 'a probe at 900 s races the reset');
  for (const value of [899, 600, 60])
    t.match((await checksOf(t, { keepalive: value })).keepalive, {
      status: 'ok',
      value,
      message: `net.ipv4.tcp_keepalive_time = ${value} s: sockets with SO_KEEPALIVE probe before the load balancer's 900 s idle timeout`,
    });
  t.match((await checksOf(t, { keepalive: null })).keepalive, { status: 'warn', message: /^cannot read .*tcp_keepalive_time/ });
});

t.test('the three come last, after the module\'s checks, and in doctor\'s report without the module too', async (t) => {
  const loaded = await doctor({ ...fakeLoadedHost(t), probe, roundTrip });
  t.same(loaded.checks.slice(-3).map((check) => check.name), ['somaxconn', 'listen-queue', 'keepalive']);
  const bare = await doctor({ ...fakeHost(t, { somaxconn: 128, keepalive: 7200 }), probe: async () => ({ answered: true, errno: 'ENOPROTOOPT' }), betweenSamples: async () => {} });
  t.match(Object.fromEntries(bare.checks.map((check) => [check.name, check.status])), { loaded: 'fail', somaxconn: 'warn', 'listen-queue': 'ok', keepalive: 'warn' });
});

t.test('doctor waits a second between its two reads of the counters, unless told otherwise', async (t) => {
  const { proc, sys } = fakeLoadedHost(t);
  const started = Date.now();
  const report = await doctor({ proc, sys, probe, roundTrip });
  t.ok(Date.now() - started >= 1000, `took ${Date.now() - started} ms`);
  const seconds = (report.checks.find((check) => check.name === 'listen-queue')?.value as { seconds: number }).seconds;
  t.ok(seconds >= 1, `value.seconds ${seconds}`);
});

t.test('kgwttm doctor (the CLI): the value and the fix in the text, each its own field in --json', async (t) => {
  const host = fakeLoadedHost(t, { somaxconn: 128, keepalive: 7200 });
  const text = spawnSync(process.execPath, [bin, 'doctor', '--proc', host.proc, '--sys', host.sys], { encoding: 'utf8', timeout: 30_000 });
  t.match(text.stdout, /^\[WARN\] somaxconn +net\.core\.somaxconn = 128 caps .*; fix: sysctl -w net\.core\.somaxconn=1024, /m);
  t.match(text.stdout, /^\[WARN\] keepalive +net\.ipv4\.tcp_keepalive_time = 7200 s: .*; fix: sysctl -w net\.ipv4\.tcp_keepalive_time=600, /m);
  t.match(text.stdout, /^\[ok  \] listen-queue +ListenOverflows 0, ListenDrops 0 since boot/m);
  const json = spawnSync(process.execPath, [bin, 'doctor', '--json', '--proc', host.proc, '--sys', host.sys], { encoding: 'utf8', timeout: 30_000 });
  const checks = Object.fromEntries((JSON.parse(json.stdout) as { checks: Check[] }).checks.map((check) => [check.name, check]));
  t.match(checks.somaxconn, { status: 'warn', value: 128, fix: /^sysctl -w net\.core\.somaxconn=1024/ });
  t.match(checks.keepalive, { status: 'warn', value: 7200, fix: /^sysctl -w net\.ipv4\.tcp_keepalive_time=600/ });
  t.notMatch(checks.keepalive?.message, /fix:/, 'in JSON the fix is its own field');
});
