// SPDX-License-Identifier: MIT
// The module's 20-byte answer, decoded as Node reports addresses: a table of
// records (test/lib/peer-record-cases.ts), from the bytes the kernel writes to
// the Peer users get. test/host/92 runs the same table on arm64.
import t from 'tap';

import { decodePeerRecord, PEER_RECORD_BYTES } from '../../lib/peer-record.js';
import { PEER_RECORD_CASES } from '../lib/peer-record-cases.js';

for (const { name, record, expected } of PEER_RECORD_CASES) {
  t.test(name, async (t) => {
    t.equal(record.length, PEER_RECORD_BYTES);
    const peer = decodePeerRecord(Uint8Array.from(record));
    t.same(peer, expected);
    // The same three own properties, in Node's order, as remoteAddress/Port/Family.
    if (peer !== null) t.same(Object.keys(peer), ['address', 'port', 'family'], 'address, port, family, nothing else');
  });
}
