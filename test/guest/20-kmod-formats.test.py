#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""kgwttm: every wire format, every malformed case, and the getsockopt ABI.

An LB (the packet-exact simulator) opens connections to Python servers on the
RS addresses, over IPv4 and IPv6, with each option case of lbsim.option_cases()
in its handshake ACK. With the default formats (254:8, 254:20, 254:22) the
server's getsockopt(SOL_IP, 1345) returns the client for the valid ones and
ENOENT for the rest, and /proc/net/kgwttm counts each connection once, under
the right name. formats= changes which (kind, len) pairs are believed.
EINVAL for a short buffer, ENOENT for sockets without a client, ENOPROTOOPT
once the module is gone.
"""
import os
import socket
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '../lib'))
import kmodtest as k  # noqa: E402

t = k.suite()
cases = k.lbsim.option_cases()
NOT_ACCEPTED = ('k200', 'k253')     # kinds the default formats leave out
NO_OPTION = ('none', 'after-eol') + NOT_ACCEPTED   # no accepted kind before EOL


def expected(name, case):
    """(getsockopt result, counter) with the default formats."""
    if case.client and name not in NOT_ACCEPTED:
        return case.client, 'with_option'
    return 'ENOENT', 'without_option' if name in NO_OPTION else 'malformed'


with open(os.path.join(k.ROOT, 'kmod', 'VERSION')) as f:
    VERSION = f.read().strip()

with k.Module(), k.lbsim.LB(seed=20) as lb:
    @t.test('/proc/net/kgwttm: one "name value" line each, version from kmod/VERSION, nothing live')
    def _():
        s = k.stats()
        assert list(s) == ['version', 'with_option', 'without_option', 'malformed',
                           'untrusted', 'nomem', 'missed', 'live', 'entry_bytes'], s
        assert s['version'] == VERSION, s
        assert s['live'] == 0 and s['entry_bytes'] > 0, s

    for family, rs in (('IPv4', lb.RS4), ('IPv6', lb.RS6)):
        server = k.listen(rs, 2000)
        for name, case in cases.items():
            want, counter = expected(name, case)

            if k.lbsim.rs_kernel_drops(case.option, case.raw):
                @t.test('%s LB->RS, option %s: this kernel drops the ACK (6.7+): no connection, '
                        'nothing counted' % (family, name))
                def _():
                    before = k.stats()
                    c = lb.connect((rs, 2000), option=case.option, raw=case.raw)
                    timeout = server.gettimeout()
                    server.settimeout(3)
                    try:
                        conn, _addr = server.accept()
                    except socket.timeout:
                        conn = None
                    finally:
                        server.settimeout(timeout)
                        c.reset()
                    if conn is not None:
                        conn.close()
                    assert conn is None, 'the kernel accepted it'
                    d = k.delta(before, k.stats())
                    assert not any(d[n] for n in ('with_option', 'without_option', 'malformed',
                                                  'untrusted', 'nomem')), d
                continue

            @t.test('%s LB->RS, option %s: getsockopt gives %s, counted as %s'
                    % (family, name, want, counter))
            def _():
                before = k.stats()
                c, conn, _addr = k.handshake(lb, server, (rs, 2000), case.option, raw=case.raw)
                got = k.peer(conn)
                k.close(c, conn)
                d = k.delta(before, k.stats())
                assert got == want, (got, want)
                assert d[counter] == 1, d
                assert sum(d[n] for n in ('with_option', 'without_option', 'malformed',
                                          'untrusted', 'nomem')) == 1, d
        server.close()

    server = k.listen(lb.RS4, 2001)
    c, conn, _ = k.handshake(lb, server, (lb.RS4, 2001), cases['toa4'].option)
    t.equal(k.peer(conn, buflen=19), 'EINVAL', 'a 19-byte buffer: EINVAL')
    t.equal(k.peer(conn, buflen=0), 'EINVAL', 'a 0-byte buffer: EINVAL')

    @t.test('a 64-byte buffer: 20 bytes come back')
    def _():
        raw = conn.getsockopt(socket.SOL_IP, k.TTM_SO_GET_PEER, 64)
        assert len(raw) == 20, raw

    t.equal(k.peer(server), 'ENOENT', 'the listening socket: ENOENT')
    out = socket.create_connection((lb.RS4, 2001), timeout=10)
    inner, _ = server.accept()
    t.equal(k.peer(out), 'ENOENT', 'an outgoing connection (no LB in between): ENOENT')
    t.equal(k.peer(inner), 'ENOENT', 'a local client accepted without option: ENOENT')
    for s in (out, inner):
        s.close()
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    t.equal(k.peer(udp), 'ENOENT', 'a UDP socket: ENOENT')
    udp.close()
    k.close(c, conn)
    server.close()

with k.Module(formats='200:8,253:20'), k.lbsim.LB(seed=21) as lb:
    for name, rs, want in (('k200', lb.RS4, k.CLIENT4), ('k253', lb.RS6, k.CLIENT6),
                           ('toa4', lb.RS4, 'ENOENT'), ('toa6', lb.RS6, 'ENOENT')):
        server = k.listen(rs, 2002)
        c, conn, _ = k.handshake(lb, server, (rs, 2002), cases[name].option)
        t.equal(k.peer(conn), want, 'formats=200:8,253:20: option %s gives %s' % (name, want))
        k.close(c, conn)
        server.close()

with k.Module(formats='254:20'), k.lbsim.LB(seed=22) as lb:
    @t.test('formats=254:20: a 254/8 option is an accepted kind with a wrong length: malformed')
    def _():
        server = k.listen(lb.RS4, 2003)
        before = k.stats()
        c, conn, _ = k.handshake(lb, server, (lb.RS4, 2003), cases['toa4'].option)
        got = k.peer(conn)
        k.close(c, conn)
        server.close()
        assert got == 'ENOENT', got
        assert k.delta(before, k.stats())['malformed'] == 1

for bad in ('254:9', '254:8,', 'toa'):
    @t.test('formats=%s: the load fails and says which formats exist' % bad)
    def _():
        log = k.refused_load(formats=bad)
        assert 'formats=%s' % bad in log and '254:8,254:20' in log, log

with k.lbsim.LB(seed=23) as lb:
    server = k.listen(lb.RS4, 2004)
    c, conn, _ = k.handshake(lb, server, (lb.RS4, 2004), cases['toa4'].option)
    t.equal(k.peer(conn), 'ENOPROTOOPT', 'no module: ENOPROTOOPT')
    k.close(c, conn)
    server.close()

sys.exit(t.end())
