// SPDX-License-Identifier: MIT
// What `kgwttm doctor`'s round trip will do, decided from the loaded module's
// parameters before anything runs: which address the fake load balancer
// writes from (one the module trusts), which option formats it writes (ones
// the module accepts), and which client each connection carries.
//
// The plan is plain data: the parent (lib/cli/roundtrip.ts) hands it to the
// child in the network namespace (lib/cli/roundtrip-child.ts), and doctor
// judges the child's observations against it (lib/cli/doctor.ts).

import type { Peer } from '../index.js';
import { ipv4Text } from './packet.js';
import { parseTrustedNets } from './trusted-nets.js';

export type CaseName = '4to4' | '6to4' | 'none';

export interface PlannedCase {
  name: CaseName;
  /** `kind:len` of the option written in the final ACK; null: no option. */
  format: string | null;
  /** The client the option carries; null without an option. */
  client: Peer | null;
  /** The fake load balancer's source port for this connection. */
  sport: number;
}

export interface RoundTripPlan {
  /** The fake load balancer's local IP (lip). */
  lb: string;
  /** The server's address on the TUN device. */
  server: string;
  port: number;
  optname: number;
  /** rewrite_getname=Y: a 4to4 connection's remoteAddress is the client. */
  rewriteGetname: boolean;
  cases: PlannedCase[];
}

export const CLIENT4: Peer = { address: '203.0.113.7', port: 4242, family: 'IPv4' };
export const CLIENT6: Peer = { address: '2001:db8::7', port: 4242, family: 'IPv6' };

// The formats that carry each client family, in the order tried: the common
// TOA one first, then the others the module can be told to accept.
const FORMATS_4TO4 = ['254:8', '200:8', '254:22'];
const FORMATS_6TO4 = ['254:20', '254:22', '253:20'];

// Where the plan puts the LB when every source is trusted (a private network).
const ANY_LB = '10.200.0.2';
const ANY_SERVER = '10.200.0.1';

function toNumber(bytes: Uint8Array): number {
  return ((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0;
}

function toText(value: number): string {
  return ipv4Text(Uint8Array.of(value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff));
}

/**
 * The LB and server addresses for a trusted_nets value: the LB inside the first
 * usable IPv4 net, the server beside it; with only a /0 (or `any`), a private
 * pair. Loopback (127/8), 0/8 and multicast nets cannot be a source on a TUN
 * device and are passed over. A string when the round trip cannot run: an
 * empty list (the module believes no one, which the trust check reports), or
 * no IPv4 source trusted (this round trip plays an IPv4 load balancer).
 */
export function pickAddresses(trustedNets: string): { lb: string; server: string } | string {
  const nets = parseTrustedNets(trustedNets);
  if (nets.length === 0) return 'trusted_nets is empty: the module believes no load balancer, so a fake one would prove nothing (see the trust check)';
  const ipv4 = nets.filter((net) => net.family === 'IPv4');
  for (const { bytes, prefix } of ipv4) {
    const first = bytes[0]!;
    if (prefix === 0 || first === 127 || first === 0 || first >= 224) continue;
    const base = toNumber(bytes);
    if (prefix <= 30) return { lb: toText(base + 2), server: toText(base + 1) };
    // A /31 or /32 holds the LB only; the server can be anywhere (the namespace is empty).
    const server = toText(base) === '192.0.2.1' ? '192.0.2.2' : '192.0.2.1';
    return { lb: toText(base), server };
  }
  if (ipv4.some((net) => net.prefix === 0)) return { lb: ANY_LB, server: ANY_SERVER };
  return `trusted_nets=${trustedNets} holds no IPv4 network a load balancer on a TUN device can use, and this round trip plays an IPv4 one`;
}

/** The accepted formats as a list, e.g. `['254:8', '254:20']`. */
function acceptedFormats(formats: string): string[] {
  return formats
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
}

/** The plan for a loaded module's parameters (as `/sys/module/kgwttm/parameters` shows them), or why there is none. */
export function planRoundTrip(parameters: Record<string, string>, optname: number): RoundTripPlan | { reason: string } {
  const addresses = pickAddresses(parameters.trusted_nets ?? '');
  if (typeof addresses === 'string') return { reason: addresses };
  const accepted = acceptedFormats(parameters.formats ?? '254:8,254:20,254:22');
  const cases: PlannedCase[] = [];
  let sport = 40001;
  const v4 = FORMATS_4TO4.find((format) => accepted.includes(format));
  if (v4 !== undefined) cases.push({ name: '4to4', format: v4, client: CLIENT4, sport: sport++ });
  const v6 = FORMATS_6TO4.find((format) => accepted.includes(format));
  if (v6 !== undefined) cases.push({ name: '6to4', format: v6, client: CLIENT6, sport: sport++ });
  if (cases.length === 0) return { reason: `formats=${parameters.formats ?? ''} accepts no format this round trip writes` };
  cases.push({ name: 'none', format: null, client: null, sport: sport++ });
  return {
    ...addresses,
    port: 8080,
    optname,
    rewriteGetname: (parameters.rewrite_getname ?? 'Y') === 'Y',
    cases,
  };
}
