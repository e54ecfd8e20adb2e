# SPDX-License-Identifier: MIT
"""lbsim's load balancer: LB owns the TUN and one reader thread for all its
connections, and each Conn is a small deterministic TCP (a handshake whose
final ACK carries the option, data within the RS's window, FIN or RST close,
no retransmission: a missing answer is a TimeoutError)."""
import errno
import ipaddress
import os
import select
import struct
import threading
import zlib

from hostnet import (IFNAME, LIP4, LIP6, RS4, RS6, UNTRUSTED4, UNTRUSTED6,
                     configure_plan, restore_sysctls, tun_attach)
from options import opt
from packet import (ACK, FIN, OPT_MSS, PSH, RST, SYN, ip_packet, pad_options,
                    parse_packet, tcp_segment, walk_options)


def _seq_lt(a, b):
    return ((a - b) & 0xffffffff) > 0x7fffffff


def _hash32(*parts):
    return zlib.crc32('|'.join(map(str, parts)).encode())


class Conn:
    """One LB->RS connection. Created by LB.connect; state is guarded by the
    LB's condition variable and advanced by its reader thread."""

    def __init__(self, lb, src, sport, dst, dport):
        self.lb, self.src, self.sport, self.dst, self.dport = lb, src, sport, dst, dport
        self.family = 'ip4' if ':' not in dst else 'ip6'
        self.isn = _hash32(lb.seed, 'isn', src, sport, dst, dport)
        self._ident = _hash32(lb.seed, 'id', src, sport, dst, dport)
        self.snd_nxt = self.snd_una = self.isn
        self.rcv_nxt = self.server_isn = self.server_mss = None
        self.server_win = 0
        self.state = 'CLOSED'
        self.buffer = bytearray()
        self.server_fin = self.server_rst = False
        self._fin_sent = False
        self._stray_ack = None  # an ACK answering our SYN: an old connection
        self._ack_opt = b''
        self.synack_retransmits = 0

    def __repr__(self):
        return 'Conn(%s)' % self._name()

    def _name(self):
        fmt = '%s:%d -> %s:%d' if self.family == 'ip4' else '[%s]:%d -> [%s]:%d'
        return fmt % (self.src, self.sport, self.dst, self.dport)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.state != 'CLOSED':
            self.reset()

    # -- sending (caller's thread or reader thread, condition held) --
    def _emit(self, flags, seq=None, options=b'', payload=b''):
        """Write one segment; without an explicit seq it is sent at snd_nxt,
        which advances first (the answer can arrive before write returns)."""
        if seq is None:
            seq = self.snd_nxt
            self.snd_nxt = (seq + len(payload) +
                            (1 if flags & (SYN | FIN) else 0)) & 0xffffffff
        ack = self.rcv_nxt if flags & ACK else 0
        seg = tcp_segment(self.src, self.dst, self.sport, self.dport, seq,
                          ack or 0, flags, options=options, payload=payload)
        self._ident += 1
        self.lb._write(ip_packet(self.src, self.dst, seg, ident=self._ident))

    def _wait(self, cond, timeout, what):
        timeout = self.lb.timeout if timeout is None else timeout
        if not self.lb._cond.wait_for(cond, timeout):
            raise TimeoutError('%s: %s within %.1fs (state %s, %d bytes '
                               'received%s%s)' % (
                                   self._name(), what, timeout, self.state,
                                   len(self.buffer),
                                   ', server FIN' if self.server_fin else '',
                                   ', server RST' if self.server_rst else ''))

    def _handshake(self, option, raw, mss, timeout):
        mss = mss or (1460 if self.family == 'ip4' else 1440)
        syn_opt = opt(OPT_MSS, struct.pack('!H', mss))
        self._ack_opt = ack_opt = pad_options(option, raw)
        with self.lb._cond:
            for _ in range(3):
                self.state, self._stray_ack = 'SYN_SENT', None
                self._emit(SYN, seq=self.isn, options=syn_opt)
                self._wait(lambda: self.state != 'SYN_SENT' or self._stray_ack
                           is not None, timeout,
                           'no SYN-ACK (is a server listening?)')
                if self.state == 'SYN_SENT':
                    # the 4-tuple is still known to the RS (TIME_WAIT or an
                    # old connection): RST it with the sequence it expects,
                    # as a real client does, then SYN again
                    self._emit(RST, seq=self._stray_ack)
                    continue
                if self.server_rst:
                    raise ConnectionRefusedError(
                        errno.ECONNREFUSED, '%s: RST in answer to the SYN'
                        % self._name())
                break
            else:
                raise TimeoutError('%s: the RS kept answering the SYN with a '
                                   'bare ACK' % self._name())
            self.snd_nxt = self.snd_una = self.isn + 1
            self.state = 'ESTABLISHED'
            self._emit(ACK, options=ack_opt)

    def send(self, data, timeout=None):
        """Queue `data` in MSS-sized segments, within the RS's window."""
        data = bytes(data)
        with self.lb._cond:
            while data:
                self._check_open('send')
                self._wait(lambda: self.server_rst or
                           (self.snd_nxt - self.snd_una) & 0xffffffff
                           < self.server_win, timeout, 'no window from the RS')
                self._check_open('send')
                room = self.server_win - ((self.snd_nxt - self.snd_una) & 0xffffffff)
                chunk = data[:min(room, self.server_mss)]
                self._emit(ACK | PSH, payload=chunk)
                data = data[len(chunk):]

    def _check_open(self, what):
        if self.server_rst:
            raise ConnectionResetError(errno.ECONNRESET, '%s: %s after the RS '
                                       'reset the connection' % (self._name(), what))
        if self._fin_sent:
            raise OSError(errno.EPIPE, '%s: %s after close' % (self._name(), what))

    def recv_until(self, until=None, timeout=None):
        """Wait for and return received bytes (removed from `buffer`):
        until=int: exactly that many bytes; bytes: up to and including that
        delimiter; callable(buffer) -> bool: the whole buffer once true;
        None: everything up to the RS's FIN."""
        if isinstance(until, int):
            def ready():
                return len(self.buffer) >= until
            def take():
                return until
            what = '%d bytes' % until
        elif isinstance(until, (bytes, bytearray)):
            def ready():
                return until in self.buffer
            def take():
                return self.buffer.index(until) + len(until)
            what = 'delimiter %r' % bytes(until)
        elif until is None:
            def ready():
                return self.server_fin
            def take():
                return len(self.buffer)
            what = "FIN from the RS"
        else:
            def ready():
                return until(bytes(self.buffer))
            def take():
                return len(self.buffer)
            what = 'a reply matching %s' % getattr(until, '__name__', until)
        with self.lb._cond:
            self._wait(lambda: ready() or self.server_fin or self.server_rst,
                       timeout, 'no ' + what)
            if not ready():
                if self.server_rst:
                    raise ConnectionResetError(
                        errno.ECONNRESET, '%s: RST before %s; got %r'
                        % (self._name(), what, bytes(self.buffer)))
                raise EOFError('%s: FIN before %s; got %r'
                               % (self._name(), what, bytes(self.buffer)))
            n = take()
            out = bytes(self.buffer[:n])
            del self.buffer[:n]
            return out

    def recv_quiet(self, idle=0.3, timeout=None):
        """A reply of unknown length: wait for the first byte (or FIN),
        then until `idle` seconds pass without more; returns what came."""
        with self.lb._cond:
            self._wait(lambda: self.buffer or self.server_fin or
                       self.server_rst, timeout, 'no reply')
            seen = -1
            while seen != len(self.buffer) and not self.server_fin:
                seen = len(self.buffer)
                self.lb._cond.wait_for(lambda: len(self.buffer) != seen or
                                       self.server_fin, idle)
            out = bytes(self.buffer)
            self.buffer.clear()
            return out

    def close(self, timeout=None):
        """FIN, then wait until the RS has ACKed it and sent its own FIN
        (which the reader thread ACKs): the full four-way close."""
        with self.lb._cond:
            if self.state == 'CLOSED':
                return
            if not self.server_rst and not self._fin_sent:
                self._emit(FIN | ACK)
                self._fin_sent = True
            try:
                self._wait(lambda: self.server_rst or (
                    self.server_fin and self.snd_una == self.snd_nxt), timeout,
                    "no ACK of our FIN and FIN from the RS (does the server "
                    "close its socket?)")
            finally:
                self._forget()

    def reset(self):
        """RST (with ACK) at the current sequence: the RS sees ECONNRESET."""
        with self.lb._cond:
            if self.state != 'CLOSED' and not self.server_rst:
                self._emit(RST | ACK)
            self._forget()

    def _forget(self):
        self.state = 'CLOSED'
        self.lb._conns.pop(self._key(), None)

    def _key(self):
        return (self.src, self.sport, self.dst, self.dport)

    # -- receiving (reader thread, condition held) --
    def _on_packet(self, p):
        if self.state == 'SYN_SENT':
            if p.flags & RST:
                if p.flags & ACK and p.ack == (self.isn + 1) & 0xffffffff:
                    self.server_rst, self.state = True, 'CLOSED'
            elif p.flags & (SYN | ACK) == SYN | ACK and \
                    p.ack == (self.isn + 1) & 0xffffffff:
                self.server_isn = p.seq
                self.rcv_nxt = (p.seq + 1) & 0xffffffff
                self.server_win = p.window
                self.server_mss = 536
                for kind, body in walk_options(p.options):
                    if kind == OPT_MSS and len(body) == 2:
                        self.server_mss = struct.unpack('!H', body)[0]
                self.state = 'SYN_RECEIVED'  # ours to ACK, in _handshake
            elif p.flags & ACK:
                self._stray_ack = p.ack
            return
        if p.flags & RST:
            self.server_rst = True
            return
        if p.flags & SYN:
            # a retransmitted SYN-ACK: the RS dropped or missed our ACK (since
            # 6.7, an ACK whose options overrun the header by 18+ bytes is
            # dropped by tcp_inbound_hash); answer as the LB would, again
            # with the option
            self.synack_retransmits += 1
            self._emit(ACK, seq=(self.isn + 1) & 0xffffffff, options=self._ack_opt)
            return
        if p.flags & ACK and not _seq_lt(self.snd_nxt, p.ack) and \
                not _seq_lt(p.ack, self.snd_una):
            self.snd_una = p.ack
            self.server_win = p.window
        need_ack = False
        if p.payload:
            need_ack = True
            skip = (self.rcv_nxt - p.seq) & 0xffffffff
            if skip < len(p.payload):  # in order, or overlapping new bytes
                new = p.payload[skip:]
                self.buffer += new
                self.rcv_nxt = (self.rcv_nxt + len(new)) & 0xffffffff
        if p.flags & FIN and (p.seq + len(p.payload)) & 0xffffffff == self.rcv_nxt:
            self.rcv_nxt = (self.rcv_nxt + 1) & 0xffffffff
            self.server_fin = need_ack = True
        elif p.flags & FIN:
            need_ack = True
        if need_ack:
            self._emit(ACK)


class LB:
    """The simulated LB on lbsim0 (see the module docstring)."""
    RS4, RS6, LIP4, LIP6 = RS4, RS6, LIP4, LIP6
    UNTRUSTED4, UNTRUSTED6 = UNTRUSTED4, UNTRUSTED6

    def __init__(self, seed=0, timeout=5.0, ifname=IFNAME):
        self.seed, self.timeout, self.ifname = seed, timeout, ifname
        self._next_port = 40000 + (seed * 7919) % 20000
        self._conns = {}
        self._flood = {}  # (src, sport, dst, dport) -> SYN-ACK seen
        self._cond = threading.Condition()
        self._fd = None
        self._changed = None  # global sysctls we changed (we created lbsim0)
        self.created = False

    def __enter__(self):
        return self.open()

    def __exit__(self, *exc):
        self.close()

    def open(self):
        existed = os.path.exists('/sys/class/net/' + self.ifname)
        self._fd = tun_attach(self.ifname)
        self.created = not existed
        try:
            if self.created:
                self._changed = configure_plan(self.ifname)
        except BaseException:
            os.close(self._fd)
            raise
        self._stop_r, self._stop_w = os.pipe()
        self._reader = threading.Thread(target=self._read_loop, daemon=True,
                                        name='lbsim-reader')
        self._reader.start()
        return self

    def close(self):
        """Stop reading and give the TUN back: a TUN we created disappears
        with its addresses and routes; a persistent one stays."""
        if self._fd is None:
            return
        os.write(self._stop_w, b'x')
        self._reader.join()
        for fd in (self._stop_r, self._stop_w, self._fd):
            os.close(fd)
        self._fd = None
        if self._changed:
            restore_sysctls(self._changed)

    def _write(self, packet):
        os.write(self._fd, packet)

    def _read_loop(self):
        while True:
            ready, _, _ = select.select([self._fd, self._stop_r], [], [])
            if self._stop_r in ready:
                return
            try:
                data = os.read(self._fd, 65536)
            except OSError:
                continue
            p = parse_packet(data)
            if p is None:
                continue
            key = (p.dst, p.dport, p.src, p.sport)
            with self._cond:
                conn = self._conns.get(key)
                if conn is not None:
                    conn._on_packet(p)
                elif key in self._flood and p.flags & SYN:
                    self._flood[key] = True
                self._cond.notify_all()

    def _source(self, dst_ip, src):
        if isinstance(src, tuple):
            ip, port = src
        else:
            ip, port = src, None
        if ip is None:
            ip = LIP6 if ':' in dst_ip else LIP4
        ip = str(ipaddress.ip_address(ip))
        if (':' in ip) != (':' in dst_ip):
            raise ValueError('source %s and destination %s are of different '
                             'families' % (ip, dst_ip))
        if port is None:
            port = self._alloc_port(ip, dst_ip)
        return ip, port

    def _alloc_port(self, src, dst):
        while True:
            port = self._next_port
            self._next_port = port + 1 if port < 65535 else 1024
            if not any(k[0] == src and k[1] == port for k in self._conns):
                return port

    def connect(self, dst, option=b'', src=None, raw=False, timeout=None,
                mss=None):
        """Handshake with the RS at dst=(ip, port); the final ACK carries
        `option`. Returns the established Conn once that ACK is written."""
        dst_ip = str(ipaddress.ip_address(dst[0]))
        with self._cond:
            src_ip, sport = self._source(dst_ip, src)
            conn = Conn(self, src_ip, sport, dst_ip, dst[1])
            if conn._key() in self._conns:
                raise OSError(errno.EADDRINUSE, '%s is already open' % conn._name())
            self._conns[conn._key()] = conn
        try:
            conn._handshake(option, raw, mss, timeout)
        except BaseException:
            with self._cond:
                conn._forget()
            raise
        return conn

    def syn_flood(self, dst, count, src=None, wait=0.5):
        """`count` SYNs from successive source ports, never ACKed, to fill the
        RS's SYN queue. Returns how many SYN-ACKs came back within `wait` s."""
        dst_ip = str(ipaddress.ip_address(dst[0]))
        keys = []
        with self._cond:
            for _ in range(count):
                src_ip, sport = self._source(dst_ip, src)
                conn = Conn(self, src_ip, sport, dst_ip, dst[1])
                keys.append(conn._key())
                self._flood[conn._key()] = False
                conn._emit(SYN, options=opt(OPT_MSS, struct.pack('!H', 1400)))
            self._cond.wait_for(lambda: all(self._flood[k] for k in keys), wait)
            return sum(self._flood.pop(k) for k in keys)
