// SPDX-License-Identifier: MIT
// Doctor's verdict on trusted_nets: the list decides whose client address
// options the module believes, so it is both what makes the module work and
// what keeps clients from forging their address.
//
// - Empty (the module's default) fails: the module ignores every option. The
//   fix is the one line the RPM's /etc/modprobe.d/kgwttm.conf leaves to edit.
// - `any` or a /0 warns: whoever reaches the host can forge an address.
// - A whole shared range (RFC 1918, 100.64/10, fc00::/7) or anything holding
//   one warns: the module's probes see every network namespace and the list is
//   host-wide, so a container on this host, another VM or an overlay peer in
//   that range can write any client into every TCP server here.
// - Options that came only from outside the list warn: the LB is not in it.
// The BPF backend reads the same list with the same rules (kgwttm-bpf attach
// --trusted-nets); only where it is set and how it is applied differ.

import type { Check } from './check.js';
import { parseTrustedNets, sharedRangesIn, type TrustedNet } from './trusted-nets.js';

/** Where each backend's list is written, and what applies an edit. */
const WHERE = {
  module: { conf: '/etc/modprobe.d/kgwttm.conf', reload: 'modprobe -r kgwttm && modprobe kgwttm' },
  bpf: {
    conf: '/etc/sysconfig/kgwttm-bpf (TRUSTED_NETS=, /etc/default/kgwttm-bpf on Debian)',
    reload: 'systemctl restart kgwttm-bpf, or kgwttm bpf detach && kgwttm bpf attach --trusted-nets LIST',
  },
} as const;

export type TrustBackend = keyof typeof WHERE;

function netsText(nets: TrustedNet[]): string {
  return [...new Set(nets.map((net) => net.text))].join(', ');
}

/** What is wrong with the list itself, as warnings (none: it names networks narrower than any shared range). */
function scopeWarnings(value: string, nets: TrustedNet[], backend: TrustBackend): string[] {
  const { conf, reload } = WHERE[backend];
  const warnings: string[] = [];
  const everyone = nets.filter((net) => net.prefix === 0);
  if (everyone.some((net) => net.text === 'any'))
    warnings.push(`trusted_nets=any: every source is believed, so a client that reaches this host directly can forge its address; list the load balancers' networks`);
  else if (everyone.length > 0)
    warnings.push(
      `trusted_nets=${value}: ${netsText(everyone)} believes every ${everyone.map((net) => net.family).join(' and ')} source, so a client that reaches this host directly can forge its address; list the load balancers' networks`,
    );
  const broad = nets
    .filter((net) => net.prefix > 0)
    .map((net) => ({ net, ranges: sharedRangesIn(net) }))
    .filter(({ ranges }) => ranges.length > 0);
  if (broad.length > 0) {
    const named = broad.map(({ net, ranges }) =>
      ranges.length === 1 && ranges[0]!.prefix === net.prefix ? net.text : `${net.text} (holds ${netsText(ranges)})`,
    );
    warnings.push(
      `trusted_nets trusts ${named.join(', ')}: anything that can reach this host from ${broad.length === 1 ? 'that range' : 'those ranges'} (containers on this host, other VMs, overlay peers) can forge client addresses; narrow it to the load balancers' local-IP subnet in ${conf}, then ${reload}`,
    );
  }
  return warnings;
}

export function trustCheck(parameters: Record<string, string>, counters: Record<string, number>, backend: TrustBackend = 'module'): Check {
  const name = 'trust';
  const value = parameters.trusted_nets ?? '';
  const nets = parseTrustedNets(value);
  if (nets.length === 0)
    return {
      name,
      status: 'fail',
      message:
        backend === 'module'
          ? `trusted_nets is empty: the module believes no load balancer and ignores every client address option; set trusted_nets to the load balancers' local-IP networks in ${WHERE.module.conf} (the line "options kgwttm trusted_nets=10.0.0.0/24,fd00::/64" with your LB subnets), then reload the module: ${WHERE.module.reload}`
          : `trusted_nets is empty: the BPF backend believes no load balancer and ignores every client address option; set the load balancers' local-IP networks in ${WHERE.bpf.conf} (the line TRUSTED_NETS=10.0.0.0/24,fd00::/64 with your LB subnets), then attach again: ${WHERE.bpf.reload}`,
    };
  const warnings = scopeWarnings(value, nets, backend);
  const count = (counter: string): number => counters[counter] ?? 0;
  if (count('untrusted') > 0 && count('with_option') === 0)
    warnings.push(`${count('untrusted')} options came from sources outside trusted_nets (${value}) and none from inside: add the load balancers' networks`);
  if (warnings.length > 0) return { name, status: 'warn', message: warnings.join('; ') };
  return { name, status: 'ok', message: `options believed from ${value}` };
}
