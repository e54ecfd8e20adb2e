#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""kgwttm: accept() and getpeername() return the client where it fits.

Servers on AF_INET, AF_INET6 dual-stack ('::', Node's default) and AF_INET6
sockets take connections from the simulated LB over IPv4 and IPv6, from IPv4
and IPv6 clients:
  4to4  AF_INET: client; dual-stack: ::ffff:client
  6to4  AF_INET and dual-stack: the LB's address (an IPv6 client does not fit
        the connection's family); getsockopt: af 10 and the client
  6to6  client; 4to6: ::ffff:client
getsockname() always returns the server's own address; getsockopt always
returns the client. rewrite_getname=0 leaves accept/getpeername alone.
"""
import os
import socket
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '../lib'))
import kmodtest as k  # noqa: E402

t = k.suite()
lbsim = k.lbsim
C4, C6 = k.CLIENT4, k.CLIENT6
TOA4, TOA6 = lbsim.toa_v4(*C4), lbsim.toa_v6(*C6)
TTM4 = lbsim.ttm_peer(2, C4[0], C4[1])


def scenario(lb, desc, listen_addr, dst, option, want_peer, want_sock, rewrite=True):
    """want_peer/want_sock: (ip, port); 'lip' stands for the LB's own address
    (mapped when the listener is dual-stack)."""
    @t.test(desc)
    def _():
        server = k.listen(listen_addr, dst[1])
        try:
            c, conn, accepted = k.handshake(lb, server, dst, option)
            lip = (c.src, c.sport)
            if listen_addr == '::' and ':' not in c.src:
                lip = (k.mapped(c.src), c.sport)
            want = lip if want_peer == 'lip' else want_peer
            got = {'accept': accepted, 'getpeername': conn.getpeername()[:2],
                   'getsockname': conn.getsockname()[:2], 'getsockopt': k.peer(conn)}
            k.close(c, conn)
            client = C4 if option in (TOA4, TTM4) else C6
            assert got == {'accept': want, 'getpeername': want, 'getsockname': want_sock,
                           'getsockopt': client}, got
        finally:
            server.close()


with k.Module(), lbsim.LB(seed=30) as lb:
    RS4, RS6, M = lb.RS4, lb.RS6, k.mapped
    scenario(lb, '4to4, AF_INET: accept and getpeername return the client, getsockname the RS',
             RS4, (RS4, 2100), TOA4, C4, (RS4, 2100))
    scenario(lb, '4to4 (254/22 option), AF_INET: the client', RS4, (RS4, 2101), TTM4, C4, (RS4, 2101))
    scenario(lb, '4to4, dual-stack "::" listener: ::ffff:client',
             '::', (RS4, 2102), TOA4, (M(C4[0]), C4[1]), (M(RS4), 2102))
    scenario(lb, '6to4, AF_INET: getpeername returns the LB, getsockopt the IPv6 client',
             RS4, (RS4, 2103), TOA6, 'lip', (RS4, 2103))
    scenario(lb, '6to4, dual-stack "::" listener: getpeername returns ::ffff:LB',
             '::', (RS4, 2104), TOA6, 'lip', (M(RS4), 2104))
    scenario(lb, '6to6, dual-stack "::" listener: the IPv6 client',
             '::', (RS6, 2105), TOA6, C6, (RS6, 2105))
    scenario(lb, '6to6, AF_INET6 on the RS address: the IPv6 client',
             RS6, (RS6, 2106), TOA6, C6, (RS6, 2106))
    scenario(lb, '4to6: ::ffff:client', RS6, (RS6, 2107), TOA4, (M(C4[0]), C4[1]), (RS6, 2107))
    scenario(lb, '4to6 (254/22 option): ::ffff:client',
             '::', (RS6, 2108), TTM4, (M(C4[0]), C4[1]), (RS6, 2108))

    @t.test('a connection without option: getpeername returns the LB')
    def _():
        server = k.listen(RS4, 2109)
        c, conn, accepted = k.handshake(lb, server, (RS4, 2109))
        got = (accepted, conn.getpeername(), k.peer(conn))
        k.close(c, conn)
        server.close()
        assert got == ((c.src, c.sport), (c.src, c.sport), 'ENOENT'), got

    # The module skips sockets whose cookie was never generated (they cannot
    # have an entry); one that sock_diag, SO_COOKIE or BPF gave a cookie goes
    # through the lookup, with or without a client.
    SO_COOKIE = 57

    @t.test('SO_COOKIE asked first: no option still gives the LB, an option still the client')
    def _():
        server = k.listen(RS4, 2113)
        try:
            for option, want_peer, want_opt in ((b'', 'lb', 'ENOENT'), (TOA4, C4, C4)):
                c, conn, accepted = k.handshake(lb, server, (RS4, 2113), option)
                cookie = conn.getsockopt(socket.SOL_SOCKET, SO_COOKIE, 8)
                got = (cookie != bytes(8), conn.getpeername(), k.peer(conn))
                want = (True, (c.src, c.sport) if want_peer == 'lb' else want_peer, want_opt)
                k.close(c, conn)
                assert got == want, (got, want)
        finally:
            server.close()

with k.Module(rewrite_getname=0), lbsim.LB(seed=31) as lb:
    RS4, RS6, M = lb.RS4, lb.RS6, k.mapped
    scenario(lb, 'rewrite_getname=0, 4to4: accept and getpeername return the LB, getsockopt the client',
             RS4, (RS4, 2110), TOA4, 'lip', (RS4, 2110))
    scenario(lb, 'rewrite_getname=0, 4to4 on dual-stack: ::ffff:LB',
             '::', (RS4, 2111), TOA4, 'lip', (M(RS4), 2111))
    scenario(lb, 'rewrite_getname=0, 6to6: the LB', RS6, (RS6, 2112), TOA6, 'lip', (RS6, 2112))

    @t.test('rewrite_getname=0: /sys/module/kgwttm/parameters/rewrite_getname (kgwttm-bpf params) says N')
    def _():
        assert k.param('rewrite_getname') == 'N'

sys.exit(t.end())
