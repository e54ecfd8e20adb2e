#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""nginx sees the real client: Debian's nginx with the kgwttm dynamic modules
(nginx/, built by test/build.sh), through the packet-exact LB simulator.

With `kgwttm_real_ip on`, $remote_addr and $remote_port are the client in
every family (4to4, 6to4, 6to6, 4to6) on IPv4, IPv6 and dual-stack
listeners, and so are allow/deny, geo, limit_conn and limit_req
($binary_remote_addr), X-Forwarded-For and a stream server's PROXY protocol
header; an IPv4 client
on an IPv6 socket reads ::ffff:a.b.c.d, as accept() gives it there.
$kgwttm_lb_addr is the address the connection had before: the LB, unless
the kernel module (rewrite_getname=Y, its default) already gave accept()
the client. The matrix runs with rewrite_getname=N first, so nginx's own
replacement is what the 4to4 and 6to6 rows see, then with the default.
A keep-alive connection asks getsockopt once (strace counts it); without
the kernel module nginx warns once and serves with the LB's address;
another errno is logged at error; nginx -t refuses a bad kgwttm_optname;
the .deb installs, enables both modules and purges cleanly.
"""
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '../lib'))
import kmodtest as k  # noqa: E402
import nginxtest as n  # noqa: E402

t = k.suite()
lbsim = k.lbsim
RS4, RS6, LIP4, LIP6 = lbsim.RS4, lbsim.RS6, lbsim.LIP4, lbsim.LIP6
M = k.mapped
A, B, A6 = '203.0.113.7', '203.0.113.8', '2001:db8:1::7'
XFF_CLIENT = '192.0.2.99'
_port = [5000]


def cport():
    """A client port of its own for every connection: log lines are told
    apart by it."""
    _port[0] += 1
    return _port[0]


def toa(ip, port):
    return lbsim.toa_v6(ip, port) if ':' in ip else lbsim.toa_v4(ip, port)


HTTP = r"""
limit_conn_zone $binary_remote_addr zone=per_client:1m;
limit_req_zone $binary_remote_addr zone=one_a_minute:1m rate=1r/m;
geo $client_net {
    default         elsewhere;
    10.200.0.0/24   lb;
    203.0.113.0/24  test-net-3;
    2001:db8::/32   documentation;
}
server {
    listen 10.200.0.1:8401;
    listen [fd00:200::1]:8406;
    listen [::]:8410 ipv6only=off;
    kgwttm_real_ip on;
    location / { return 200 "$remote_addr $remote_port\n"; }
    # access rules run after the rewrite phase, where "return" would answer
    # first: these locations answer in the content phase (stub_status)
    location /deny/ { deny 203.0.113.7; deny 2001:db8:1::7; allow all; stub_status; }
    location /allow/ { allow 203.0.113.7; deny all; stub_status; }
    location /rate/ { limit_req zone=one_a_minute; limit_req_status 429; stub_status; }
    location /geo/ { return 200 "$client_net\n"; }
    location /held/ {
        limit_conn per_client 1;
        limit_conn_status 429;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_pass http://127.0.0.1:8491;
    }
}
server {                            # kgwttm_real_ip off: the LB stays
    listen 10.200.0.1:8402;
    location / { return 200 "$remote_addr\n"; }
}
server {                            # on in one location only: from pre-access
    listen 10.200.0.1:8403;
    add_header X-Remote-Addr $remote_addr always;
    location /on/ { kgwttm_real_ip on; allow 203.0.113.7; deny all; stub_status; }
    location / { stub_status; }
}
server {                            # realip after kgwttm: trusts client A
    listen 10.200.0.1:8404;
    kgwttm_real_ip on;
    set_real_ip_from 203.0.113.7;
    real_ip_header X-Forwarded-For;
    location / { return 200 "$remote_addr\n"; }
}
"""
HTTP_PORTS = [8401, 8402, 8403, 8404, 8406, 8410]

STREAM = r"""
server {
    listen 10.200.0.1:8501;
    listen [fd00:200::1]:8501;
    kgwttm_real_ip on;
    proxy_protocol on;
    proxy_pass 127.0.0.1:8591;
}
server { listen 10.200.0.1:8502; kgwttm_real_ip on; deny 203.0.113.7; allow all; return "in\n"; }
server { listen 10.200.0.1:8503; return "$remote_addr\n"; }
"""
STREAM_PORTS = [8501, 8502, 8503]

PLAIN = r"""
server {
    listen 10.200.0.1:8401;
    listen 10.200.0.1:8407 http2;
    kgwttm_real_ip on;
    location / { return 200 "$remote_addr $remote_port\n"; }
}
"""

# (what, destination, client, $remote_addr, $kgwttm_lb_addr with
# rewrite_getname=N, and with Y: what accept() gave nginx)
MATRIX = [
    ('4to4, IPv4 listener', (RS4, 8401), A, A, LIP4, A),
    ('6to4, IPv4 listener', (RS4, 8401), A6, A6, LIP4, LIP4),
    ('no option, IPv4 listener', (RS4, 8401), None, LIP4, LIP4, LIP4),
    ('6to6, IPv6 listener', (RS6, 8406), A6, A6, LIP6, A6),
    ('4to6, IPv6 listener', (RS6, 8406), A, M(A), LIP6, M(A)),
    ('no option, IPv6 listener', (RS6, 8406), None, LIP6, LIP6, LIP6),
    ('4to4, dual-stack listener', (RS4, 8410), A, M(A), M(LIP4), M(A)),
    ('6to4, dual-stack listener', (RS4, 8410), A6, A6, M(LIP4), M(LIP4)),
    ('6to6, dual-stack listener', (RS6, 8410), A6, A6, LIP6, A6),
    ('4to6, dual-stack listener', (RS6, 8410), A, M(A), LIP6, M(A)),
    ('no option, dual-stack listener', (RS4, 8410), None, M(LIP4), M(LIP4), M(LIP4)),
]


def request(lb, dst, client=None, path=None, headers=(), option=None, src=None):
    """One request on a connection of its own from `client` (None: no
    option). Returns (status, body, uri, client port or the LB's port)."""
    port = cport()
    if option is None:
        option = toa(client, port) if client else b''
    c = lb.connect(dst, option=option, src=src)
    uri = '%s%d' % (path or '/m/', port)
    status, _, body = n.get(c, uri, headers)
    c.close()
    return status, body, uri, port if client else c.sport


def run_matrix(lb, ngx, rewrite):
    for what, dst, client, remote, lb_norewrite, lb_rewrite in MATRIX:
        @t.test('rewrite_getname=%s, %s: $remote_addr %s, $kgwttm_lb_addr %s'
                % ('Y' if rewrite else 'N', what, remote,
                   lb_rewrite if rewrite else lb_norewrite))
        def _():
            status, body, uri, port = request(lb, dst, client)
            want_lb = lb_rewrite if rewrite else lb_norewrite
            fields = ngx.access(uri)
            want = [uri, remote, str(port), want_lb,
                    remote if client else '-', str(port) if client else '-', '200']
            assert (status, body) == (200, '%s %d\n' % (remote, port)), (status, body)
            assert fields == want, (fields, want)


def main(lb):
    @t.test('nginx -t rejects a bad kgwttm_optname, in http and in stream')
    def _():
        for where, value in (('http', '12'), ('http', 'abc'), ('stream', '2147483647'),
                             ('stream', '-1345')):
            rc, out = n.nginx_t(**{where: 'kgwttm_optname %s;' % value})
            assert rc != 0 and 'invalid kgwttm_optname "%s"' % value in out \
                and 'optname= parameter' in out, (where, value, rc, out)
        rc, out = n.nginx_t(http='kgwttm_optname 1400;', stream='kgwttm_optname 1400;')
        assert rc == 0, out

    @t.test('kernel module not loaded: one warning per worker, requests served with the LB')
    def _():
        assert not k.loaded()
        with n.Nginx(http=PLAIN, ports=[8401]) as ngx:
            seen = []
            for _ in range(2):
                port = cport()
                c = lb.connect((RS4, 8401), option=toa(A, port))
                for i in range(2):
                    status, _, body = n.get(c, '/nl/%d/%d' % (port, i), keepalive=i == 0)
                    seen.append((status, body == '%s %d\n' % (LIP4, c.sport)))
                c.close()
            ngx.access('/nl/%d/1' % port)
            warnings = [line for line in ngx.error_log().splitlines()
                        if 'kgwttm: getsockopt(SOL_IP, 1345) is not answered' in line]
        assert seen == [(200, True)] * 4, seen
        assert len(warnings) == 1 and '[warn]' in warnings[0], warnings

    with k.Module(rewrite_getname=0):
        with n.Backend(8491, hold=True,
                       reply=b'HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nok\n') as web, \
             n.Backend(8591, until=b'\r\n', reply=b'ok\n') as pp, \
             n.Nginx(http=HTTP, stream=STREAM, ports=HTTP_PORTS + STREAM_PORTS) as ngx:
            run_matrix(lb, ngx, rewrite=False)
            http_access(lb, ngx)
            http_geo_limit_req(lb, ngx)
            http_scopes(lb, ngx)
            http_limit_conn(lb, ngx, web)
            stream_proxy_protocol(lb, ngx, pp)
            stream_access(lb, ngx)
            untrusted_and_malformed(lb, ngx)
            errors = [line for line in ngx.error_log().splitlines() if 'kgwttm:' in line]
            if k.BACKEND == 'bpf' and k.param('set_retval') == 'N':
                # Before 5.18 the BPF backend cannot choose the errno: a
                # connection without a client gets the kernel's ENOPROTOOPT,
                # which nginx cannot tell from no backend at all, so each
                # worker (this nginx has one) warns once (README, "Without a
                # kernel module").
                warned = [line for line in errors if '[warn]' in line and 'is not answered' in line]
                if len(warned) == 1:
                    errors.remove(warned[0])
            t.ok(not errors, 'no kgwttm line in the error log of those requests',
                 diag='\n'.join(errors))
        keepalive_one_call(lb)
        other_errno(lb)

    with k.Module(), n.Nginx(http=HTTP, ports=HTTP_PORTS) as ngx:
        run_matrix(lb, ngx, rewrite=True)

    deb_package()


def http_access(lb, ngx):
    cases = [('deny 203.0.113.7: 403 for that client (4to4)', (RS4, 8401), A, '/deny/', 403),
             ('deny 2001:db8:1::7: 403 for that client (6to4)', (RS4, 8401), A6, '/deny/', 403),
             ('deny 203.0.113.7: 403 on a dual-stack listener (::ffff:)', (RS4, 8410), A,
              '/deny/', 403),
             ('deny: another client gets 200', (RS4, 8401), B, '/deny/', 200),
             ('deny: the LB itself (no option) gets 200', (RS4, 8401), None, '/deny/', 200),
             ('allow 203.0.113.7; deny all: 200 for that client', (RS4, 8401), A, '/allow/', 200),
             ('allow 203.0.113.7; deny all: 403 for another client', (RS4, 8401), B, '/allow/', 403),
             ('allow 203.0.113.7; deny all: 403 for the LB', (RS4, 8401), None, '/allow/', 403)]
    for what, dst, client, path, want in cases:
        @t.test(what)
        def _():
            status, _, uri, _ = request(lb, dst, client, path)
            fields = ngx.access(uri)
            assert status == want and fields[6] == str(want), (status, fields)


def http_geo_limit_req(lb, ngx):
    @t.test('geo: the client\'s network (IPv4 on every listener, IPv6), the LB\'s without option')
    def _():
        got = [request(lb, dst, client, '/geo/')[1].strip() for dst, client in
               (((RS4, 8401), A), ((RS6, 8406), A), ((RS4, 8410), A),
                ((RS4, 8401), A6), ((RS4, 8401), None))]
        assert got == ['test-net-3'] * 3 + ['documentation', 'lb'], got

    @t.test('limit_req 1r/m per $binary_remote_addr: a client\'s second request gets 429, '
            'another client\'s first passes')
    def _():
        got = [request(lb, (RS4, 8401), client, '/rate/')[0] for client in (A, A, B)]
        assert got == [200, 429, 200], got


def http_scopes(lb, ngx):
    @t.test('kgwttm_real_ip off: $remote_addr is the LB, $kgwttm_client_addr still the client')
    def _():
        status, body, uri, port = request(lb, (RS4, 8402), A)
        fields = ngx.access(uri)
        assert (status, body) == (200, LIP4 + '\n'), (status, body)
        assert fields[1:6] == [LIP4, fields[2], LIP4, A, str(port)], fields

    @t.test('on in one location of a keep-alive connection: the client there (its allow '
            'refuses another client), the LB again in the next request')
    def _():
        port = cport()
        c = lb.connect((RS4, 8403), option=toa(A, port))
        got = [n.get(c, path % port, keepalive=keep)[:2]
               for path, keep in (('/on/%d', True), ('/off/%d', True), ('/on/%d/again', False))]
        c.close()
        got = [(status, fields['x-remote-addr']) for status, fields in got]
        assert got == [(200, A), (200, LIP4), (200, A)], got
        assert ngx.access('/on/%d' % port)[1:4] == [A, str(port), LIP4]
        assert ngx.access('/off/%d' % port)[1:4] == [LIP4, str(c.sport), LIP4]
        status, _, uri, _ = request(lb, (RS4, 8403), B, '/on/')
        assert status == 403, status

    @t.test('realip after kgwttm: a trusted client\'s X-Forwarded-For is believed, '
            'another client\'s is not')
    def _():
        xff = [('X-Forwarded-For', XFF_CLIENT)]
        status, body, uri, port = request(lb, (RS4, 8404), A, headers=xff)
        fields = ngx.access(uri)
        assert (status, body) == (200, XFF_CLIENT + '\n'), (status, body)
        assert fields[3:6] == [LIP4, A, str(port)], fields
        status, body, uri, _ = request(lb, (RS4, 8404), B, headers=xff)
        assert (status, body) == (200, B + '\n'), (status, body)


def http_limit_conn(lb, ngx, web):
    @t.test('limit_conn 1 per $binary_remote_addr: a second connection of one client '
            'gets 429, another client passes; upstream X-Forwarded-For is the client')
    def _():
        first = lb.connect((RS4, 8401), option=toa(A, cport()))
        first.send(b'GET /held/1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
        web.wait_seen(1)
        status, _, _, _ = request(lb, (RS4, 8401), A, '/held/')
        other = lb.connect((RS4, 8401), option=toa(B, cport()))
        other.send(b'GET /held/3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
        seen = web.wait_seen(2)
        web.release.set()
        replies = [c.recv_until(None).split(b' ', 2)[1] for c in (first, other)]
        for c in (first, other):
            c.close()
        assert status == 429, status
        assert replies == [b'200', b'200'], replies
        xff = sorted(re.search(r'(?im)^x-forwarded-for: (.*)$', s).group(1).strip()
                     for s in seen)
        assert xff == [A, B], seen


def stream_proxy_protocol(lb, ngx, pp):
    cases = [('4to4', (RS4, 8501), A, 'TCP4 203.0.113.7 10.200.0.1'),
             ('6to4 (the local address as ::ffff:)', (RS4, 8501), A6,
              'TCP6 2001:db8:1::7 ::ffff:10.200.0.1'),
             ('6to6', (RS6, 8501), A6, 'TCP6 2001:db8:1::7 fd00:200::1'),
             ('4to6', (RS6, 8501), A, 'TCP6 ::ffff:203.0.113.7 fd00:200::1'),
             ('no option', (RS4, 8501), None, 'TCP4 10.200.0.2 10.200.0.1')]
    for what, dst, client, want in cases:
        @t.test('stream, proxy_protocol on, %s: the backend reads PROXY %s' % (what, want))
        def _():
            port = cport()
            c = lb.connect(dst, option=toa(client, port) if client else b'')
            reply = c.recv_until(None)
            c.close()
            sport = port if client else c.sport
            line = 'PROXY %s %d 8501' % (want, sport)
            assert reply == b'ok\n', reply
            assert line in pp.seen, (line, pp.seen)
            fields = ngx.stream_log(sport)
            assert fields[3] == (LIP6 if dst[0] == RS6 else LIP4), fields


def stream_access(lb, ngx):
    @t.test('stream deny 203.0.113.7: that client is refused, another is served')
    def _():
        got = []
        for client in (A, B):
            c = lb.connect((RS4, 8502), option=toa(client, cport()))
            got.append(c.recv_until(None))
            c.close()
        assert got == [b'', b'in\n'], got

    @t.test('stream, kgwttm_real_ip off: $remote_addr is the LB, $kgwttm_client_addr the client')
    def _():
        port = cport()
        c = lb.connect((RS4, 8503), option=toa(A, port))
        got = c.recv_until(None)
        c.close()
        assert got == (LIP4 + '\n').encode(), got
        fields = ngx.stream_log(c.sport)
        assert fields[3:6] == [LIP4, A, str(port)], fields


def untrusted_and_malformed(lb, ngx):
    @t.test('an option from an untrusted source (IPv4 and IPv6): $remote_addr is the sender')
    def _():
        for dst, src in (((RS4, 8401), lbsim.UNTRUSTED4), ((RS6, 8406), lbsim.UNTRUSTED6)):
            port = cport()
            c = lb.connect(dst, option=toa(A, port), src=src)
            uri = '/u/%d' % port
            status, _, body = n.get(c, uri)
            c.close()
            fields = ngx.access(uri)
            assert fields[1:5] == [src, str(c.sport), src, '-'], fields

    for name in ('wrong-len', 'len1', 'ttm-bad-af'):
        @t.test('a malformed option (%s) from the LB: $remote_addr is the LB' % name)
        def _():
            case = lbsim.option_cases(client4=(A, 4242))[name]
            c = lb.connect((RS4, 8401), option=case.option, raw=case.raw)
            uri = '/bad/%s' % name
            n.get(c, uri)
            c.close()
            fields = ngx.access(uri)
            assert fields[1:5] == [LIP4, str(c.sport), LIP4, '-'], fields


def keepalive_one_call(lb):
    @t.test('keep-alive: 10 requests on one connection make 1 getsockopt, '
            'a second connection 1 more (strace); HTTP/2: 3 streams, 1 more')
    def _():
        with n.Nginx(http=PLAIN, ports=[8401, 8407], strace=True) as ngx:
            port = cport()
            c = lb.connect((RS4, 8401), option=toa(A, port))
            bodies = {n.get(c, '/ka/%d' % i, keepalive=i < 9)[2] for i in range(10)}
            c.close()
            ngx.access('/ka/9')
            first = ngx.getsockopt_calls(1345)
            c = lb.connect((RS4, 8401), option=toa(B, cport()))
            n.get(c, '/ka/second')
            c.close()
            ngx.access('/ka/second')
            second = ngx.getsockopt_calls(1345)
            port6 = cport()
            c = lb.connect((RS4, 8407), option=toa(A6, port6))
            paths = ['/h2/%d' % i for i in range(3)]
            h2 = n.h2_get(c, paths)
            c.close()
            logged = [ngx.access(p)[1:4] for p in paths]
            third = ngx.getsockopt_calls(1345)
        assert bodies == {'%s %d\n' % (A, port)}, bodies
        assert h2 == {p: 0x88 for p in paths}, h2
        assert logged == [[A6, str(port6), LIP4]] * 3, logged
        assert (first, second, third) == (1, 2, 3), (first, second, third)


def other_errno(lb):
    had = os.path.exists('/sys/module/ip_tables')
    r = subprocess.run(['modprobe', 'ip_tables'], capture_output=True, text=True)
    if r.returncode:
        t.skip('another errno is logged at error', 'no ip_tables: ' + r.stderr.strip())
        return
    try:
        @t.test('another errno (kgwttm_optname 64, which ip_tables answers): logged at '
                'error with its text, the request served with the LB')
        def _():
            with n.Nginx(http='kgwttm_optname 64;' + PLAIN, ports=[8401]) as ngx:
                status, body, uri, _ = request(lb, (RS4, 8401), A)
                ngx.access(uri)
                log = ngx.error_log()
            assert status == 200 and body.startswith(LIP4 + ' '), (status, body)
            assert re.search(r'\[error\].*kgwttm: getsockopt\(SOL_IP, 64\) failed '
                             r'\(\d+: [A-Z][a-z]', log), log
    finally:
        if not had:
            subprocess.run(['rmmod', 'ip_tables'])


def deb_package():
    debs = glob.glob(os.path.join(k.ROOT, 'nginx', 'dist', 'nginx-mod-kgwttm_*.deb'))

    @t.test('the .deb installs, enables both modules for Debian\'s nginx (which then '
            'takes examples/nginx/nginx.conf), and purges')
    def _():
        assert len(debs) == 1, debs
        links = ['/etc/nginx/modules-enabled/50-mod-http-kgwttm.conf',
                 '/etc/nginx/modules-enabled/70-mod-stream-kgwttm.conf']
        # dpkg reads every installed package's file list (810 on the host,
        # over 9p: a minute and a half); an admin folder with the real
        # status but no file lists checks the dependencies and runs the
        # maintainer scripts for real in seconds, and leaves the guest's
        # own database alone.
        admin = tempfile.mkdtemp(prefix='kgwttm-dpkg.')
        shutil.copy('/var/lib/dpkg/status', admin)
        for d in ('info', 'updates', 'triggers'):
            os.mkdir(os.path.join(admin, d))
        open(os.path.join(admin, 'available'), 'w').close()
        env = dict(os.environ, DEBIAN_FRONTEND='noninteractive')

        def dpkg(*args):
            r = subprocess.run(['dpkg', '--admindir', admin] + list(args),
                               capture_output=True, text=True, env=env)
            out = [line for line in (r.stdout + r.stderr).splitlines()
                   if 'files list file for package' not in line]
            assert r.returncode == 0, '\n'.join(out)

        try:
            dpkg('-i', debs[0])
            assert all(os.path.islink(p) for p in links), os.listdir(os.path.dirname(links[0]))
            rc, out = n.nginx_t(http='server { listen 127.0.0.1:8499; kgwttm_real_ip on; }',
                                stream='kgwttm_optname 1345;',
                                modules_from='/etc/nginx/modules-enabled')
            assert rc == 0, out
            example = os.path.join(k.ROOT, 'examples', 'nginx', 'nginx.conf')
            r = subprocess.run([n.NGINX, '-t', '-c', example], capture_output=True, text=True)
            assert r.returncode == 0, 'examples/nginx/nginx.conf: ' + r.stderr
        finally:
            dpkg('--purge', 'nginx-mod-kgwttm')
            shutil.rmtree(admin)
        assert not any(os.path.lexists(p) for p in links)
        assert not os.path.exists('/usr/lib/nginx/modules/ngx_http_kgwttm_module.so')


with lbsim.LB(seed=50) as lb:
    main(lb)
sys.exit(t.end())
