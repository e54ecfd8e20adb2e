// SPDX-License-Identifier: MIT
// What the Node guest suites share: the module loaded (or the BPF backend
// attached) and the real-stack load-balancer simulator up for the suite's
// lifetime, and a client run as the load balancer. Not a suite itself.

import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Test } from 'tap';

import { isModuleLoaded, moduleStatus } from '../../lib/index.js';

const root = join(__dirname, '..', '..');
const realstack = join(root, 'test', 'lbsim', 'realstack');

/** The guest network plan of test/README.md: the RS side and the LB's local IP. */
export const RS4 = '10.201.0.1';
export const RS6 = 'fd00:201::1';
export const LIP4 = '10.201.0.2';

function setup(action: 'up' | 'down'): void {
  execFileSync('sh', [join(realstack, 'setup.sh'), action], { stdio: ['ignore', 'ignore', 'inherit'] });
}

/**
 * The backend the suite runs against: the module, or with KGWTTM_BACKEND=bpf
 * the BPF backend (bpf/, attached by kgwttm-bpf; test/guest/61-bpf-shared).
 */
const bpfLoader = join(root, 'bpf', 'build', 'kgwttm-bpf');

function backend(trustedNets: string): { load(): void; unload(): void } {
  if (process.env.KGWTTM_BACKEND === 'bpf') {
    const loader = bpfLoader;
    return {
      load: () => execFileSync(loader, ['attach', '--trusted-nets', trustedNets], { stdio: 'ignore' }),
      unload: () => execFileSync(loader, ['detach']),
    };
  }
  const ko = process.env.KGWTTM_KO;
  if (!ko) throw new Error('KGWTTM_KO is not set: run the suite through test/vm/run');
  return {
    load: () => execFileSync('insmod', [ko, `trusted_nets=${trustedNets}`]),
    unload: () => execFileSync('rmmod', ['kgwttm']),
  };
}

/** What the backend under test reports: its version, its optname and its counters. */
export interface BackendStatus {
  loaded: boolean;
  version: string;
  optname: string;
  counters: Record<string, number>;
}

/**
 * /proc/net/kgwttm and /sys/module/kgwttm/parameters through the library
 * (kgwttm status's reader) for the module; `kgwttm-bpf status` and `params`,
 * which print the same names, for the BPF backend.
 */
export function backendStatus(): BackendStatus {
  if (process.env.KGWTTM_BACKEND !== 'bpf') {
    const status = moduleStatus();
    return { loaded: isModuleLoaded(), version: status.version ?? '', optname: status.parameters.optname ?? '', counters: status.counters };
  }
  const lines = (command: string): Map<string, string> =>
    new Map(
      execFileSync(bpfLoader, [command], { encoding: 'utf8' })
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => [line.slice(0, line.indexOf(' ')), line.slice(line.indexOf(' ') + 1)]),
    );
  const status = lines('status');
  const counters: Record<string, number> = {};
  for (const [name, value] of status) if (/^-?\d+$/.test(value)) counters[name] = Number(value);
  return { loaded: existsSync('/sys/fs/bpf/kgwttm'), version: status.get('version') ?? '', optname: lines('params').get('optname') ?? '', counters };
}

/**
 * Loads the module built for this kernel ($KGWTTM_KO, which test/vm/run
 * sets), or attaches the BPF backend, trusting the simulated load balancers
 * (kgwttm trusts no one until told; test/lbsim/trusted_nets is the test
 * bed's one list) and brings the simulator up; both undone when `t` ends.
 */
export function withModuleAndLoadBalancer(t: Test): void {
  if (existsSync('/sys/module/kgwttm')) throw new Error('kgwttm is already loaded: a previous suite did not unload it');
  if (existsSync('/sys/fs/bpf/kgwttm')) throw new Error('the BPF backend is attached: a previous suite did not detach it');
  const trustedNets = readFileSync(join(root, 'test', 'lbsim', 'trusted_nets'), 'utf8').trim();
  const kgwttm = backend(trustedNets);
  kgwttm.load();
  try {
    setup('up');
  } catch (error) {
    kgwttm.unload();
    throw error;
  }
  t.teardown(() => {
    try {
      setup('down');
    } finally {
      kgwttm.unload();
    }
  });
}

/** What the load balancer writes into each connection's handshake ACK. */
export interface LoadBalancerOption {
  format: 'toa4' | 'toa6' | 'none';
  /** The client address the option carries (its port is the connection's own). */
  client: string;
}

/**
 * Runs test/guest/node-lb-client.mjs with `request` inside netns lbsim, every
 * connection carrying `option`; resolves to what it printed.
 */
export async function runAsLoadBalancer(option: LoadBalancerOption, request: unknown): Promise<unknown> {
  const { stdout } = await promisify(execFile)(
    'sh',
    [
      join(realstack, 'run-as-lb.sh'),
      '--format',
      option.format,
      ...(option.client ? ['--client', option.client] : []),
      '--',
      process.execPath,
      join(__dirname, 'node-lb-client.mjs'),
      JSON.stringify(request),
    ],
    { encoding: 'utf8', timeout: 120_000 },
  );
  return JSON.parse(stdout);
}
