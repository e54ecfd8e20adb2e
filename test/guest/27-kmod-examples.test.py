#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""kgwttm: the example servers print the right client.

examples/c/build/server (C, with kmod/uapi/kgwttm.h) and
examples/python/server.py (struct.Struct('!bbH4s12s')) each take one
connection per scenario from the simulated LB and print what accept() and
getsockopt(SOL_IP, 1345) said: 4to4 the client in both, 6to4 the LB from
accept() and the IPv6 client from getsockopt, 6to6 the client in both, and
"getsockopt failed" without the module.
"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '../lib'))
import kmodtest as k  # noqa: E402

t = k.suite()
lbsim = k.lbsim
C4, C6 = k.CLIENT4, k.CLIENT6
C_SERVER = os.path.join(k.ROOT, 'examples', 'c', 'build', 'server')
PY_SERVER = os.path.join(k.ROOT, 'examples', 'python', 'server.py')


def run(server, lb, listen_addr, dst, option):
    """Start the example for one connection; returns its output lines and the
    LB connection's (src, sport)."""
    p = subprocess.Popen(server + ['-n' if server[0] == C_SERVER else '--count', '1',
                                   listen_addr, str(dst[1])],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        first = p.stdout.readline()
        assert first.startswith('listening'), first
        c = lb.connect(dst, option=option)
        out, _ = p.communicate(timeout=20)
        c.reset()
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    return out.splitlines(), (c.src, c.sport)


def c_lines(accepted, sockopt):
    fmt = '[%s]:%d' if ':' in accepted[0] else '%s:%d'
    return ['Server get connection from ' + fmt % accepted,
            'getsockopt success(addr:%s port:%d)' % sockopt]


def py_lines(accepted, sockopt, v6):
    addr = (accepted + (0, 0)) if v6 else accepted
    want = ['get client info: %r' % (addr,), 'getpeername: %r' % (addr,)]
    if sockopt == 'ENOPROTOOPT':
        return want + ['getsockopt failed: Protocol not available']
    return want + ['port: %d' % sockopt[1],
                   '%s: %s' % ('ipv6' if ':' in sockopt[0] else 'ipv4', sockopt[0])]


if not t.ok(os.access(C_SERVER, os.X_OK), 'examples/c/build/server is built (test/build.sh)'):
    sys.exit(t.end())

with lbsim.LB(seed=80) as lb:
    with k.Module():
        for desc, listen_addr, dst, option, client in (
                ('4to4', '0.0.0.0', (lb.RS4, 2600), lbsim.toa_v4(*C4), C4),
                ('6to4', '0.0.0.0', (lb.RS4, 2601), lbsim.toa_v6(*C6), C6),
                ('6to6', '::', (lb.RS6, 2602), lbsim.toa_v6(*C6), C6)):
            @t.test('C example, %s: prints accept() and getsockopt as documented' % desc)
            def _():
                lines, lip = run([C_SERVER], lb, listen_addr, dst, option)
                accepted = lip if desc == '6to4' else client
                assert lines == c_lines(accepted, client), lines

            @t.test('Python example, %s: prints accept(), getpeername and getsockopt as documented'
                    % desc)
            def _():
                lines, lip = run(['python3', PY_SERVER], lb, listen_addr, dst, option)
                accepted = lip if desc == '6to4' else client
                assert lines == py_lines(accepted, client, ':' in listen_addr), lines

    @t.test('C example without the module: "getsockopt failed"')
    def _():
        lines, lip = run([C_SERVER], lb, '0.0.0.0', (lb.RS4, 2603), lbsim.toa_v4(*C4))
        assert lines == ['Server get connection from %s:%d' % lip,
                             'getsockopt failed: Protocol not available'], lines

    @t.test('Python example without the module: "getsockopt failed"')
    def _():
        lines, lip = run(['python3', PY_SERVER], lb, '0.0.0.0', (lb.RS4, 2604), lbsim.toa_v4(*C4))
        assert lines == py_lines(lip, 'ENOPROTOOPT', False), lines

sys.exit(t.end())
