// SPDX-License-Identifier: MIT
// The CLI's and the library's view of a host, for host tests: a procfs and a
// sysfs in a temporary folder, which `status`, `doctor` and module-status read
// through their `proc` and `sys` options: fakeHost without the module,
// fakeLoadedHost with it. The procfs also holds the sysctls and TCP
// counters doctor's host-setting checks read (lib/cli/host-settings.ts), at
// values it finds healthy unless a test says otherwise. fakeBpfHost is the
// same host with the BPF backend attached instead: its pin folder, and a fake
// kgwttm-bpf that prints the real one's status and params.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Test } from 'tap';

/** The procfs and sysfs roots of a fake host, removed when the test ends. */
export interface FakeRoots {
  proc: string;
  sys: string;
}

export interface FakeHost extends FakeRoots {
  /** Rewrites /proc/net/kgwttm with these counters (the four option counters default to 0), as traffic would move them. */
  counters: (values: Record<string, number>) => void;
  /** Rewrites ListenOverflows and ListenDrops in /proc/net/netstat. */
  listen: (values: ListenCounts) => void;
  /**
   * Doctor's hook between its two reads of /proc/net/netstat (spread into
   * doctor's options with the rest): no wait, and `listenDuringCheck`'s
   * counts written, as drops during the check would move them.
   */
  betweenSamples: () => Promise<void>;
}

export interface ListenCounts {
  overflows: number;
  drops: number;
}

export interface FakeHostOptions {
  /** The whole of /proc/modules; default: kgwttm alone (fakeHost: nf_conntrack alone). */
  modules?: string;
  /** trusted_nets as sysfs shows it; default a load balancer subnet of each family, which doctor finds narrow enough. */
  trusted?: string;
  rewrite?: 'Y' | 'N';
  /** The optname parameter as sysfs shows it, default 1345; null: a module without that parameter. */
  optname?: string | null;
  counters?: Record<string, number>;
  /** net.core.somaxconn, default 4096 (the kernel's default since 5.4); null: no such file. */
  somaxconn?: number | null;
  /** net.ipv4.tcp_keepalive_time, default 600; null: no such file. */
  keepalive?: number | null;
  /** ListenOverflows/ListenDrops at doctor's first read, default 0/0; null: no /proc/net/netstat. */
  listen?: ListenCounts | null;
  /** ...and at its second read, default unchanged. */
  listenDuringCheck?: ListenCounts;
}

/** Writes the sysctls and /proc/net/netstat of `opts` under `proc`, as every fake host has them; returns the writer of the listen counters. */
function writeHostSettings(proc: string, opts: FakeHostOptions = {}): (values: ListenCounts) => void {
  const sysctl = (name: string, value: number | null): void => {
    if (value === null) return;
    const file = join(proc, 'sys', ...name.split('.'));
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(file, `${value}\n`);
  };
  sysctl('net.core.somaxconn', opts.somaxconn === undefined ? 4096 : opts.somaxconn);
  sysctl('net.ipv4.tcp_keepalive_time', opts.keepalive === undefined ? 600 : opts.keepalive);
  // As the kernel writes it: a names line and a values line per group.
  const listen = ({ overflows, drops }: ListenCounts): void => {
    mkdirSync(join(proc, 'net'), { recursive: true });
    writeFileSync(
      join(proc, 'net', 'netstat'),
      `TcpExt: SyncookiesSent SyncookiesRecv ListenOverflows ListenDrops TCPHPHits\nTcpExt: 0 0 ${overflows} ${drops} 1234\n` +
        'IpExt: InNoRoutes InTruncatedPkts\nIpExt: 0 0\n',
    );
  };
  if (opts.listen !== null) listen(opts.listen ?? { overflows: 0, drops: 0 });
  return listen;
}

/** A temporary folder with a procfs holding `modules` and an empty sysfs; the folder goes when the test ends. */
function fakeRoots(t: Test, prefix: string, modules: string): FakeRoots & { dir: string } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const proc = join(dir, 'proc');
  const sys = join(dir, 'sys');
  mkdirSync(join(proc, 'net'), { recursive: true });
  mkdirSync(sys);
  writeFileSync(join(proc, 'modules'), modules);
  return { dir, proc, sys };
}

const WITHOUT_KGWTTM = 'nf_conntrack 1 0 - Live 0x0\n';

/** A host with neither the module nor the BPF backend: /proc/modules (default nf_conntrack alone), the host settings of `opts`, no /sys/module/kgwttm. */
export function fakeHost(t: Test, opts: FakeHostOptions = {}): FakeRoots {
  const { proc, sys } = fakeRoots(t, 'kgwttm-host-', opts.modules ?? WITHOUT_KGWTTM);
  writeHostSettings(proc, opts);
  return { proc, sys };
}

export function fakeLoadedHost(t: Test, opts: FakeHostOptions = {}): FakeHost {
  const { proc, sys } = fakeRoots(t, 'kgwttm-cli-', opts.modules ?? 'kgwttm 61440 0 - Live 0x0000000000000000\n');
  const params = join(sys, 'module', 'kgwttm', 'parameters');
  mkdirSync(params, { recursive: true });
  const counters = (values: Record<string, number>): void =>
    writeFileSync(
      join(proc, 'net', 'kgwttm'),
      'version 0.1.0\n' +
        Object.entries({ with_option: 0, without_option: 0, malformed: 0, untrusted: 0, ...values })
          .map(([name, value]) => `${name} ${value}\n`)
          .join(''),
    );
  counters(opts.counters ?? {});
  const listen = writeHostSettings(proc, opts);
  const betweenSamples = async (): Promise<void> => {
    if (opts.listenDuringCheck !== undefined) listen(opts.listenDuringCheck);
  };
  const values: Record<string, string | null> = {
    optname: opts.optname === undefined ? '1345' : opts.optname,
    formats: '254:8,254:20,254:22',
    trusted_nets: opts.trusted ?? '10.0.0.0/24,fd00::/64',
    rewrite_getname: opts.rewrite ?? 'Y',
  };
  for (const [name, value] of Object.entries(values)) if (value !== null) writeFileSync(join(params, name), `${value}\n`);
  return { proc, sys, counters, listen, betweenSamples };
}

export interface FakeBpfHost extends FakeRoots {
  /** The fake kgwttm-bpf, for KGWTTM_BPF_LOADER. */
  loader: string;
  /** The pin folder it was told to read (KGWTTM_BPF_PIN) and its arguments, one run a line. */
  calls: () => string[];
}

export interface FakeBpfHostOptions {
  /** trusted_nets as `kgwttm-bpf params` prints it; default a load balancer subnet of each family. */
  trusted?: string;
  /** set_retval: Y from 5.18 (ENOENT/EINVAL), N before (ENOPROTOOPT/EPERM); default Y. */
  setRetval?: 'Y' | 'N';
  optname?: number;
  counters?: Record<string, number>;
  /** Whether the pins exist (`attach` ran); default true. */
  attached?: boolean;
  /** What the fake loader's attach and detach exit with; default 0. */
  exit?: number;
}

/**
 * A host with the BPF backend attached instead of the module: `<sys>/fs/bpf/kgwttm`
 * exists and a fake kgwttm-bpf prints what the real one's `status` and
 * `params` print (bpf/kgwttm-bpf.c), and logs every run. No /sys/module/kgwttm.
 */
export function fakeBpfHost(t: Test, opts: FakeBpfHostOptions = {}): FakeBpfHost {
  const { dir, proc, sys } = fakeRoots(t, 'kgwttm-bpf-cli-', WITHOUT_KGWTTM);
  mkdirSync(join(sys, 'fs', 'bpf'), { recursive: true });
  if (opts.attached ?? true) mkdirSync(join(sys, 'fs', 'bpf', 'kgwttm'));
  writeHostSettings(proc);
  const counters = { with_option: 0, without_option: 0, malformed: 0, untrusted: 0, nomem: 0, missed: 0, live: 0, entry_bytes: 32, ...opts.counters };
  writeFileSync(join(dir, 'status.out'), 'version 0.1.0\n' + Object.entries(counters).map(([name, value]) => `${name} ${value}\n`).join(''));
  writeFileSync(
    join(dir, 'params.out'),
    `optname ${opts.optname ?? 1345}\nformats 254:8,254:20,254:22\ntrusted_nets ${opts.trusted ?? '10.0.0.0/24,fd00::/64'}\n` +
      `rewrite_getname Y\nset_retval ${opts.setRetval ?? 'Y'}\nkthread_check Y\n`,
  );
  const log = join(dir, 'calls.log');
  const loader = join(dir, 'kgwttm-bpf');
  writeFileSync(
    loader,
    `#!/bin/sh
echo "\${KGWTTM_BPF_PIN:-(default)} $*" >> '${log}'
case $1 in
status) cat '${join(dir, 'status.out')}' ;;
params) cat '${join(dir, 'params.out')}' ;;
attach|detach) echo "kgwttm-bpf: $1 (fake)"; exit ${opts.exit ?? 0} ;;
*) exit 2 ;;
esac
`,
    { mode: 0o755 },
  );
  const calls = (): string[] => {
    try {
      return readFileSync(log, 'utf8').split('\n').filter((line) => line !== '');
    } catch {
      return [];
    }
  };
  return { proc, sys, loader, calls };
}
