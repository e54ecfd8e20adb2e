// SPDX-License-Identifier: MIT
// The test side of the addon's record: writes a peer as the kernel module
// writes struct ttm_peer (af in host order, port big-endian, address bytes),
// from the address text, so scripted bindings can answer like the module.
import { isIPv4, isIPv6 } from 'node:net';
import { endianness } from 'node:os';

// The address text to bytes once, in the doctor's packet builder.
import { addressBytes } from '../../lib/cli/packet.js';

/** A peer as the module would report it: family 4 or 6 and the address text. */
export interface ScriptedPeer {
  family: 4 | 6;
  address: string;
  port: number;
}

export function encodePeerRecord(peer: ScriptedPeer, record: Uint8Array): void {
  if (peer.family === 4 ? !isIPv4(peer.address) : !isIPv6(peer.address))
    throw new Error(`not an IPv${peer.family} address: ${peer.address}`);
  record.fill(0);
  const af = peer.family === 4 ? 2 : 10;
  const [lo, hi] = [af & 0xff, af >> 8];
  record[0] = endianness() === 'LE' ? lo : hi;
  record[1] = endianness() === 'LE' ? hi : lo;
  record[2] = peer.port >> 8;
  record[3] = peer.port & 0xff;
  record.set(addressBytes(peer.address), 4);
}
