#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""kgwttm: the getsockopt number, and what happens when it is taken.

optname= moves the option (1345 then answers ENOPROTOOPT). A number another
module holds makes the load fail with a message that says so and names
Alibaba's vtoa (1344-1347) and the optname= parameter: shown with the test
bed's module holding 1344-1347 as vtoa does. Numbers the kernel's own
modules register (iptables, conntrack, arptables, ebtables, IPVS, multicast
routing) are refused whether or not they are loaded, so a kgwttm loaded
first at boot never takes the firewall's numbers; numbers the IP layer keeps
for itself are refused.
"""
import os
import socket
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '../lib'))
import kmodtest as k  # noqa: E402

t = k.suite()
lbsim = k.lbsim
C4 = k.CLIENT4

with k.Module(optname=1346), lbsim.LB(seed=60) as lb:
    server = k.listen(lb.RS4, 2400)
    c, conn, _ = k.handshake(lb, server, (lb.RS4, 2400), lbsim.toa_v4(*C4))
    t.equal(k.peer(conn, optname=1346), C4, 'optname=1346: getsockopt(SOL_IP, 1346) gives the client')
    t.equal(k.peer(conn, optname=1345), 'ENOPROTOOPT', 'optname=1346: 1345 is ENOPROTOOPT')
    t.equal(k.param('optname'), '1346', '/sys/module/kgwttm/parameters/optname (kgwttm-bpf params) is 1346')
    k.close(c, conn)
    server.close()

TESTBED_KO = k.TESTBED_KO
# The test bed's module holds 1344-1347 through nf_register_sockopt, as
# Alibaba's vtoa does.
held = subprocess.run(['insmod', TESTBED_KO, 'hold_optmin=1344', 'hold_optmax=1347'],
                      capture_output=True, text=True)
if t.ok(held.returncode == 0, 'a vtoa stand-in holds getsockopt 1344-1347', held.stderr):
    @t.test('optname=1345 while 1344-1347 are held: the load fails, naming vtoa and optname=')
    def _():
        msg = k.refused_load()
        assert 'getsockopt(SOL_IP, 1345) is already registered by another module' in msg, msg
        assert "vtoa holds 1344-1347" in msg and 'optname=' in msg, msg

    @t.test('after the failed load, /proc/net/kgwttm is gone (nothing attached) and 1345 answers what the holder says')
    def _():
        assert not os.path.exists('/proc/net/kgwttm') and not k.loaded()
        s = socket.socket()
        assert k.peer(s) == 'ENOENT', k.peer(s)
        s.close()

    @t.test('optname=1348 beside the holder: loads and answers')
    def _():
        with k.Module(optname=1348):
            s = socket.socket()
            got = k.peer(s, optname=1348)
            s.close()
        assert got == 'ENOENT', got
    subprocess.run(['rmmod', 'kgwttm_testbed'], check=True)

for bad, owner in ((64, 'iptables'), (67, 'iptables'), (80, 'conntrack (SO_ORIGINAL_DST)'), (96, 'arptables'),
                   (99, 'arptables'), (128, 'ebtables'), (131, 'ebtables'), (1152, 'IPVS'),
                   (1167, 'IPVS'), (200, 'multicast routing')):
    @t.test('optname=%d: refused, it belongs to %s' % (bad, owner))
    def _():
        log = k.refused_load(optname=bad)
        assert 'optname=%d belongs to %s' % (bad, owner) in log, log

for fine in (68, 1151, 1168):
    @t.test('optname=%d, next to a kernel range: loads' % fine)
    def _():
        with k.Module(optname=fine):
            pass

had_iptables = os.path.exists('/sys/module/ip_tables')
with k.Module():
    @t.test('with kgwttm loaded first (as at boot), ip_tables still loads')
    def _():
        r = subprocess.run(['modprobe', 'ip_tables'], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
if not had_iptables:
    subprocess.run(['rmmod', 'ip_tables'])

for bad in (5, 0, -1, 63):
    @t.test('optname=%d: refused (the IP layer answers that number itself)' % bad)
    def _():
        log = k.refused_load(optname=bad)
        assert 'optname=%d: must be at least 64' % bad in log, log

sys.exit(t.end())
