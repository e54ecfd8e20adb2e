// SPDX-License-Identifier: MIT
// One question to the kernel module: getsockopt(fd, SOL_IP, optname) through
// the addon, decoded. No cache and no meaning given to the errno: getRealPeer
// (lib/real-peer.ts) decides which errnos mean "no client", and diagnostics
// (lib/diagnostics.ts) report them as they are.

import { constants } from 'node:os';

import { binding } from './binding.js';
import { decodePeerRecord, type Peer } from './peer-record.js';

/**
 * The peer the module answered, or the negated errno: the addon's, or
 * `-EPROTO` for a record of a family neither AF_INET nor AF_INET6 (something
 * else answered this optname). A number rather than an object, so that the
 * first getRealPeer of a connection allocates nothing but its answer.
 */
export function askModule(fd: number, optname: number): Peer | number {
  // The addon's one record: getsockopt fills it, decodePeerRecord reads it in
  // the same tick.
  const b = binding();
  const result = b.getPeer(fd, optname);
  if (result !== 0) return result;
  return decodePeerRecord(b.record) ?? -constants.errno.EPROTO;
}
