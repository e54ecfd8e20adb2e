#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Proof of the test bed before any module (issue 2, item 4).

Plain Python servers on lbsim0's RS addresses, with the kgwttm module NOT
loaded, take connections from the packet-exact LB simulator: they see the
LB's lip as their peer, getsockopt(SOL_IP, 1345) fails with ENOPROTOOPT,
and a packet socket on lbsim0 (independent of the simulator's own view) shows
the handshake ACK's option bytes exactly as sent, for every wire format and
every malformed case; data, FIN and RST closes, concurrent connections and
SYN cookies work. Runs in the VM as root; prints TAP.
"""
import contextlib
import errno
import io
import json
import os
import socket
import subprocess
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
LBSIM = os.path.join(HERE, '..', 'lbsim', 'lbsim.py')
sys.path[:0] = [os.path.join(HERE, '..', 'lbsim'), os.path.join(HERE, '..', 'lib')]
import lbsim  # noqa: E402
from tap import TAP  # noqa: E402
from ttm_abi import TTM_SO_GET_PEER  # noqa: E402

t = TAP()
subprocess.run(['rmmod', 'kgwttm'], stdout=subprocess.DEVNULL,
               stderr=subprocess.DEVNULL)
if not t.ok(not os.path.exists('/sys/module/kgwttm'), 'kgwttm is not loaded'):
    t.bail_out('kgwttm could not be unloaded')


def accept(server):
    conn, peer = server.accept()
    conn.settimeout(5)
    return conn, peer[:2]


def getsockopt_errno(sock):
    try:
        sock.getsockopt(socket.SOL_IP, TTM_SO_GET_PEER, 20)
    except OSError as e:
        return errno.errorcode.get(e.errno, e.errno)
    return 'no error'


with lbsim.LB(seed=10) as lb, lbsim.Capture() as cap:
    srv4 = lbsim.listen(lb.RS4, 8001, timeout=5)
    srv6 = lbsim.listen(lb.RS6, 8002, timeout=5)
    srvds = lbsim.listen('::', 8003, v6only=0, timeout=5)
    # (name, listener, destination, peer the server must see)
    ROUTES = [
        ('IPv4', srv4, (lb.RS4, 8001), lb.LIP4),
        ('IPv6', srv6, (lb.RS6, 8002), lb.LIP6),
        ('IPv4 to a dual-stack listener', srvds, (lb.RS4, 8003), '::ffff:' + lb.LIP4),
        ('IPv6 to a dual-stack listener', srvds, (lb.RS6, 8003), lb.LIP6),
    ]

    def on_wire(conn, option, raw=False):
        p = cap.handshake_ack(conn)
        want = lbsim.pad_options(option, raw)
        assert p.options == want, 'captured %s, sent %s' % (p.options.hex(), want.hex())
        assert p.csum_ok, p

    for name, server, dst, lip in ROUTES:
        @t.test('%s: peer is the lip, no getsockopt, data both ways, FIN close' % name)
        def _():
            option = lbsim.toa_v4(*lbsim.CLIENT4) if dst[0] == lb.RS4 \
                else lbsim.toa_v6(*lbsim.CLIENT6)
            c = lb.connect(dst, option=option)
            a, peer = accept(server)
            assert peer == (lip, c.sport), (peer, lip, c.sport)
            assert a.getpeername()[:2] == peer
            err = getsockopt_errno(a)
            assert err == 'ENOPROTOOPT', err
            on_wire(c, option)
            c.send(b'ping' * 1000)  # several segments
            got = b''
            while len(got) < 4000:
                got += a.recv(65536)
            assert got == b'ping' * 1000
            a.sendall(b'pong' * 3000)
            assert c.recv_until(12000) == b'pong' * 3000
            c_close = threading.Thread(target=c.close)
            c_close.start()
            assert a.recv(10) == b'', 'no EOF at the server'
            a.close()
            c_close.join()
            assert c.state == 'CLOSED' and c.server_fin

    for case_name, case in lbsim.option_cases().items():
        for name, server, dst, lip in (ROUTES[0], ROUTES[1]):
            drops = lbsim.rs_kernel_drops(case.option, case.raw)

            @t.test('wire: %s over %s: ACK option bytes as sent (%s)%s' % (
                case_name, name, lbsim.pad_options(case.option, case.raw).hex() or 'none',
                ', and this kernel drops that ACK (6.7+)' if drops else ''))
            def _():
                c = lb.connect(dst, option=case.option, raw=case.raw)
                if drops:
                    on_wire(c, case.option, case.raw)
                    timeout = server.gettimeout()
                    server.settimeout(3)
                    try:
                        a, _peer = accept(server)
                    except socket.timeout:
                        return
                    finally:
                        server.settimeout(timeout)
                        c.reset()
                    a.close()
                    raise AssertionError('the RS accepted a connection whose ACK it should drop')
                try:
                    a, peer = accept(server)
                except socket.timeout:
                    raise AssertionError('no connection: the RS drops this ACK '
                                         '(%d SYN-ACK retransmits)'
                                         % c.synack_retransmits) from None
                assert peer == (lip, c.sport), peer
                # the child came from this ACK, not a later one: the TCP
                # handshake code (and so a kretprobe on syn_recv_sock) saw it
                assert c.synack_retransmits == 0, 'the RS dropped the first ACK'
                on_wire(c, case.option, case.raw)
                c.reset()
                a.close()

    for name, server, dst, lip in (ROUTES[0], ROUTES[1]):
        @t.test('%s from an untrusted source: the server sees that source' % name)
        def _():
            src = lb.UNTRUSTED4 if dst[0] == lb.RS4 else lb.UNTRUSTED6
            c = lb.connect(dst, option=lbsim.toa_v4(*lbsim.CLIENT4), src=(src, 4321))
            a, peer = accept(server)
            assert peer == (src, 4321), peer
            c.reset()
            a.close()

        @t.test('%s: RST close gives the server ECONNRESET' % name)
        def _():
            c = lb.connect(dst, option=lbsim.ttm_peer(2, *lbsim.CLIENT4))
            a, _ = accept(server)
            c.send(b'x')
            assert a.recv(1) == b'x'
            c.reset()
            try:
                a.recv(10)
            except ConnectionResetError:
                pass
            else:
                raise AssertionError('no ECONNRESET')
            a.close()

        @t.test('%s: the server closes first; reply and FIN reach the LB' % name)
        def _():
            c = lb.connect(dst)
            a, _ = accept(server)
            a.sendall(b'HTTP/1.1 200 OK\r\n\r\nbye')
            a.shutdown(socket.SHUT_WR)
            assert c.recv_until(None) == b'HTTP/1.1 200 OK\r\n\r\nbye'
            c.close()
            assert a.recv(10) == b''
            a.close()

        @t.test('%s: 8 connections open at once, then accepted' % name)
        def _():
            options = [lbsim.toa_v4('192.0.2.%d' % i, i) for i in range(1, 9)]
            conns = [lb.connect(dst, option=o) for o in options]
            accepted = dict(accept(server)[::-1] for _ in conns)
            for c, option in zip(conns, options):
                on_wire(c, option)
                accepted[(c.src, c.sport)].sendall(b'%d' % c.sport)
            for c in conns:
                assert c.recv_until(5) == b'%d' % c.sport
                c.reset()
            for a in accepted.values():
                a.close()

        @t.test('%s: tcp_syncookies=2: a cookie handshake carries the option' % name)
        def _():
            with lbsim.Sysctl('net/ipv4/tcp_syncookies', 2):
                sent, recv = lbsim.netstat('SyncookiesSent', 'SyncookiesRecv')
                option = lbsim.ttm_peer(10, *lbsim.CLIENT6, af_byteorder='big')
                c = lb.connect(dst, option=option)
                a, peer = accept(server)
                assert peer == (lip, c.sport), peer
                now = lbsim.netstat('SyncookiesSent', 'SyncookiesRecv')
                assert now[0] > sent and now[1] > recv, ((sent, recv), now)
                on_wire(c, option)
                c.send(b'ok')
                assert a.recv(2) == b'ok'
                c.reset()
                a.close()

        @t.test('%s: a SYN flood fills the queue; the next handshake is a cookie '
                'one and carries the option' % name)
        def _():
            with lbsim.Sysctl('net/ipv4/tcp_syncookies', 1):
                family = socket.AF_INET if dst[0] == lb.RS4 else socket.AF_INET6
                small = lbsim.listen(dst[0], dst[1] + 100, family=family, backlog=4, timeout=5)
                try:
                    sent, recv = lbsim.netstat('SyncookiesSent', 'SyncookiesRecv')
                    synacks = lb.syn_flood((dst[0], dst[1] + 100), 16)
                    assert synacks == 16, synacks
                    flood_sent = lbsim.netstat('SyncookiesSent')[0] - sent
                    assert flood_sent > 0, 'no cookies during the flood'
                    option = lbsim.toa_v6(*lbsim.CLIENT6)
                    c = lb.connect((dst[0], dst[1] + 100), option=option)
                    assert lbsim.netstat('SyncookiesRecv')[0] > recv, 'handshake without a cookie'
                    a, peer = accept(small)
                    assert peer == (lip, c.sport), peer
                    on_wire(c, option)
                    c.reset()
                    a.close()
                finally:
                    small.close()

    for s in (srv4, srv6, srvds):
        s.close()

t.ok(not os.path.exists('/sys/class/net/lbsim0'), 'teardown: lbsim0 is gone')


def http_once(server, reply):
    """Accept one connection, read one request head, reply and close."""
    server.settimeout(60)  # the CLI's own start-up is slow under TCG
    a, _ = accept(server)
    data = b''
    while b'\r\n\r\n' not in data:
        chunk = a.recv(4096)
        if not chunk:
            break
        data += chunk
    a.sendall(reply)
    a.close()


def cli(*args):
    res = subprocess.run([sys.executable, LBSIM] + list(args), capture_output=True,
                         text=True, timeout=30)
    assert res.returncode == 0, (res.returncode, res.stdout, res.stderr)
    return json.loads(res.stdout)


@t.test('CLI: request sets up lbsim0 itself, sends, reads until the FIN, '
        'reports the wire option, tears down')
def _():
    server = lbsim.listen('::', 8004, v6only=0, timeout=5)
    th = threading.Thread(target=http_once, args=(server, b'HTTP/1.1 200 OK\r\n\r\nhi'))
    th.start()
    out = cli('request', '--dst', '10.200.0.1:8004', '--format', 'ttm4be',
              '--client', '203.0.113.9:1234', '--send', r'GET / HTTP/1.1\r\n\r\n',
              '--expect-close', '--capture')
    th.join()
    server.close()
    want = lbsim.ttm_peer(2, '203.0.113.9', 1234, 'big').hex() + '0000'
    assert out['option'] == out['wire_option'] == want, out
    assert out['reply'] == 'HTTP/1.1 200 OK\r\n\r\nhi' and out['closed_by_server'], out
    assert not os.path.exists('/sys/class/net/lbsim0')


@t.test('CLI up, LB() and request attached to the persistent lbsim0, down')
def _():
    # in-process: the same code as the command line, without a second
    # interpreter start (seconds under TCG)
    assert lbsim.main(['up']) == 0
    try:
        assert os.path.exists('/sys/class/net/lbsim0')
        server = lbsim.listen(lbsim.RS6, 8005, timeout=5)
        with lbsim.LB(seed=99) as lb:
            assert not lb.created
            c = lb.connect((lb.RS6, 8005), option=lbsim.toa_v6(*lbsim.CLIENT6))
            a, peer = accept(server)
            assert peer == (lb.LIP6, c.sport), peer
            c.reset()
            a.close()
        assert os.path.exists('/sys/class/net/lbsim0'), 'LB() removed a TUN it did not make'
        th = threading.Thread(target=http_once, args=(server, b'ok'))
        th.start()
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            rc = lbsim.main(['request', '--dst', '[fd00:200::1]:8005', '--format',
                             'past-end', '--send', r'Q\r\n\r\n', '--capture'])
        th.join()
        server.close()
        out = json.loads(out.getvalue())
        assert rc == 0 and out['reply'] == 'ok', out
        assert out['wire_option'] == out['option'] == \
            lbsim.option_cases()['past-end'].option.hex(), out
    finally:
        lbsim.main(['down'])
    assert not os.path.exists('/sys/class/net/lbsim0')

sys.exit(t.end())
