#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""kgwttm: only load balancers in trusted_nets speak for a client.

A client that reaches the RS directly (the simulator's untrusted sources
198.51.100.2 and 2001:db8:200::2) and writes a TOA option of its own is not
believed: getsockopt says ENOENT, getpeername shows the real source, and the
connection is counted as untrusted. By default nobody is trusted, not even
the LB. trusted_nets= moves the trust, "any" (and
any /0) trusts everyone with a warning in the kernel log, and a list that is
not CIDRs stops the load with a message naming the bad entry.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '../lib'))
import kmodtest as k  # noqa: E402

t = k.suite()
lbsim = k.lbsim
C4, C6 = k.CLIENT4, k.CLIENT6
FORGED4 = lbsim.toa_v4(*C4)
FORGED6 = lbsim.toa_v6(*C6)


def attempt(lb, listen_addr, dst, src, option):
    """(getsockopt, getpeername, counter deltas) of one connection from src."""
    server = k.listen(listen_addr, dst[1])
    before = k.stats()
    try:
        c, conn, _ = k.handshake(lb, server, dst, option, src=src)
        got = (k.peer(conn), conn.getpeername()[:2])
        k.close(c, conn)
    finally:
        server.close()
    return got + (k.delta(before, k.stats()),)


with k.Module(trusted_nets=None), lbsim.LB(seed=39) as lb:
    @t.test('default trusted_nets (nothing): even the LB\'s own option is not believed, and is counted')
    def _():
        for dst, option in (((lb.RS4, 2208), FORGED4), ((lb.RS6, 2209), FORGED6)):
            sockopt, peername, d = attempt(lb, dst[0], dst, None, option)
            assert sockopt == 'ENOENT', sockopt
            assert d['untrusted'] == 1 and d['with_option'] == 0, d

log = k.Kmsg()
with k.Module(), lbsim.LB(seed=40) as lb:
    @t.test('the test bed\'s trusted_nets (test/lbsim/trusted_nets) loads without a warning')
    def _():
        assert k.param('trusted_nets') == k.TESTBED_TRUSTED_NETS
        assert 'trusts every source' not in log.new(), log.new()
        assert 'trusted_nets is empty' not in log.new(), log.new()

    for desc, listen_addr, dst, src, option in (
            ('IPv4', lb.RS4, (lb.RS4, 2200), lb.UNTRUSTED4, FORGED4),
            ('IPv4 to a dual-stack listener', '::', (lb.RS4, 2201), lb.UNTRUSTED4, FORGED4),
            ('IPv6', lb.RS6, (lb.RS6, 2202), lb.UNTRUSTED6, FORGED6)):
        @t.test('%s: a direct client forging its address is not believed, and is counted' % desc)
        def _():
            sockopt, peername, d = attempt(lb, listen_addr, dst, (src, 4321), option)
            assert sockopt == 'ENOENT', sockopt
            assert peername[1] == 4321 and peername[0].endswith(src), peername
            assert d['untrusted'] == 1 and d['with_option'] == 0, d

for nets, src4, src6 in (('198.51.100.0/24,2001:db8:200::/64', lbsim.UNTRUSTED4, lbsim.UNTRUSTED6),
                         ('198.51.100.2,2001:db8:200::2', lbsim.UNTRUSTED4, lbsim.UNTRUSTED6)):
    with k.Module(trusted_nets=nets), lbsim.LB(seed=41) as lb:
        @t.test('trusted_nets=%s: those sources are believed' % nets)
        def _():
            assert attempt(lb, lb.RS4, (lb.RS4, 2203), (src4, 4322), FORGED4)[0] == C4
            assert attempt(lb, lb.RS6, (lb.RS6, 2204), (src6, 4323), FORGED6)[0] == C6

        @t.test('trusted_nets=%s: the default LB addresses are not' % nets)
        def _():
            got4 = attempt(lb, lb.RS4, (lb.RS4, 2205), None, FORGED4)
            got6 = attempt(lb, lb.RS6, (lb.RS6, 2206), None, FORGED6)
            assert got4[0] == got6[0] == 'ENOENT', (got4, got6)
            assert got4[2]['untrusted'] == got6[2]['untrusted'] == 1

for nets in ('any', '0.0.0.0/0,::/0', '0.0.0.0/0'):
    @t.test('trusted_nets=%s: loads with a warning that anyone can forge an address' % nets)
    def _():
        log = k.Kmsg()
        with k.Module(trusted_nets=nets), lbsim.LB(seed=42) as lb:
            got = attempt(lb, lb.RS4, (lb.RS4, 2207), (lb.UNTRUSTED4, 4324), FORGED4)
        assert got[0] == C4, got
        assert 'trusts every source address' in log.new(), log.new()

for bad, named in (('10.0.0.0/33', '10.0.0.0/33'), ('10.1.0.0/8', '10.1.0.0/8'),
                   ('fd00::/129', 'fd00::/129'), ('10.0.0.0/8,lb.example', 'lb.example'),
                   ('10.0.0.0/8;', '10.0.0.0/8;'), ('1.2.3/24', '1.2.3/24'),
                   ('10.0.0.0/-1', '10.0.0.0/-1')):
    @t.test('trusted_nets=%s: the load fails and names "%s"' % (bad, named))
    def _():
        log = k.refused_load(trusted_nets=bad)
        assert '"%s" is not an IPv4 or IPv6 CIDR' % named in log, log

sys.exit(t.end())
