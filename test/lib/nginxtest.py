# SPDX-License-Identifier: MIT
"""nginxtest — Debian's nginx with the kgwttm modules, for the guest suites.

    import nginxtest as n
    with n.Nginx(http='server { listen 10.200.0.1:8401; ... }',
                 ports=[8401]) as ngx:           # started; stopped on exit
        status, headers, body = n.get(conn, '/path')  # conn: an lbsim Conn
        ngx.access('/path')       # the access-log line of that request, split
        ngx.error_log()           # the error log so far

Each Nginx has its own prefix folder under /tmp (conf, logs, temp paths,
pid): nothing of Debian's /etc/nginx or /var is used. The master runs in
the foreground (daemon off) with one worker as root; strace=True runs it
under `strace -f -e trace=getsockopt`, and getsockopt_calls(optname) counts
the calls the workers made. Backend() is a thread server on 127.0.0.1 that
records what nginx sends upstream. Python 3 standard library only.
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
MODULES = os.path.join(ROOT, 'nginx', 'dist', 'modules')
NGINX = '/usr/sbin/nginx'
STREAM_CORE = '/usr/lib/nginx/modules/ngx_stream_module.so'

# Every field the suites assert on, '|'-separated (nginx writes '-' for an
# empty variable).
HTTP_LOG = ("'$request_uri|$remote_addr|$remote_port|$kgwttm_lb_addr|"
            "$kgwttm_client_addr|$kgwttm_client_port|$status'")
STREAM_LOG = ("'$server_port|$remote_addr|$remote_port|$kgwttm_lb_addr|"
              "$kgwttm_client_addr|$kgwttm_client_port|$status'")

LOAD = """
load_module {stream_core};
load_module {modules}/ngx_http_kgwttm_module.so;
load_module {modules}/ngx_stream_kgwttm_module.so;
"""

CONF = """
{load}
daemon off;
master_process on;
worker_processes 1;
user root;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log info;
events {{ worker_connections 256; }}
http {{
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    log_format kgwttm {http_log};
    access_log {prefix}/access.log kgwttm;
    {http}
}}
stream {{
    log_format kgwttm {stream_log};
    access_log {prefix}/stream.log kgwttm;
    {stream}
}}
"""


def conf_text(prefix, http='', stream='', modules_from=None):
    """The whole nginx.conf; modules_from (a folder of load_module lines,
    /etc/nginx/modules-enabled) replaces loading the checkout's modules."""
    if modules_from:
        load = 'include %s/*.conf;' % modules_from
    else:
        load = LOAD.format(stream_core=STREAM_CORE, modules=MODULES)
    return CONF.format(load=load, prefix=prefix, http_log=HTTP_LOG,
                       stream_log=STREAM_LOG, http=http, stream=stream)


def nginx_t(http='', stream='', modules_from=None):
    """`nginx -t` of a configuration: (exit code, what nginx printed)."""
    prefix = tempfile.mkdtemp(prefix='kgwttm-nginx-t.')
    try:
        conf = os.path.join(prefix, 'nginx.conf')
        with open(conf, 'w') as f:
            f.write(conf_text(prefix, http, stream, modules_from))
        # Debian's load_module lines name modules/... under the prefix
        os.symlink(os.path.dirname(STREAM_CORE), os.path.join(prefix, 'modules'))
        r = subprocess.run([NGINX, '-t', '-p', prefix, '-c', conf],
                           capture_output=True, text=True)
        return r.returncode, r.stderr
    finally:
        shutil.rmtree(prefix)


def _listening(ports):
    """The TCP ports in LISTEN state (IPv4 and IPv6)."""
    found = set()
    for name in ('/proc/net/tcp', '/proc/net/tcp6'):
        with open(name) as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if fields[3] == '0A':
                    found.add(int(fields[1].rsplit(':', 1)[1], 16))
    return set(ports) <= found


class Nginx:
    def __init__(self, http='', stream='', ports=(), strace=False):
        self.prefix = tempfile.mkdtemp(prefix='kgwttm-nginx.')
        self.conf = os.path.join(self.prefix, 'nginx.conf')
        with open(self.conf, 'w') as f:
            f.write(conf_text(self.prefix, http, stream))
        self.ports, self.strace = ports, strace
        self.proc = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        shutil.rmtree(self.prefix, ignore_errors=True)

    def path(self, name):
        return os.path.join(self.prefix, name)

    def start(self, timeout=30):
        cmd = [NGINX, '-p', self.prefix, '-c', self.conf]
        if self.strace:
            cmd = ['strace', '-f', '-qq', '-e', 'trace=getsockopt',
                   '-o', self.path('strace.log')] + cmd
        out = open(self.path('stderr.log'), 'w')
        self.proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
        out.close()
        deadline = time.monotonic() + timeout
        while not (os.path.exists(self.path('nginx.pid')) and _listening(self.ports)):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError('nginx did not start: ' + self._read('stderr.log')
                                   + self.error_log())
            time.sleep(0.05)
        return self

    def stop(self):
        """Fast shutdown (SIGTERM to the master); the logs are complete after."""
        if self.proc is None:
            return
        try:
            with open(self.path('nginx.pid')) as f:
                os.kill(int(f.read()), signal.SIGTERM)
        except (OSError, ValueError):
            self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def _read(self, name):
        try:
            with open(self.path(name)) as f:
                return f.read()
        except FileNotFoundError:
            return ''

    def error_log(self):
        return self._read('error.log')

    def access(self, uri, timeout=10):
        """The access-log fields of the request for `uri` (unique in a suite),
        waited for: nginx writes the line after the response has gone."""
        return self._wait_line('access.log', lambda f: f[0] == uri, uri, timeout)

    def stream_log(self, remote_port, timeout=10):
        """The stream log fields of the session from `remote_port` (the
        client's port, or the LB's when the session kept it)."""
        return self._wait_line('stream.log', lambda f: f[2] == str(remote_port),
                               remote_port, timeout)

    def _wait_line(self, name, match, what, timeout):
        deadline = time.monotonic() + timeout
        while True:
            for line in self._read(name).splitlines():
                fields = line.split('|')
                if match(fields):
                    return fields
            if time.monotonic() > deadline:
                raise AssertionError('no %s line for %s in:\n%s'
                                     % (name, what, self._read(name)))
            time.sleep(0.05)

    def getsockopt_calls(self, optname):
        """getsockopt(SOL_IP, optname) calls traced so far (strace=True)."""
        # strace names no IP option for the number: "SOL_IP, 0x541 /* IP_??? */"
        pat = re.compile(r'getsockopt\(\d+, SOL_IP, (%d|%#x)\b' % (optname, optname))
        return sum(1 for line in self._read('strace.log').splitlines()
                   if pat.search(line))


def get(conn, path, headers=(), keepalive=False, timeout=None):
    """One HTTP/1.1 request on an lbsim Conn: (status, {header: value}, body)."""
    lines = ['GET %s HTTP/1.1' % path, 'Host: kgwttm.test']
    lines += ['%s: %s' % h for h in headers]
    if not keepalive:
        lines.append('Connection: close')
    conn.send(('\r\n'.join(lines) + '\r\n\r\n').encode())
    head = conn.recv_until(b'\r\n\r\n', timeout=timeout).decode('latin-1')
    status_line, *header_lines = head.rstrip('\r\n').split('\r\n')
    fields = {}
    for line in header_lines:
        name, _, value = line.partition(':')
        fields[name.strip().lower()] = value.strip()
    length = int(fields.get('content-length', '0'))
    body = conn.recv_until(length, timeout=timeout) if length else b''
    return int(status_line.split()[1]), fields, body.decode('latin-1')


class Backend:
    """A server on 127.0.0.1:port that nginx proxies to. Each connection's
    first bytes up to `until` (a request head, a PROXY line) are kept in
    `seen`; it answers `reply` once `release` is set (at once by default)."""

    def __init__(self, port, until=b'\r\n\r\n', reply=b'', hold=False):
        self.until, self.reply = until, reply
        self.seen = []
        self.release = threading.Event()
        if not hold:
            self.release.set()
        self._cond = threading.Condition()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(('127.0.0.1', port))
        self.sock.listen(16)
        self._threads = []
        self._accepter = threading.Thread(target=self._accept, daemon=True)
        self._accepter.start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            th = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            th.start()
            self._threads.append(th)

    def _serve(self, conn):
        with conn:
            conn.settimeout(30)
            data = b''
            try:
                while self.until not in data:
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    data += chunk
            except OSError:
                return
            with self._cond:
                self.seen.append(data.split(self.until, 1)[0].decode('latin-1'))
                self._cond.notify_all()
            self.release.wait(30)
            try:
                conn.sendall(self.reply)
            except OSError:
                pass

    def wait_seen(self, count, timeout=10):
        with self._cond:
            if not self._cond.wait_for(lambda: len(self.seen) >= count, timeout):
                raise AssertionError('backend saw %d connections, not %d: %r'
                                     % (len(self.seen), count, self.seen))
            return list(self.seen)

    def close(self):
        self.release.set()
        try:
            self.sock.shutdown(socket.SHUT_RDWR)   # wakes the accept()
        except OSError:
            pass
        self.sock.close()
        self._accepter.join(5)
        for th in self._threads:
            th.join(5)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def h2_get(conn, paths, timeout=None):
    """GET each path as its own stream of one HTTP/2 connection (cleartext,
    prior knowledge) on an lbsim Conn; returns {path: ':status' byte}, where
    0x88 is HPACK's static ":status 200". Just enough HTTP/2 for that: no
    flow control beyond the defaults, headers sent as HPACK literals."""
    import struct

    def frame(ftype, flags, stream, payload=b''):
        return struct.pack('!I', len(payload))[1:] + bytes([ftype, flags]) + \
            struct.pack('!I', stream) + payload

    def literal(index, value):   # literal without indexing, indexed name
        value = value.encode()
        return bytes([index, len(value)]) + value

    out = b'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n' + frame(4, 0, 0)     # SETTINGS
    streams = {}
    for i, path in enumerate(paths):
        sid = 2 * i + 1
        streams[sid] = path
        block = b'\x82\x86' + literal(4, path) + literal(1, 'kgwttm.test')  # GET http
        out += frame(1, 0x5, sid, block)                  # END_STREAM|END_HEADERS
    conn.send(out)
    status, done = {}, set()
    while len(done) < len(streams):
        head = conn.recv_until(9, timeout=timeout)
        length = struct.unpack('!I', b'\0' + head[:3])[0]
        ftype, flags = head[3], head[4]
        sid = struct.unpack('!I', head[5:9])[0] & 0x7fffffff
        payload = conn.recv_until(length, timeout=timeout) if length else b''
        if ftype == 4 and not flags & 1:
            conn.send(frame(4, 1, 0))                     # SETTINGS ACK
        if ftype == 1 and sid in streams:
            status[streams[sid]] = payload[0]
        if ftype in (0, 1) and flags & 1 and sid in streams:
            done.add(sid)
        if ftype == 7:
            raise ConnectionError('GOAWAY %r' % payload)
    conn.send(frame(7, 0, 0, struct.pack('!II', max(streams), 0)))   # GOAWAY
    return status
