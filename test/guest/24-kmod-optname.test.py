#!/usr/bin/python3
"""kgwttm: the getsockopt number, and what happens when it is taken.

optname= moves the option (1345 then answers ENOPROTOOPT). A number another
module holds makes the load fail with a message that says so and names
Alibaba's vtoa (1344-1347) and the optname= parameter: shown with ip_tables,
which holds getsockopt 64-68 through the same nf_register_sockopt that vtoa
uses. Numbers the IP layer keeps for itself are refused.
"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '../../kmod/tests'))
import kmodtest as k  # noqa: E402

t = k.suite()
lbsim = k.lbsim
C4 = k.CLIENT4

with k.Module(optname=1346), lbsim.LB(seed=60) as lb:
    server = k.listen(lb.RS4, 2400)
    c, conn, _ = k.handshake(lb, server, (lb.RS4, 2400), lbsim.toa_v4(*C4))
    t.equal(k.peer(conn, optname=1346), C4, 'optname=1346: getsockopt(SOL_IP, 1346) gives the client')
    t.equal(k.peer(conn, optname=1345), 'ENOPROTOOPT', 'optname=1346: 1345 is ENOPROTOOPT')
    with open('/sys/module/kgwttm/parameters/optname') as f:
        t.equal(f.read().strip(), '1346', '/sys/module/kgwttm/parameters/optname is 1346')
    k.close(c, conn)
    server.close()

had_iptables = os.path.exists('/sys/module/ip_tables')
modprobe = subprocess.run(['modprobe', 'ip_tables'], capture_output=True, text=True)
if t.ok(modprobe.returncode == 0, 'ip_tables loads (it holds getsockopt 64-68)', modprobe.stderr):
    @t.test('optname=64, taken by ip_tables: the load fails, naming vtoa and optname=')
    def _():
        msg = k.refused_load(optname=64)
        assert 'getsockopt(SOL_IP, 64) is already registered by another module' in msg, msg
        assert "vtoa holds 1344-1347" in msg and 'optname=' in msg, msg

    @t.test('after the failed load, /proc/net/kgwttm is gone and 1345 answers ENOPROTOOPT')
    def _():
        import socket
        assert not os.path.exists('/proc/net/kgwttm')
        s = socket.socket()
        assert k.peer(s) == 'ENOPROTOOPT', k.peer(s)
        s.close()
    if not had_iptables:
        subprocess.run(['rmmod', 'ip_tables'])

for bad in (5, 0, -1, 200):
    @t.test('optname=%d: refused (the IP layer answers that number itself)' % bad)
    def _():
        log = k.refused_load(optname=bad)
        assert 'optname=%d: must be at least 64' % bad in log, log

sys.exit(t.end())
