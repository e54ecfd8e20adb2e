// SPDX-License-Identifier: MIT
// A trusted_nets value read the way the module reads it (kmod/trust.c):
// comma-separated CIDRs or bare addresses (a host route), blank entries
// skipped, `any` meaning 0.0.0.0/0 and ::/0. Doctor judges the list from it
// (lib/cli/trust-check.ts) and the round trip picks its load balancer's
// address from it (lib/cli/roundtrip-plan.ts), so both see the same networks.

import { isIP } from 'node:net';

import { addressBytes } from './packet.js';

export interface TrustedNet {
  /** The entry as written, `any` for both halves of `any`. */
  text: string;
  family: 'IPv4' | 'IPv6';
  /** 4 or 16 bytes. */
  bytes: Uint8Array;
  prefix: number;
}

function parseNet(text: string, entry = text): TrustedNet | null {
  const [address = '', prefixText, extra] = text.split('/');
  const version = isIP(address);
  if (version === 0 || extra !== undefined) return null;
  const bits = version === 4 ? 32 : 128;
  if (prefixText !== undefined && !/^\d+$/.test(prefixText)) return null;
  const prefix = prefixText === undefined ? bits : Number(prefixText);
  if (prefix > bits) return null;
  return { text: entry, family: version === 4 ? 'IPv4' : 'IPv6', bytes: addressBytes(address), prefix };
}

/**
 * The networks of a trusted_nets value. An entry the module would refuse is
 * left out: a loaded module never shows one, and sysfs shows an unset string
 * parameter as `(null)`, which is an empty list too.
 */
export function parseTrustedNets(value: string): TrustedNet[] {
  const nets: TrustedNet[] = [];
  for (const token of value.split(',').map((part) => part.trim())) {
    if (token === '') continue;
    const parsed = token === 'any' ? [parseNet('0.0.0.0/0', 'any'), parseNet('::/0', 'any')] : [parseNet(token)];
    for (const net of parsed) if (net !== null) nets.push(net);
  }
  return nets;
}

/** Whether every address of `inner` is inside `outer` (same family, a prefix as long or shorter, the same leading bits). */
export function contains(outer: TrustedNet, inner: TrustedNet): boolean {
  if (outer.family !== inner.family || outer.prefix > inner.prefix) return false;
  const whole = Math.floor(outer.prefix / 8);
  for (let i = 0; i < whole; i++) if (outer.bytes[i] !== inner.bytes[i]) return false;
  const rest = outer.prefix % 8;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return ((outer.bytes[whole] ?? 0) & mask) === ((inner.bytes[whole] ?? 0) & mask);
}

// Ranges shared with far more than load balancers: the RFC 1918 blocks, the
// RFC 6598 shared space (carrier NAT, overlays) and IPv6 unique local
// addresses. Docker bridges, pod networks, every VM of a VPC and overlay
// peers live there, and any of them can reach this host.
export const SHARED_RANGES: readonly TrustedNet[] = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', 'fc00::/7'].map(
  (text) => parseNet(text)!,
);

/** The shared ranges a trusted net covers whole (none for a network inside one, e.g. 10.1.2.0/24). */
export function sharedRangesIn(net: TrustedNet): TrustedNet[] {
  return SHARED_RANGES.filter((range) => contains(net, range));
}
