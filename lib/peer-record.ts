// SPDX-License-Identifier: MIT
// The module's 20-byte answer (struct ttm_peer in kmod/uapi/kgwttm.h) as a Peer.
//
// Decoded here rather than in C++: an object and a string built through N-API
// cost several times the getsockopt itself, while these few byte reads and
// concatenations are cheap for V8. The Peer is a plain object, not frozen:
// Object.freeze was an eighth of a first getRealPeer (480 guest instructions
// in bench/), and, as with Node's own socket.address(), the readonly type is
// the contract. Addresses are written the way Node
// reports its own (RFC 5952: lowercase, longest zero run as `::`), and an
// IPv4-mapped IPv6 answer comes back as the plain IPv4 Node users compare
// against. A leaf: it owns the Peer shape that everything above returns.

import { endianness } from 'node:os';

export type Family = 'IPv4' | 'IPv6';

/** A peer address, as `net.Socket` reports its own (`remoteAddress`, `remotePort`, `remoteFamily`). */
export interface Peer {
  readonly address: string;
  readonly port: number;
  readonly family: Family;
}

/** Size of struct ttm_peer: u16 af (host order), be16 port, u8 addr[16]. */
export const PEER_RECORD_BYTES = 20;

const AF_INET = 2;
const AF_INET6 = 10;
const littleEndian = endianness() === 'LE';

// Each byte's decimal text, with and without its dot: four lookups and three
// concatenations instead of four number-to-string conversions (a third of
// the first call's decoding, measured in bench/).
const DECIMAL = Array.from({ length: 256 }, (_, i) => String(i));
const DECIMAL_DOT = DECIMAL.map((d) => `${d}.`);

function ipv4(r: Uint8Array, at: number): string {
  return (
    (DECIMAL_DOT[r[at] ?? 0] as string) +
    (DECIMAL_DOT[r[at + 1] ?? 0] as string) +
    (DECIMAL_DOT[r[at + 2] ?? 0] as string) +
    (DECIMAL[r[at + 3] ?? 0] as string)
  );
}

function isV4Mapped(r: Uint8Array): boolean {
  for (let i = 4; i < 14; i++) if (r[i] !== 0) return false;
  return r[14] === 0xff && r[15] === 0xff;
}

function ipv6(r: Uint8Array): string {
  const groups: number[] = [];
  for (let i = 4; i < 20; i += 2) groups.push(((r[i] ?? 0) << 8) | (r[i + 1] ?? 0));
  // The longest run of two or more zero groups (the first of equals) becomes `::`.
  let bestAt = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestAt = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (from: number, to: number): string =>
    groups
      .slice(from, to)
      .map((g) => g.toString(16))
      .join(':');
  if (bestAt < 0) return hex(0, 8);
  return `${hex(0, bestAt)}::${hex(bestAt + bestLen, 8)}`;
}

/** The peer in a record, or `null` when its address family is neither AF_INET nor AF_INET6. */
export function decodePeerRecord(r: Uint8Array): Peer | null {
  const af = littleEndian ? (r[0] ?? 0) | ((r[1] ?? 0) << 8) : ((r[0] ?? 0) << 8) | (r[1] ?? 0);
  const port = ((r[2] ?? 0) << 8) | (r[3] ?? 0);
  if (af === AF_INET) return { address: ipv4(r, 4), port, family: 'IPv4' };
  if (af !== AF_INET6) return null;
  if (isV4Mapped(r)) return { address: ipv4(r, 16), port, family: 'IPv4' };
  return { address: ipv6(r), port, family: 'IPv6' };
}
