// SPDX-License-Identifier: MIT
// Doctor's checks of the host settings that the load balancer's own FAQ names
// as breaking backends behind it, whether or not the module is loaded:
//
// - net.core.somaxconn caps every listen() backlog. The FAQ: at 128 the accept
//   queue fills under load, the server stops answering SYNs and clients time
//   out; raise it to 1024 or more (and restart the applications: the backlog
//   is fixed when they call listen()).
// - ListenOverflows / ListenDrops (TcpExt, /proc/net/netstat): the accept-queue
//   drops that the small backlog causes. Counted since boot, so doctor reads
//   them twice, a second apart at least, and only drops between the two reads
//   are "now".
// - net.ipv4.tcp_keepalive_time: the LB resets connections idle for 900 s.
//   Keepalive probes sent sooner (on sockets that enable SO_KEEPALIVE) keep
//   them alive; the default 7200 s comes long after the reset.
//
// All three are read from the procfs root doctor was given (fixtures in the
// host tests, the host's /proc mounted in a container), in the network
// namespace whose /proc/net and /proc/sys/net doctor sees.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import type { Check } from './check.js';

/** The FAQ's floor for net.core.somaxconn. */
export const SOMAXCONN_MIN = 1024;
/** The load balancer's idle timeout for TCP, seconds. */
export const LB_IDLE_TIMEOUT = 900;
/** A keepalive time that leaves the probe well inside the idle timeout. */
const KEEPALIVE_SUGGESTED = 600;
const SYSCTL_D = '/etc/sysctl.d/99-kgwttm.conf';

function readSysctl(proc: string, name: string): number | null {
  try {
    const value = Number(readFileSync(join(proc, 'sys', ...name.split('.')), 'utf8').trim());
    return Number.isInteger(value) ? value : null;
  } catch {
    return null;
  }
}

export interface ListenCounters {
  ListenOverflows: number;
  ListenDrops: number;
}

/** TcpExt's ListenOverflows and ListenDrops from `<proc>/net/netstat`, null when unreadable. */
export function readListenCounters(proc: string): ListenCounters | null {
  let text: string;
  try {
    text = readFileSync(join(proc, 'net', 'netstat'), 'utf8');
  } catch {
    return null;
  }
  // Pairs of lines: "TcpExt: name name ..." then "TcpExt: value value ...".
  const lines = text.split('\n').filter((line) => line.startsWith('TcpExt:'));
  const names = (lines[0] ?? '').split(/\s+/).slice(1);
  const values = (lines[1] ?? '').split(/\s+/).slice(1);
  const field = (name: string): number | null => {
    const index = names.indexOf(name);
    const value = index < 0 ? NaN : Number(values[index]);
    return Number.isFinite(value) ? value : null;
  };
  const overflows = field('ListenOverflows');
  const drops = field('ListenDrops');
  return overflows === null || drops === null ? null : { ListenOverflows: overflows, ListenDrops: drops };
}

const persist = (name: string, value: number): string =>
  `sysctl -w ${name}=${value}, and "${name} = ${value}" in ${SYSCTL_D} to keep it across reboots`;

function somaxconnCheck(proc: string): Check {
  const name = 'somaxconn';
  const value = readSysctl(proc, 'net.core.somaxconn');
  if (value === null) return { name, status: 'warn', message: `cannot read ${join(proc, 'sys/net/core/somaxconn')}: the listen backlog cap not checked` };
  if (value >= SOMAXCONN_MIN)
    return { name, status: 'ok', value, message: `net.core.somaxconn = ${value}: listen() backlogs up to ${value} (${SOMAXCONN_MIN} or more, as the load balancer's FAQ asks)` };
  return {
    name,
    status: 'warn',
    value,
    message: `net.core.somaxconn = ${value} caps every listen() backlog at ${value}: under load the accept queue fills, the server stops answering the load balancer's SYNs and clients time out`,
    fix: `${persist('net.core.somaxconn', SOMAXCONN_MIN)}; then restart the applications (a backlog is fixed at listen())`,
  };
}

/**
 * The accept-queue drops: since boot from `before`, and between `before` and
 * `after` (read `seconds` apart), the ones happening now.
 */
function listenQueueCheck(before: ListenCounters | null, after: ListenCounters | null, seconds: number, somaxconn: number | null): Check {
  const name = 'listen-queue';
  if (before === null || after === null)
    return { name, status: 'warn', message: 'cannot read ListenOverflows/ListenDrops (TcpExt in /proc/net/netstat): accept-queue drops not checked' };
  const value = { ...after, since: { ListenOverflows: after.ListenOverflows - before.ListenOverflows, ListenDrops: after.ListenDrops - before.ListenDrops }, seconds };
  const counts = `ListenOverflows ${after.ListenOverflows}, ListenDrops ${after.ListenDrops} since boot`;
  const cap = somaxconn === null ? '' : ` (net.core.somaxconn is ${somaxconn})`;
  const fix = `raise the applications' listen backlog and net.core.somaxconn${cap}: ${persist('net.core.somaxconn', Math.max(SOMAXCONN_MIN, 2 * (somaxconn ?? 0)))}, then restart them; or accept faster`;
  if (value.since.ListenOverflows > 0 || value.since.ListenDrops > 0)
    return {
      name,
      status: 'fail',
      value,
      message: `${counts}, +${value.since.ListenOverflows} and +${value.since.ListenDrops} in the last ${seconds.toFixed(1)} s: accept queues are overflowing now, and connections the load balancer hands over are dropped`,
      fix,
    };
  if (after.ListenOverflows > 0 || after.ListenDrops > 0)
    return {
      name,
      status: 'warn',
      value,
      message: `${counts} (none in the last ${seconds.toFixed(1)} s): accept queues overflowed at some time; clients behind the load balancer timed out then`,
      fix,
    };
  return { name, status: 'ok', value, message: `${counts}: no accept queue has overflowed` };
}

function keepaliveCheck(proc: string): Check {
  const name = 'keepalive';
  const value = readSysctl(proc, 'net.ipv4.tcp_keepalive_time');
  if (value === null)
    return { name, status: 'warn', message: `cannot read ${join(proc, 'sys/net/ipv4/tcp_keepalive_time')}: keepalive against the load balancer's idle timeout not checked` };
  if (value < LB_IDLE_TIMEOUT)
    return {
      name,
      status: 'ok',
      value,
      message: `net.ipv4.tcp_keepalive_time = ${value} s: sockets with SO_KEEPALIVE probe before the load balancer's ${LB_IDLE_TIMEOUT} s idle timeout`,
    };
  return {
    name,
    status: 'warn',
    value,
    message: `net.ipv4.tcp_keepalive_time = ${value} s: the load balancer resets connections idle for ${LB_IDLE_TIMEOUT} s, before the first keepalive probe, so idle connections are lost even where applications enable SO_KEEPALIVE`,
    fix: `${persist('net.ipv4.tcp_keepalive_time', KEEPALIVE_SUGGESTED)} (under ${LB_IDLE_TIMEOUT}); it applies to sockets with SO_KEEPALIVE (Node: socket.setKeepAlive(true); nginx: listen ... so_keepalive=on)`,
  };
}

/**
 * The three checks, in the order doctor prints them; `before` and `after` are
 * readListenCounters() `seconds` apart.
 */
export function hostSettingChecks(proc: string, before: ListenCounters | null, after: ListenCounters | null, seconds: number): Check[] {
  return [somaxconnCheck(proc), listenQueueCheck(before, after, seconds, readSysctl(proc, 'net.core.somaxconn')), keepaliveCheck(proc)];
}
