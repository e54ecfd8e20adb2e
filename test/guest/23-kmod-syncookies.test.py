#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""kgwttm: connections completed through SYN cookies carry their client too.

With net.ipv4.tcp_syncookies=2 every handshake is a cookie one: the child
socket is made by cookie_v4_check/cookie_v6_check from the ACK alone. Each
route (IPv4, IPv4 to a dual-stack listener, IPv6) and each option layout gives
the client, once, and the untrusted and no-option cases stay what they are.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '../lib'))
import kmodtest as k  # noqa: E402

t = k.suite()
lbsim = k.lbsim
C4, C6 = k.CLIENT4, k.CLIENT6
M = k.mapped

with k.Module(), lbsim.LB(seed=50) as lb, k.Sysctl('net/ipv4/tcp_syncookies', 2):
    for desc, listen_addr, dst, option, src, want_peer, want_opt, counter in (
            ('IPv4, 254/8', lb.RS4, (lb.RS4, 2300), lbsim.toa_v4(*C4), None, C4, C4, 'with_option'),
            ('IPv4, 254/22 af 2', lb.RS4, (lb.RS4, 2301), lbsim.ttm_peer(2, *C4), None, C4, C4,
             'with_option'),
            ('IPv4 to dual-stack, 254/8', '::', (lb.RS4, 2302), lbsim.toa_v4(*C4), None,
             (M(C4[0]), C4[1]), C4, 'with_option'),
            ('IPv4 to dual-stack, 254/20 (6to4)', '::', (lb.RS4, 2303), lbsim.toa_v6(*C6), None,
             'lip', C6, 'with_option'),
            ('IPv6, 254/20', lb.RS6, (lb.RS6, 2304), lbsim.toa_v6(*C6), None, C6, C6, 'with_option'),
            ('IPv6, 254/22 af 10 big-endian', lb.RS6, (lb.RS6, 2305),
             lbsim.ttm_peer(10, *C6, af_byteorder='big'), None, C6, C6, 'with_option'),
            ('IPv4, no option', lb.RS4, (lb.RS4, 2306), b'', None, 'lip', 'ENOENT', 'without_option'),
            ('IPv4, untrusted source', lb.RS4, (lb.RS4, 2307), lbsim.toa_v4(*C4),
             lb.UNTRUSTED4, 'lip', 'ENOENT', 'untrusted')):
        @t.test('syncookies=2, %s: getpeername %s, getsockopt %s, counted once as %s'
                % (desc, want_peer, want_opt, counter))
        def _():
            server = k.listen(listen_addr, dst[1])
            before, cookies = k.stats(), k.netstat('SyncookiesRecv')[0]
            try:
                c, conn, accepted = k.handshake(lb, server, dst, option, src=src)
                got = (conn.getpeername()[:2], k.peer(conn))
                k.close(c, conn)
            finally:
                server.close()
            assert k.netstat('SyncookiesRecv')[0] == cookies + 1, 'not a cookie handshake'
            lip = (c.src, c.sport) if listen_addr != '::' else (M(c.src), c.sport)
            assert got == (lip if want_peer == 'lip' else want_peer, want_opt), got
            d = k.delta(before, k.stats())
            assert d[counter] == 1 and sum(d[n] for n in (
                'with_option', 'without_option', 'malformed', 'untrusted', 'nomem')) == 1, d
    t.equal(k.stats()['live'], 0, 'live is 0 once they are closed')

sys.exit(t.end())
