// SPDX-License-Identifier: MIT
// The decoder's table: records as the kernel module writes them (af in host
// byte order, port big-endian, 16 address bytes) and the Peer users get. Plain
// data, so that the same table runs on this host (test/host/29) and in an
// arm64 node under qemu (test/host/92). The records are written in this
// host's byte order; x86-64 and arm64 are both little-endian.

import type { Peer } from '../../lib/peer-record.js';

export interface PeerRecordCase {
  name: string;
  /** The 20 bytes of struct ttm_peer. */
  record: number[];
  expected: Peer | null;
}

const RECORD_BYTES = 20;

const hostOrderAf = (af: number): number[] => (new Uint8Array(new Uint16Array([af]).buffer)[0] === af ? [af, 0] : [0, af]);

function record(af: number, port: number, addr: number[]): number[] {
  const r = new Array<number>(RECORD_BYTES).fill(0);
  [...hostOrderAf(af), port >> 8, port & 0xff, ...addr].forEach((byte, i) => (r[i] = byte));
  return r;
}

const v6 = (...groups: number[]): number[] => groups.flatMap((g) => [g >> 8, g & 0xff]);

export const PEER_RECORD_CASES: PeerRecordCase[] = [
  { name: 'IPv4 client', record: record(2, 40001, [203, 0, 113, 7]), expected: { address: '203.0.113.7', port: 40001, family: 'IPv4' } },
  { name: 'IPv4, port 0 and 65535 bounds', record: record(2, 65535, [0, 0, 0, 0]), expected: { address: '0.0.0.0', port: 65535, family: 'IPv4' } },
  { name: 'IPv6 client, zero run compressed', record: record(10, 443, v6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 7)), expected: { address: '2001:db8::7', port: 443, family: 'IPv6' } },
  { name: 'IPv6, the longest zero run wins', record: record(10, 1, v6(0x2001, 0, 0, 1, 0, 0, 0, 1)), expected: { address: '2001:0:0:1::1', port: 1, family: 'IPv6' } },
  { name: 'IPv6, the first of equal runs wins', record: record(10, 1, v6(1, 0, 0, 2, 3, 0, 0, 4)), expected: { address: '1::2:3:0:0:4', port: 1, family: 'IPv6' } },
  { name: 'IPv6, a single zero group stays', record: record(10, 1, v6(1, 0, 2, 3, 4, 5, 6, 7)), expected: { address: '1:0:2:3:4:5:6:7', port: 1, family: 'IPv6' } },
  { name: 'IPv6, no zero group', record: record(10, 1, v6(0xfe80, 1, 2, 3, 4, 5, 6, 0xabcd)), expected: { address: 'fe80:1:2:3:4:5:6:abcd', port: 1, family: 'IPv6' } },
  { name: 'IPv6 all zeros', record: record(10, 80, v6(0, 0, 0, 0, 0, 0, 0, 0)), expected: { address: '::', port: 80, family: 'IPv6' } },
  { name: 'IPv6 trailing zeros', record: record(10, 80, v6(0xfd00, 0x200, 0, 0, 0, 0, 0, 0)), expected: { address: 'fd00:200::', port: 80, family: 'IPv6' } },
  { name: 'IPv4-mapped answer comes back as IPv4', record: record(10, 8080, v6(0, 0, 0, 0, 0, 0xffff, 0xc000, 0x0201)), expected: { address: '192.0.2.1', port: 8080, family: 'IPv4' } },
  { name: 'an unknown family is no peer', record: record(7, 1, [1, 2, 3, 4]), expected: null },
];
