#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""kgwttm: entries live exactly as long as their connections, and the module
can be unloaded and reloaded under traffic.

- live counts open connections with a client and returns to 0 once they are
  closed, by FIN from either side or by RST;
- rmmod with connections open succeeds; those connections keep exchanging
  data, then answer ENOPROTOOPT and show the LB from getpeername; after
  insmod they answer ENOENT (their client was not kept) while new ones get
  theirs; live is 0 once all are closed;
- rmmod/insmod five times while a thread keeps opening, using and closing
  connections: every connection completes, nothing missed, live back to 0,
  and the kernel log has no BUG, WARNING or Oops (test/vm/run checks it too).
"""
import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '../lib'))
import kmodtest as k  # noqa: E402

t = k.suite()
lbsim = k.lbsim
C4, C6 = k.CLIENT4, k.CLIENT6


def live_becomes(n, timeout=10):
    end = time.time() + timeout
    while k.stats()['live'] != n and time.time() < end:
        time.sleep(0.1)
    return k.stats()['live']


def open_mix(lb, servers, base):
    """Two connections per route (IPv4, IPv4 to dual-stack, IPv6), each with
    its own client: [(lb_conn, conn, client, route)]."""
    out = []
    for i, (route, server, dst, v6) in enumerate(servers):
        for j in range(2):
            client = ('2001:db8:1::%x' % (base + 2 * i + j), 3000 + j) if v6 else \
                ('192.0.2.%d' % (base + 2 * i + j), 3000 + j)
            opt = lbsim.toa_v6(*client) if v6 else lbsim.toa_v4(*client)
            c, conn, _ = k.handshake(lb, server, dst, opt)
            out.append((c, conn, client, route))
    return out


def echo(c, conn):
    c.send(b'ping')
    assert conn.recv(4) == b'ping'
    conn.sendall(b'pong')
    assert c.recv_until(4) == b'pong'


log = k.Kmsg()
with lbsim.LB(seed=70) as lb:
    servers = [('IPv4', k.listen(lb.RS4, 2500), (lb.RS4, 2500), False),
               ('IPv4 to dual-stack', k.listen('::', 2501), (lb.RS4, 2501), False),
               ('IPv6', k.listen(lb.RS6, 2502), (lb.RS6, 2502), True)]
    k.rmmod()
    k.insmod()

    conns = open_mix(lb, servers, 10)
    t.equal(k.stats()['live'], len(conns), 'live counts the %d open connections' % len(conns))
    for i, (c, conn, client, route) in enumerate(conns):
        if i % 3 == 0:      # the LB closes first
            closer = threading.Thread(target=c.close)
            closer.start()
            assert conn.recv(1) == b''
            conn.close()
            closer.join()
        elif i % 3 == 1:    # the server closes first
            conn.close()
            c.close()
        else:
            k.close(c, conn)
    t.equal(live_becomes(0), 0, 'live is back to 0 after FIN (either side first) and RST closes')

    conns = open_mix(lb, servers, 30)
    for c, conn, client, route in conns:
        echo(c, conn)

    @t.test('rmmod with %d connections open succeeds' % len(conns))
    def _():
        k.rmmod()
        assert not k.loaded()

    @t.test('after rmmod those connections still carry data both ways')
    def _():
        for c, conn, client, route in conns:
            echo(c, conn)

    @t.test('after rmmod: getsockopt ENOPROTOOPT, getpeername the LB')
    def _():
        for c, conn, client, route in conns:
            assert k.peer(conn) == 'ENOPROTOOPT', (route, k.peer(conn))
            assert conn.getpeername()[:2] in ((c.src, c.sport), (k.mapped(c.src), c.sport)), \
                (route, conn.getpeername())

    k.insmod()

    @t.test('after insmod: the old connections answer ENOENT, a new one gets its client')
    def _():
        for c, conn, client, route in conns:
            assert k.peer(conn) == 'ENOENT', (route, k.peer(conn))
            echo(c, conn)
        new = open_mix(lb, servers[:1], 60)
        for c, conn, client, route in new:
            assert k.peer(conn) == client, (k.peer(conn), client)
            k.close(c, conn)

    for c, conn, client, route in conns:
        k.close(c, conn)
    t.equal(live_becomes(0), 0, 'live is 0 once they are all closed')

    # Churn: a thread keeps connections coming while the module comes and goes.
    done = threading.Event()
    result = {'connections': 0, 'errors': []}

    def churn():
        i = 0
        while not done.is_set():
            route, server, dst, v6 = servers[i % 3]
            client = ('2001:db8:2::%x' % (i + 1), 5000) if v6 else ('192.0.2.%d' % (i % 250 + 1), 5000)
            try:
                c, conn, _ = k.handshake(lb, server, dst,
                                         lbsim.toa_v6(*client) if v6 else lbsim.toa_v4(*client))
                echo(c, conn)
                got = k.peer(conn)
                if got not in (client, 'ENOENT', 'ENOPROTOOPT'):
                    result['errors'].append('%s: getsockopt %r, client %r' % (route, got, client))
                k.close(c, conn)
                result['connections'] += 1
            except Exception as e:  # reported below as the point's diagnostics
                result['errors'].append('%s: %r' % (route, e))
                return
            i += 1

    worker = threading.Thread(target=churn)
    worker.start()
    for _ in range(5):
        time.sleep(0.5)
        k.rmmod()
        time.sleep(0.2)
        k.insmod()
    time.sleep(0.5)
    done.set()
    worker.join()
    t.ok(not result['errors'] and result['connections'] > 0,
         'rmmod/insmod 5 times under traffic: %d connections, each completed, none with a '
         'wrong client' % result['connections'], '\n'.join(result['errors']))
    t.equal(live_becomes(0), 0, 'live is back to 0 after the churn')
    t.equal(k.stats()['missed'], 0, 'no kretprobe or kprobe misses')
    for _route, server, _dst, _v6 in servers:
        server.close()
    k.rmmod()

bad = [line for line in log.new().splitlines()
       if any(w in line for w in ('BUG', 'WARNING', 'Oops', 'general protection', 'slub'))]
t.ok(not bad, 'kernel log: no BUG, WARNING, Oops or slab reports', '\n'.join(bad))
sys.exit(t.end())
