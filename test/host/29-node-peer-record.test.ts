// The module's 20-byte answer, decoded as Node reports addresses: a table of
// records, from the bytes the kernel writes to the Peer users get.
import t from 'tap';

import { decodePeerRecord, PEER_RECORD_BYTES } from '../../lib/peer-record.js';

const hostOrderAf = (af: number): number[] => (new Uint8Array(new Uint16Array([af]).buffer)[0] === af ? [af, 0] : [0, af]);

function record(af: number, port: number, addr: number[]): Uint8Array {
  const r = new Uint8Array(PEER_RECORD_BYTES);
  r.set([...hostOrderAf(af), port >> 8, port & 0xff, ...addr]);
  return r;
}

const v6 = (...groups: number[]): number[] => groups.flatMap((g) => [g >> 8, g & 0xff]);

const cases: Array<[string, Uint8Array, ReturnType<typeof decodePeerRecord>]> = [
  ['IPv4 client', record(2, 40001, [203, 0, 113, 7]), { address: '203.0.113.7', port: 40001, family: 'IPv4' }],
  ['IPv4, port 0 and 65535 bounds', record(2, 65535, [0, 0, 0, 0]), { address: '0.0.0.0', port: 65535, family: 'IPv4' }],
  ['IPv6 client, zero run compressed', record(10, 443, v6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 7)), { address: '2001:db8::7', port: 443, family: 'IPv6' }],
  ['IPv6, the longest zero run wins', record(10, 1, v6(0x2001, 0, 0, 1, 0, 0, 0, 1)), { address: '2001:0:0:1::1', port: 1, family: 'IPv6' }],
  ['IPv6, the first of equal runs wins', record(10, 1, v6(1, 0, 0, 2, 3, 0, 0, 4)), { address: '1::2:3:0:0:4', port: 1, family: 'IPv6' }],
  ['IPv6, a single zero group stays', record(10, 1, v6(1, 0, 2, 3, 4, 5, 6, 7)), { address: '1:0:2:3:4:5:6:7', port: 1, family: 'IPv6' }],
  ['IPv6, no zero group', record(10, 1, v6(0xfe80, 1, 2, 3, 4, 5, 6, 0xabcd)), { address: 'fe80:1:2:3:4:5:6:abcd', port: 1, family: 'IPv6' }],
  ['IPv6 all zeros', record(10, 80, v6(0, 0, 0, 0, 0, 0, 0, 0)), { address: '::', port: 80, family: 'IPv6' }],
  ['IPv6 trailing zeros', record(10, 80, v6(0xfd00, 0x200, 0, 0, 0, 0, 0, 0)), { address: 'fd00:200::', port: 80, family: 'IPv6' }],
  ['IPv4-mapped answer comes back as IPv4', record(10, 8080, v6(0, 0, 0, 0, 0, 0xffff, 0xc000, 0x0201)), { address: '192.0.2.1', port: 8080, family: 'IPv4' }],
  ['an unknown family is no peer', record(7, 1, [1, 2, 3, 4]), null],
];

for (const [name, bytes, expected] of cases) {
  t.test(name, async (t) => {
    const peer = decodePeerRecord(bytes);
    t.same(peer, expected);
    if (peer !== null) t.ok(Object.isFrozen(peer), 'the answer is frozen (it is shared by the cache)');
  });
}
