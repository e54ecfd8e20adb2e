// The CLI's view of a host with the module loaded, for host tests: a procfs
// and a sysfs in a temporary folder, which `status` and `doctor` read through
// their `proc` and `sys` options.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Test } from 'tap';

export interface FakeHost {
  proc: string;
  sys: string;
  /** Rewrites /proc/net/kgwttm with these counters (the four option counters default to 0), as traffic would move them. */
  counters: (values: Record<string, number>) => void;
}

export interface FakeHostOptions {
  /** The whole of /proc/modules; default: kgwttm alone. */
  modules?: string;
  /** trusted_nets as sysfs shows it; default a load balancer subnet of each family, which doctor finds narrow enough. */
  trusted?: string;
  rewrite?: 'Y' | 'N';
  counters?: Record<string, number>;
}

export function fakeLoadedHost(t: Test, opts: FakeHostOptions = {}): FakeHost {
  const dir = mkdtempSync(join(tmpdir(), 'kgwttm-cli-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const proc = join(dir, 'proc');
  const sys = join(dir, 'sys');
  const params = join(sys, 'module', 'kgwttm', 'parameters');
  mkdirSync(join(proc, 'net'), { recursive: true });
  mkdirSync(params, { recursive: true });
  writeFileSync(join(proc, 'modules'), opts.modules ?? 'kgwttm 61440 0 - Live 0x0000000000000000\n');
  const counters = (values: Record<string, number>): void =>
    writeFileSync(
      join(proc, 'net', 'kgwttm'),
      'version 0.1.0\n' +
        Object.entries({ with_option: 0, without_option: 0, malformed: 0, untrusted: 0, ...values })
          .map(([name, value]) => `${name} ${value}\n`)
          .join(''),
    );
  counters(opts.counters ?? {});
  const values: Record<string, string> = {
    optname: '1345',
    formats: '254:8,254:20,254:22',
    trusted_nets: opts.trusted ?? '10.0.0.0/24,fd00::/64',
    rewrite_getname: opts.rewrite ?? 'Y',
  };
  for (const [name, value] of Object.entries(values)) writeFileSync(join(params, name), `${value}\n`);
  return { proc, sys, counters };
}
