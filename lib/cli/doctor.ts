// SPDX-License-Identifier: MIT
// `kgwttm doctor`: is this host ready to report real clients, and if not, why.
//
// Each check reads only what the host already shows (uname, /lib/modules,
// /proc/modules, the module's sysfs and procfs files, the sysctls and TCP
// counters the load balancer's FAQ names: lib/cli/host-settings.ts) plus two
// live tests; nothing is loaded or configured on the host itself:
// - the getsockopt probe, one loopback TCP connection: who answers the optname;
// - the round trip, when the module is loaded: a fake load balancer writes the
//   option into a real handshake and getRealPeer must return its client. It
//   needs a TUN device, addresses the module trusts and a route, so it runs in
//   a throwaway network namespace (lib/cli/roundtrip.ts); where the host does
//   not allow one (no unshare, no privilege, no TUN) it is reported as not run,
//   with the reason. It is the one check that proves the whole path: a module
//   whose probes never fire still answers the loopback probe.
// Under the BPF backend (lib/cli/backend.ts) the same checks read its
// settings and counters from kgwttm-bpf, and the round trip runs the same way:
// its programs sit on the cgroup root, so they see the throwaway namespace's
// connections too.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';

import { loadedModuleOptname } from '../diagnostics.js';
import type { StatusPaths } from '../index.js';
import { backendStatus, type Backend, type BackendEnv, type BackendStatus } from './backend.js';
import type { Check, CheckStatus } from './check.js';
import { probeOptname, type ProbeResult } from './probe.js';
import { runRoundTrip, type CaseResult, type RoundTripResult } from './roundtrip.js';
import { planRoundTrip, type PlannedCase, type RoundTripPlan } from './roundtrip-plan.js';
import { hostSettingChecks, readListenCounters } from './host-settings.js';
import { readSigningState, signingCheck } from './signing.js';
import { trustCheck } from './trust-check.js';

export type { Check, CheckStatus };

export interface DoctorReport {
  kernel: string;
  /** Who answers getsockopt: the module, the BPF backend, or none. */
  backend: Backend;
  /** Whether one of them answers (the module loaded, or the BPF backend attached). */
  loaded: boolean;
  version: string | null;
  optname: number;
  checks: Check[];
  /**
   * The round trip's plan and what the child saw, for scripts; null when the
   * module is not loaded. `plan` is null when no plan fits the parameters.
   */
  roundTrip: { plan: RoundTripPlan | null; result: RoundTripResult } | null;
}

/** What doctor reads; tests and containers point it elsewhere. */
export interface DoctorEnv extends BackendEnv {
  /** Root of the kernel module trees, default `/lib/modules`. */
  modules?: string;
  /** Kernel release, default `os.release()`. */
  kernel?: string;
  /** The getsockopt probe, default a real loopback connection. */
  probe?: (optname: number) => Promise<ProbeResult>;
  /** The option-injection round trip, default lib/cli/roundtrip.ts in a new network namespace. */
  roundTrip?: (plan: RoundTripPlan) => Promise<RoundTripResult>;
  /**
   * Runs between the two reads of the accept-queue counters (`since`: the
   * first read, Date.now()); default: waits until LISTEN_SAMPLE_MS have passed.
   */
  betweenSamples?: (since: number) => Promise<void>;
}

/** The least time between the two reads of ListenOverflows/ListenDrops. */
const LISTEN_SAMPLE_MS = 1000;

async function waitSince(since: number): Promise<void> {
  const left = since + LISTEN_SAMPLE_MS - Date.now();
  if (left > 0) await new Promise((resolve) => setTimeout(resolve, left));
}

// Modules that patch the same kernel paths or hold the same optnames: Alibaba's
// vtoa (1344–1347), the classic TOA family, and the vendor's older kgwtm/ttm.
const CONFLICTING = /^(toa|vtoa|toa_\w+|\w+_toa|kgwtm|ttm)$/;

/** Names of the loaded modules, null when `<proc>/modules` cannot be read (some containers). */
function loadedModules(paths: StatusPaths): string[] | null {
  try {
    return readFileSync(join(paths.proc ?? '/proc', 'modules'), 'utf8')
      .split('\n')
      .map((line) => line.split(' ')[0] ?? '')
      .filter((name) => name !== '');
  } catch {
    return null;
  }
}

/** Where kgwttm.ko is installed for a kernel (RPM: extra/, DKMS: updates/), if anywhere. */
function installedModule(modules: string, kernel: string): string | null {
  const search = (dir: string, depth: number): string | null => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return null;
    }
    for (const name of names) {
      if (/^kgwttm\.ko(\.(xz|gz|zst))?$/.test(name)) return join(dir, name);
    }
    if (depth === 0) return null;
    for (const name of names) {
      const found = search(join(dir, name), depth - 1);
      if (found !== null) return found;
    }
    return null;
  };
  for (const sub of ['extra', 'updates', 'weak-updates']) {
    const found = search(join(modules, kernel, sub), 3);
    if (found !== null) return found;
  }
  return null;
}

function kernelChecks(env: DoctorEnv, kernel: string, status: BackendStatus): Check[] {
  const modules = env.modules ?? '/lib/modules';
  const checks: Check[] = [{ name: 'kernel', status: 'info', message: `Linux ${kernel}` }];
  const headers = join(modules, kernel, 'build');
  checks.push(
    existsSync(join(headers, 'Makefile'))
      ? { name: 'headers', status: 'ok', message: `headers for ${kernel} in ${headers}` }
      : {
          name: 'headers',
          status: 'warn',
          message: `no headers for ${kernel} (${headers}): DKMS and builds from source need kernel-devel-${kernel} or linux-headers-${kernel}`,
        },
  );
  const installed = installedModule(modules, kernel);
  checks.push(
    installed !== null
      ? { name: 'installed', status: 'ok', message: `kgwttm.ko installed for ${kernel}: ${installed}` }
      : {
          name: 'installed',
          status: status.loaded ? 'info' : 'warn',
          message: `no kgwttm.ko under ${join(modules, kernel)}/{extra,updates}: kmod-kgwttm is built per kernel (kmod/build.sh --kernel ${kernel}); kgwttm-dkms rebuilds it on kernel upgrades`,
        },
  );
  return checks;
}

function loadedCheck(status: BackendStatus): Check {
  const name = 'loaded';
  const version = status.version ?? '(unknown version)';
  if (status.backend === 'module') return { name, status: 'ok', message: `kgwttm ${version} is loaded` };
  if (status.backend === 'bpf')
    return status.error === undefined
      ? { name, status: 'ok', message: `the BPF backend ${version} is attached (pinned in ${status.pins ?? '?'}): it answers in kgwttm.ko's place` }
      : { name, status: 'warn', message: `the BPF backend is attached (pinned in ${status.pins ?? '?'}), but its counters and settings cannot be read: ${status.error}` };
  return {
    name,
    status: 'fail',
    message: `kgwttm is not loaded: modprobe kgwttm (its reason for refusing is in dmesg); where the module cannot load, the BPF backend: kgwttm bpf attach --trusted-nets LIST${
      status.error === undefined ? '' : ` (${status.error})`
    }`,
  };
}

function moduleChecks(status: BackendStatus, paths: StatusPaths): Check[] {
  const checks: Check[] = [loadedCheck(status)];
  const modules = loadedModules(paths);
  const conflicts = (modules ?? []).filter((name) => CONFLICTING.test(name));
  checks.push(
    modules === null
      ? { name: 'conflicts', status: 'warn', message: `cannot read ${join(paths.proc ?? '/proc', 'modules')}: other TOA modules not checked` }
      : conflicts.length === 0
      ? { name: 'conflicts', status: 'ok', message: 'no other TOA module loaded' }
      : {
          name: 'conflicts',
          status: 'fail',
          message: `loaded: ${conflicts.join(', ')}: another TOA module reads the same options and may hold optname 1345 (vtoa: 1344-1347); unload it, or load kgwttm with optname= another value`,
        },
  );
  return checks;
}

function optnameCheck(status: BackendStatus, optname: number, probe: ProbeResult): Check {
  const name = 'optname';
  const { loaded } = status;
  if (!probe.answered) return { name, status: 'warn', message: `getsockopt(SOL_IP, ${optname}) not probed: ${probe.reason}` };
  const answer = `getsockopt(SOL_IP, ${optname}) on a loopback connection: ${probe.errno}`;
  if (loaded && probe.errno === 'ENOENT')
    return { name, status: 'ok', message: `${answer}: kgwttm answers (a loopback connection carries no client address)` };
  // Before 5.18 a BPF program cannot pick the errno: "no client" is the
  // kernel's own ENOPROTOOPT, which getRealPeer also reads as null.
  if (status.backend === 'bpf' && status.parameters.set_retval === 'N' && probe.errno === 'ENOPROTOOPT')
    return {
      name,
      status: 'ok',
      message: `${answer}: the BPF backend's answer for a connection without a client on a kernel without bpf_set_retval (before 5.18); getRealPeer reads it as null`,
    };
  if (!loaded && probe.errno === 'ENOPROTOOPT')
    return { name, status: 'ok', message: `${answer}: optname ${optname} is free for kgwttm` };
  if (loaded && probe.errno === 'ENOPROTOOPT')
    return { name, status: 'fail', message: `${answer}: kgwttm is loaded but does not answer on optname ${optname}` };
  return {
    name,
    status: 'fail',
    message: `${answer}: another module answers optname ${optname} (vtoa?); kgwttm cannot register it, load it with optname= another value`,
  };
}

/** Whether kgwttm.ko would load; under the BPF backend only for information, as nothing needs it to. */
function backendSigningCheck(status: BackendStatus, state: ReturnType<typeof readSigningState>): Check {
  if (status.backend !== 'bpf') return signingCheck(state, status.loaded);
  const { name, message } = signingCheck(state, false);
  return { name, status: 'info', message: `${message} (not in the way: the BPF backend answers, not kgwttm.ko)` };
}

function trafficChecks(status: BackendStatus): Check[] {
  if (!status.loaded) return [];
  const { counters, parameters } = status;
  const count = (name: string): number => counters[name] ?? 0;
  const checks: Check[] = [trustCheck(parameters, counters, status.backend === 'bpf' ? 'bpf' : 'module')];
  for (const name of ['missed', 'nomem', 'malformed']) {
    if (count(name) > 0)
      checks.push({
        name,
        status: 'warn',
        message:
          name === 'missed'
            ? `${count(name)} connections or getpeername calls the module's probes missed`
            : name === 'nomem'
              ? `${count(name)} client addresses dropped for lack of memory`
              : `${count(name)} malformed options ignored (an LB writing another format? see formats=)`,
      });
  }
  checks.push({
    name: 'traffic',
    status: 'info',
    message:
      count('with_option') > 0
        ? `${count('with_option')} connections so far carried a client address the module read`
        : 'no connection so far carried a client address',
  });
  return checks;
}

/** `a.b.c.d:port`, `[x:y::z]:port`. */
function hostPort(peer: { address: string; port: number }): string {
  return peer.address.includes(':') ? `[${peer.address}]:${peer.port}` : `${peer.address}:${peer.port}`;
}

function peerText(peer: { address: string; port: number } | null): string {
  return peer === null ? 'null' : hostPort(peer);
}

/** What went wrong with one connection of the round trip, or undefined when it showed what it should. */
function caseFailure(plan: RoundTripPlan, planned: PlannedCase, seen: CaseResult | undefined): string | undefined {
  if (seen === undefined) return 'no result';
  if (seen.error !== undefined) return seen.error;
  const { client } = planned;
  const got = seen.got;
  if (client === null) {
    if (got !== null) return `getRealPeer returned ${peerText(got)} for a connection without the option (expected null)`;
  } else if (got === null || got.address !== client.address || got.port !== client.port || got.family !== client.family)
    return `getRealPeer returned ${peerText(got)}`;
  // getpeername: the client for 4to4 (rewrite_getname=Y), else the load balancer.
  const expected = planned.name === '4to4' && plan.rewriteGetname && client !== null ? client : { address: plan.lb, port: planned.sport };
  if (seen.remoteAddress !== expected.address || seen.remotePort !== expected.port)
    return `remoteAddress:remotePort ${peerText(seen.remoteAddress === null ? null : { address: seen.remoteAddress, port: seen.remotePort ?? 0 })}, expected ${hostPort(expected)}${
      planned.name === '4to4' ? ` (rewrite_getname=${plan.rewriteGetname ? 'Y' : 'N'})` : ''
    }`;
  return undefined;
}

/** Why every option was ignored, from how the counters moved during the round trip. */
function counterHint(plan: RoundTripPlan, delta: (name: string) => number, backend: Backend): string {
  const who = backend === 'bpf' ? 'the BPF backend' : 'the module';
  if (delta('untrusted') > 0) return `; untrusted +${delta('untrusted')}: ${who} did not trust ${plan.lb}`;
  if (delta('malformed') > 0) return `; malformed +${delta('malformed')}`;
  if (delta('with_option') === 0 && delta('without_option') === 0)
    return backend === 'bpf'
      ? "; the BPF backend's counters did not move: its sockops program saw none of these connections (attached with --cgroup to a cgroup doctor does not run in?)"
      : "; the module's counters did not move: its probes saw none of these connections (kprobes disabled? /sys/kernel/debug/kprobes/enabled)";
  return '';
}

function notRun(reason: string): Check {
  return { name: 'round-trip', status: 'warn', message: `not run: ${reason}` };
}

/** The verdict on a round trip: what the fake LB wrote against what the server's side saw. */
function roundTripCheck(
  plan: RoundTripPlan,
  result: RoundTripResult,
  counters: { before: Record<string, number>; after: Record<string, number> },
  backend: Backend,
): Check {
  const name = 'round-trip';
  if (!result.ran) return notRun(result.reason);
  const delta = (counter: string): number => (counters.after[counter] ?? 0) - (counters.before[counter] ?? 0);
  const proofs: string[] = [];
  const failures: string[] = [];
  for (const planned of plan.cases) {
    const seen = result.cases.find((c) => c.name === planned.name);
    const wrote =
      planned.client === null
        ? 'a connection without the option'
        : `${planned.name}: LB ${plan.lb} wrote ${hostPort(planned.client)} in a ${planned.format ?? '?'} option`;
    const failure = caseFailure(plan, planned, seen);
    if (failure !== undefined) failures.push(`${wrote}: ${failure}`);
    else if (planned.client === null) proofs.push(`${wrote}: getRealPeer null`);
    else
      proofs.push(
        `${wrote}: getRealPeer returned it${planned.name === '4to4' && plan.rewriteGetname ? ', and so did remoteAddress' : ''}`,
      );
  }
  const moved = `with_option +${delta('with_option')}`;
  if (failures.length > 0)
    return { name, status: 'fail', message: `${failures.join('; ')}${counterHint(plan, delta, backend)} (${moved})` };
  return { name, status: 'ok', message: `${proofs.join('; ')} (${moved})` };
}

export async function doctor(env: DoctorEnv = {}): Promise<DoctorReport> {
  const proc = env.proc ?? '/proc';
  const listenBefore = readListenCounters(proc);
  const sampled = Date.now();
  const kernel = env.kernel ?? release();
  const status = backendStatus(env);
  const bpfOptname = Number(status.parameters.optname);
  const optname = status.backend === 'bpf' && Number.isInteger(bpfOptname) && bpfOptname > 0 ? bpfOptname : loadedModuleOptname(env);
  const probe = await (env.probe ?? probeOptname)(optname);
  const checks = [
    ...kernelChecks(env, kernel, status),
    ...moduleChecks(status, env),
    backendSigningCheck(status, readSigningState(env)),
    optnameCheck(status, optname, probe),
    ...trafficChecks(status),
  ];
  let roundTrip: DoctorReport['roundTrip'] = null;
  if (status.loaded) {
    const plan = planRoundTrip(status.parameters, optname);
    if ('reason' in plan) {
      checks.push(notRun(plan.reason));
      roundTrip = { plan: null, result: { ran: false, reason: plan.reason } };
    } else {
      const result = await (env.roundTrip ?? runRoundTrip)(plan);
      checks.push(roundTripCheck(plan, result, { before: status.counters, after: backendStatus(env).counters }, status.backend));
      roundTrip = { plan, result };
    }
  }
  await (env.betweenSamples ?? waitSince)(sampled);
  const listenAfter = readListenCounters(proc);
  checks.push(...hostSettingChecks(proc, listenBefore, listenAfter, (Date.now() - sampled) / 1000));
  return { kernel, backend: status.backend, loaded: status.loaded, version: status.version, optname, checks, roundTrip };
}

const MARK: Record<CheckStatus, string> = { ok: 'ok', warn: 'WARN', fail: 'FAIL', info: '--' };

export function formatDoctor(report: DoctorReport): string {
  const width = Math.max(...report.checks.map((check) => check.name.length));
  const line = (check: Check): string =>
    `[${MARK[check.status].padEnd(4)}] ${check.name.padEnd(width)}  ${check.message}${check.fix === undefined ? '' : `; fix: ${check.fix}`}`;
  return report.checks.map(line).join('\n') + '\n';
}
