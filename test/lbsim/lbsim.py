#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""lbsim — the packet-exact face of the load-balancer simulator.

Design note. A FULLNAT load balancer talks to the real server (RS) from its own
local IP (lip) and puts the client's address into a TCP option of the ACK that
completes the handshake. This module plays that LB from user space on a TUN
device: every packet toward the RS is built here byte by byte (so any option
bytes, well-formed or not, reach the RS kernel exactly as given) and every
packet from the RS is read back from the TUN. It is a deliberately small TCP:
handshake, data, ACKs, FIN or RST close, no retransmission (the path is a local
TUN; nothing is lost) — a missing answer is a clear TimeoutError instead.
Everything is deterministic: source ports count up from the seed, ISNs and IP
ids are hashes of (seed, 4-tuple), so the same inputs give the same packets.
Python 3 standard library only: it runs under Debian's /usr/bin/python3 in the VM.

Guest network plan (test/README.md): TUN `lbsim0` holds the RS addresses
10.200.0.1/24 and fd00:200::1/64; the LB's lip is 10.200.0.2 / fd00:200::2;
198.51.100.0/24 and 2001:db8:200::/64 are routed via lbsim0 as untrusted
sources (198.51.100.2, 2001:db8:200::2).

Python API (root needed for LB and Capture; the encoders need nothing):

    import sys; sys.path.insert(0, 'test/lbsim')
    import lbsim
    with lbsim.LB(seed=0) as lb:             # creates lbsim0, or attaches to a
                                             # persistent one made by `lbsim.py up`
        opt = lbsim.toa_v4('203.0.113.7', 4242)
        c = lb.connect((lb.RS4, 8080), option=opt)   # returns once the ACK
                                             # carrying `opt` has been written
        c.send(b'ping')
        c.recv_until(4)                      # n bytes | b'delim' | callable(buf)
                                             # | None (until the server's FIN)
        c.close()                            # FIN, waits for the server's FIN
        # c.reset()                          # or RST
        lb.connect((lb.RS6, 8080), option=..., src=(lb.UNTRUSTED6, 5555))
        lb.syn_flood((lb.RS4, 8080), 64)     # half-open SYNs, never ACKed

  connect(dst, option=b'', src=None, raw=False, timeout=None, mss=None)
    option: bytes written verbatim after the 20-byte TCP header of the final
    ACK, padded with EOL (zero) bytes to a multiple of 4; raw=True writes them
    exactly (length must then be a multiple of 4, at most 40).
    src: None (lip of dst's family, next port), an IP string, or (ip, port).
  Conn attributes: sport, src, dst, dport, isn, server_isn, server_mss,
    server_fin, server_rst, received bytes not yet returned in `buffer`, and
    synack_retransmits: SYN-ACKs repeated by the RS, i.e. our handshake ACK
    was dropped (each is answered with the same ACK and option again).
  Errors: TimeoutError (no answer in time: the message says what was
    awaited), ConnectionRefusedError (the RS answered the SYN with RST),
    ConnectionResetError (RS reset an established connection).

Option encoders (return bytes; see README.md's wire-format table):
  toa_v4(ip, port, kind=254)   kind/8:  port(2) ip(4)       (kind=200: FULLNAT)
  toa_v6(ip6, port, kind=254)  kind/20: port(2) ip6(16)     (kind=253: Alibaba)
  ttm_peer(af, addr, port, af_byteorder='little'|'big')  254/22: af port addr16
  opt(kind, payload), NOP, EOL, and for malformed cases: set_len(o, n) (length
  byte only), resize(o, n) (length byte and body), behind_nops(o, n),
  after_eol(o), truncated(o, keep) (ends the header mid-option: use raw=True).
  option_cases(client4, client6) names every case used by the tests and the
  CLI: name -> Case(option, raw, client) where client is the address the
  option carries, or None when a parser must not trust it.

Capture (AF_PACKET on lbsim0, independent of the simulator's own view):
  with lbsim.Capture() as cap: ...; cap.handshake_ack(conn) -> Packet
  (Packet: src sport dst dport seq ack flags flag_str options payload csum_ok
  dir), cap.wait_for(predicate), cap.packets; parse_packet(bytes),
  walk_options(bytes) -> [(kind, body)] for other captures.
Guest helpers: Sysctl('net/ipv4/tcp_syncookies', 2) (restores on exit),
  netstat('SyncookiesSent', 'SyncookiesRecv') -> TcpExt counters.

CLI (for non-Python suites; prints one JSON line, exit 0, or {"error": ...}, 1):
  lbsim.py request --dst 10.200.0.1:8080 [--src 10.200.0.2] [--sport N]
      [--seed N] [--format NAME|hex:<option hex>] [--raw]
      [--client 203.0.113.7:4242 | '[2001:db8:1::7]:4242']
      [--send 'GET / HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n' | --send-hex HEX]
      [--expect-close] [--close fin|rst|none] [--idle S] [--timeout S]
      [--capture]
    -> {"src","sport","dst","dport","option","reply","reply_hex",
        "closed_by_server","reset_by_server"[, "wire_option"]}
    NAME is one of option_cases(): none toa4 toa6 ttm4 ttm4be ttm6 ttm6be
    k200 k253 nops-toa4 len0 len1 overlong truncated after-eol wrong-len ...
    (`lbsim.py formats` lists them with their bytes). Without --expect-close
    the reply is what arrived until --idle seconds of silence.
  lbsim.py up | down      make / remove a persistent lbsim0 that later
                          `request` runs and LB() attach to (no per-run setup)
  lbsim.py capture [--count N] [--duration S]   JSON line per TCP packet
  lbsim.py formats [--client ...]               JSON line per option case
"""
import argparse
import codecs
import collections
import contextlib
import errno
import fcntl
import ipaddress
import json
import os
import select
import socket
import stat
import struct
import subprocess
import sys
import threading
import time
import zlib

IFNAME = 'lbsim0'
RS4, RS6 = '10.200.0.1', 'fd00:200::1'
LIP4, LIP6 = '10.200.0.2', 'fd00:200::2'
UNTRUSTED4, UNTRUSTED6 = '198.51.100.2', '2001:db8:200::2'
UNTRUSTED_NET4, UNTRUSTED_NET6 = '198.51.100.0/24', '2001:db8:200::/64'

FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10
EOL, NOP = b'\x00', b'\x01'
OPT_MSS = 2

# ---------------------------------------------------------------------------
# Bytes on the wire: checksums, building and parsing packets.


def checksum(data):
    """RFC 1071 Internet checksum of `data` (odd length padded with zero)."""
    if len(data) % 2:
        data += b'\x00'
    total = sum(struct.unpack('!%dH' % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xffff) + (total >> 16)
    return ~total & 0xffff


def addr_bytes(ip):
    """'10.0.0.1' -> 4 bytes, 'fd00::1' -> 16 bytes."""
    return ipaddress.ip_address(ip).packed


def _pseudo_header(src, dst, length):
    if len(src) == 4:
        return src + dst + struct.pack('!BBH', 0, socket.IPPROTO_TCP, length)
    return src + dst + struct.pack('!I3xB', length, socket.IPPROTO_TCP)


def tcp_segment(src, dst, sport, dport, seq, ack, flags, window=65535,
                options=b'', payload=b''):
    """TCP header + payload with a correct checksum; src/dst are address
    strings or packed bytes. `options` must already be a multiple of 4."""
    src, dst = _packed(src), _packed(dst)
    if len(options) % 4 or len(options) > 40:
        raise ValueError('TCP options must be a multiple of 4, at most 40 '
                         'bytes, got %d' % len(options))
    doff = (20 + len(options)) // 4
    head = struct.pack('!HHIIHHHH', sport, dport, seq & 0xffffffff,
                       ack & 0xffffffff, doff << 12 | flags, window, 0, 0)
    seg = head + options + payload
    csum = checksum(_pseudo_header(src, dst, len(seg)) + seg)
    return seg[:16] + struct.pack('!H', csum) + seg[18:]


def ip_packet(src, dst, segment, ident=0, ttl=64):
    """IPv4 (DF set, header checksum) or IPv6 packet around a TCP segment."""
    src, dst = _packed(src), _packed(dst)
    if len(src) == 4:
        head = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(segment),
                           ident & 0xffff, 0x4000, ttl, socket.IPPROTO_TCP, 0,
                           src, dst)
        head = head[:10] + struct.pack('!H', checksum(head)) + head[12:]
        return head + segment
    return struct.pack('!IHBB16s16s', 6 << 28, len(segment),
                       socket.IPPROTO_TCP, ttl, src, dst) + segment


def _packed(ip):
    return ip if isinstance(ip, bytes) else addr_bytes(ip)


class Packet:
    """A parsed IPv4/IPv6 TCP packet. Addresses are strings; `options` are the
    header bytes between the fixed 20-byte header and the data offset."""
    __slots__ = ('family', 'src', 'dst', 'sport', 'dport', 'seq', 'ack',
                 'flags', 'window', 'options', 'payload', 'csum_ok', 'ident',
                 'raw', 'dir')

    def __init__(self, **kw):
        self.dir = None
        for k, v in kw.items():
            setattr(self, k, v)

    @property
    def flag_str(self):
        return ''.join(c for bit, c in ((FIN, 'F'), (SYN, 'S'), (RST, 'R'),
                                         (PSH, 'P'), (ACK, 'A'))
                       if self.flags & bit)

    def __repr__(self):
        return '<%s %s:%d > %s:%d [%s] seq=%d ack=%d opt=%s len=%d>' % (
            self.family, self.src, self.sport, self.dst, self.dport,
            self.flag_str, self.seq, self.ack, self.options.hex(),
            len(self.payload))

    def as_json(self):
        return {'dir': self.dir, 'src': self.src, 'sport': self.sport,
                'dst': self.dst, 'dport': self.dport, 'flags': self.flag_str,
                'seq': self.seq, 'ack': self.ack, 'window': self.window,
                'options': self.options.hex(), 'len': len(self.payload),
                'csum_ok': self.csum_ok}


def parse_packet(data):
    """Packet for an IPv4/IPv6 TCP packet (no IPv6 extension headers), None
    for anything else (the kernel also sends MLD, RS... on the TUN)."""
    if len(data) < 20:
        return None
    version = data[0] >> 4
    if version == 4:
        ihl = (data[0] & 15) * 4
        total, ident, frag, proto = struct.unpack('!HHHxB', data[2:10])
        if proto != socket.IPPROTO_TCP or frag & 0x3fff:
            return None
        src, dst, l4 = data[12:16], data[16:20], data[ihl:total]
    elif version == 6 and len(data) >= 40:
        plen, nh = struct.unpack('!HB', data[4:7])
        if nh != socket.IPPROTO_TCP:
            return None
        ident, src, dst, l4 = None, data[8:24], data[24:40], data[40:40 + plen]
    else:
        return None
    if len(l4) < 20:
        return None
    sport, dport, seq, ack, off_flags, window = struct.unpack('!HHIIHH', l4[:16])
    doff = (off_flags >> 12) * 4
    return Packet(family='ip4' if version == 4 else 'ip6',
                  src=str(ipaddress.ip_address(src)),
                  dst=str(ipaddress.ip_address(dst)), sport=sport, dport=dport,
                  seq=seq, ack=ack, flags=off_flags & 0x1ff, window=window,
                  options=bytes(l4[20:doff]), payload=bytes(l4[doff:]),
                  csum_ok=checksum(_pseudo_header(src, dst, len(l4)) + l4) == 0,
                  ident=ident, raw=bytes(data))


def walk_options(options):
    """(kind, body) pairs of a TCP option area, stopping like the kernel does
    at EOL, a length below 2, or a length past the end."""
    i, out = 0, []
    while i < len(options):
        kind = options[i]
        if kind == 0:
            break
        if kind == 1:
            i += 1
            continue
        if i + 1 >= len(options) or options[i + 1] < 2 or \
                i + options[i + 1] > len(options):
            break
        out.append((kind, options[i + 2:i + options[i + 1]]))
        i += options[i + 1]
    return out


def pad_options(option, raw=False):
    """Option area as written: padded with EOL to a multiple of 4 unless raw."""
    option = bytes(option)
    if not raw:
        option += EOL * (-len(option) % 4)
    if len(option) % 4 or len(option) > 40:
        raise ValueError('option area of %d bytes: a TCP header holds a '
                         'multiple of 4, at most 40 (raw=%s)' % (len(option), raw))
    return option


# ---------------------------------------------------------------------------
# Option encoders (README.md, the wire-format table) and malformed variants.


def opt(kind, payload=b''):
    """Generic option: kind, length (2 + payload), payload."""
    return bytes([kind, 2 + len(payload)]) + bytes(payload)


def toa_v4(ip, port, kind=254):
    """TOA v4: kind/8, port (network order), IPv4. kind=200 for FULLNAT."""
    return opt(kind, struct.pack('!H', port) + _packed_family(ip, 4))


def toa_v6(ip6, port, kind=254):
    """TOA v6: kind/20, port, IPv6. kind=253 for Alibaba's v6."""
    return opt(kind, struct.pack('!H', port) + _packed_family(ip6, 16))


def ttm_peer(af, addr, port, af_byteorder='little'):
    """The gateway's ttm_peer: 254/22, af (2, given byte order), port
    (network order), address (16, IPv4 in the first 4 bytes)."""
    af = {'inet': 2, 'inet6': 10}.get(af, af)
    raw = _packed(addr)
    return opt(254, int(af).to_bytes(2, af_byteorder) + struct.pack('!H', port)
               + raw + bytes(16 - len(raw)))


def _packed_family(ip, size):
    raw = _packed(ip)
    if len(raw) != size:
        raise ValueError('%r is not an IPv%d address' % (ip, 4 if size == 4 else 6))
    return raw


def set_len(option, length):
    """The same bytes with only the length byte changed (len 0, len 1,
    overlong: the length then claims bytes that belong to what follows)."""
    return option[:1] + bytes([length]) + option[2:]


def resize(option, length):
    """A self-consistent option of the wrong length for its kind: length byte
    and body both `length` (body cut, or extended with zeros)."""
    body = option[2:length] + bytes(max(0, length - len(option)))
    return bytes([option[0], length]) + body


def behind_nops(option, count=2):
    return NOP * count + option


def after_eol(option):
    """An option after End of Option List: a parser must not see it."""
    return EOL + option


def truncated(option, keep):
    """The first `keep` bytes of `option`, NOP-prefixed to a multiple of 4 so
    that the header ends inside the option. Write it with raw=True."""
    return NOP * (-keep % 4) + option[:keep]


Case = collections.namedtuple('Case', 'option raw client')

CLIENT4 = ('203.0.113.7', 4242)
CLIENT6 = ('2001:db8:1::7', 4242)


def option_cases(client4=CLIENT4, client6=CLIENT6):
    """Every option case by name -> Case(option bytes, raw, client), where
    client is the (ip, port) the option carries when a parser should trust it
    (by kind and length), else None. Shared by tests and the CLI."""
    ip4, p4 = client4
    ip6, p6 = client6
    t4 = toa_v4(ip4, p4)
    cases = {
        'none': Case(b'', False, None),
        'toa4': Case(t4, False, client4),
        'toa6': Case(toa_v6(ip6, p6), False, client6),
        'ttm4': Case(ttm_peer(2, ip4, p4, 'little'), False, client4),
        'ttm4be': Case(ttm_peer(2, ip4, p4, 'big'), False, client4),
        'ttm6': Case(ttm_peer(10, ip6, p6, 'little'), False, client6),
        'ttm6be': Case(ttm_peer(10, ip6, p6, 'big'), False, client6),
        'k200': Case(toa_v4(ip4, p4, kind=200), False, client4),
        'k253': Case(toa_v6(ip6, p6, kind=253), False, client6),
        'nops-toa4': Case(behind_nops(t4, 3), False, client4),
        'mss-toa4': Case(opt(OPT_MSS, struct.pack('!H', 1460)) + t4, False, client4),
        # malformed: a parser must report nothing
        'len0': Case(set_len(t4, 0), False, None),
        'len1': Case(set_len(t4, 1), False, None),
        'overlong': Case(set_len(t4, 10) + NOP * 4, False, None),
        'truncated': Case(truncated(t4, 6), True, None),
        'truncated-toa6': Case(truncated(toa_v6(ip6, p6), 18), True, None),
        'past-end': Case(NOP * 4 + set_len(toa_v6(ip6, p6), 22), True, None),
        'after-eol': Case(after_eol(t4), False, None),
        'wrong-len': Case(resize(t4, 10), False, None),
        'wrong-len-ttm': Case(resize(ttm_peer(2, ip4, p4), 24), False, None),
        'ttm-bad-af': Case(ttm_peer(7, ip4, p4), False, None),
    }
    return cases


def rs_kernel_drops(option, raw=False, release=None):
    """Whether the RS's kernel drops a segment carrying `option` (padded as
    pad_options sends it) before TCP reads it, so that no connection exists.

    From 6.7 (TCP-AO's rework of the MD5 path), tcp_inbound_hash() walks every
    segment's options in tcp_do_parse_auth_options() and drops the segment
    (SKB_DROP_REASON_TCP_AUTH_HDR) at an option whose length is below 2 or
    runs past the header; the walk goes on only while 18 bytes
    (TCPOLEN_MD5SIG) remain, on kernels built with TCP_MD5SIG and without
    TCP_AO, as Debian's are. Earlier kernels skip what does not fit, and the
    kgwttm parsers count it as malformed. `release` defaults to this kernel's.
    """
    release = release or os.uname().release
    if tuple(int(n) for n in release.split('-')[0].split('.')[:2]) < (6, 7):
        return False
    data = pad_options(option, raw)
    i, length = 0, len(data)
    while length >= 18:
        kind = data[i]
        if kind == EOL[0]:
            return False
        if kind == NOP[0]:
            i, length = i + 1, length - 1
            continue
        size = data[i + 1]
        if size < 2 or size > length:
            return True
        i, length = i + size, length - size
    return False


# ---------------------------------------------------------------------------
# The TUN device and the guest network plan.

TUNSETIFF, TUNSETPERSIST = 0x400454ca, 0x400454cb
IFF_TUN, IFF_NO_PI = 0x0001, 0x1000
STATE_FILE = '/run/lbsim0.json'  # sysctls to restore at `down`


def _sysctl(path, value=None):
    path = '/proc/sys/' + path
    with open(path) as f:
        old = f.read().strip()
    if value is not None:
        with open(path, 'w') as f:
            f.write(str(value))
    return old


def _ip(*commands):
    """Run iproute2 commands in one process (`ip -batch`): each exec costs
    about a second in the TCG guest."""
    res = subprocess.run(['ip', '-batch', '-'], input='\n'.join(commands) + '\n',
                         capture_output=True, text=True)
    if res.returncode:
        raise OSError('ip -batch: %s' % res.stderr.strip())


def _tun_node():
    """/dev/net/tun, loading `tun` and making the node if need be: a
    minimal guest (busybox init, no udev) has neither at boot."""
    path = '/dev/net/tun'
    if not os.path.exists(path):
        subprocess.run(['modprobe', 'tun'], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    if not os.path.exists(path):
        os.makedirs('/dev/net', exist_ok=True)
        os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(10, 200))
    return path


def _tun_attach(name):
    fd = os.open(_tun_node(), os.O_RDWR)
    try:
        fcntl.ioctl(fd, TUNSETIFF, struct.pack('16sH', name.encode(),
                                               IFF_TUN | IFF_NO_PI))
    except OSError as e:
        os.close(fd)
        if e.errno == errno.EBUSY:
            raise OSError(e.errno, '%s is in use by another process (only one '
                          'simulator at a time can own the TUN)' % name) from None
        raise
    return fd


def _configure(name):
    """Addresses, routes and sysctls of the network plan on a fresh TUN.
    Returns the global sysctls changed, {path: old value}, to restore."""
    changed = {}
    for key in ('net/ipv6/conf/%s/disable_ipv6' % name,
                'net/ipv6/conf/%s/accept_dad' % name,
                'net/ipv6/conf/%s/dad_transmits' % name,
                'net/ipv6/conf/%s/router_solicitations' % name,
                'net/ipv4/conf/%s/rp_filter' % name):
        _sysctl(key, 0)
    _sysctl('net/ipv6/conf/%s/addr_gen_mode' % name, 1)  # no link-local chatter
    if _sysctl('net/ipv4/conf/all/rp_filter') != '0':
        changed['net/ipv4/conf/all/rp_filter'] = _sysctl('net/ipv4/conf/all/rp_filter', 0)
    _ip('link set %s up' % name,
        'addr add %s/24 dev %s' % (RS4, name),
        'addr add %s/64 dev %s nodad' % (RS6, name),
        'route add %s dev %s' % (UNTRUSTED_NET4, name),
        'route add %s dev %s' % (UNTRUSTED_NET6, name))
    return changed


def _restore(changed):
    for key, value in changed.items():
        _sysctl(key, value)


class Sysctl:
    """Context manager: /proc/sys/<path> set to `value`, then restored
    (e.g. Sysctl('net/ipv4/tcp_syncookies', 2))."""

    def __init__(self, path, value):
        self.path, self.value = path, value

    def __enter__(self):
        self.old = _sysctl(self.path, self.value)
        return self

    def __exit__(self, *exc):
        _sysctl(self.path, self.old)


def listen(addr, port, family=None, v6only=None, backlog=64, timeout=10):
    """A listening TCP socket on addr:port for a test's server side (the
    family follows the address unless given; v6only=0 makes `::` dual-stack)."""
    family = family or (socket.AF_INET6 if ':' in addr else socket.AF_INET)
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if v6only is not None:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, v6only)
    s.bind((addr, port))
    s.listen(backlog)
    s.settimeout(timeout)
    return s


def netstat(*names):
    """TcpExt counters from /proc/net/netstat, e.g. netstat('SyncookiesSent')."""
    with open('/proc/net/netstat') as f:
        lines = [line.split() for line in f if line.startswith('TcpExt:')]
    row = dict(zip(lines[0][1:], map(int, lines[1][1:])))
    return tuple(row[n] for n in names)


def net_up(name=IFNAME):
    """Persistent lbsim0 with the network plan (`lbsim.py up`)."""
    fd = _tun_attach(name)
    try:
        fcntl.ioctl(fd, TUNSETPERSIST, 1)
        changed = _configure(name)
    except BaseException:
        fcntl.ioctl(fd, TUNSETPERSIST, 0)
        os.close(fd)
        raise
    os.close(fd)
    with open(STATE_FILE, 'w') as f:
        json.dump(changed, f)


def net_down(name=IFNAME):
    if not os.path.exists('/sys/class/net/' + name):
        return
    fd = _tun_attach(name)
    fcntl.ioctl(fd, TUNSETPERSIST, 0)
    os.close(fd)  # the last close of a non-persistent TUN deletes it
    if os.path.exists(STATE_FILE):
        with open(STATE_FILE) as f:
            _restore(json.load(f))
        os.unlink(STATE_FILE)


# ---------------------------------------------------------------------------
# The load balancer: a small TCP per connection, one reader thread for all.


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
        self._fd = _tun_attach(self.ifname)
        self.created = not existed
        try:
            if self.created:
                self._changed = _configure(self.ifname)
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
            _restore(self._changed)

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


# ---------------------------------------------------------------------------
# Capture: what the RS kernel really received and sent, via AF_PACKET.

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4


class Capture:
    """Packets on `ifname` seen by a packet socket (as tcpdump sees them),
    collected by a thread. Packet.dir is 'in' (toward the RS kernel, i.e.
    from the LB) or 'out' (sent by the RS kernel)."""

    def __init__(self, ifname=IFNAME):
        self.ifname = ifname
        self.packets = []
        self._cond = threading.Condition()

    def __enter__(self):
        self._sock = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM,
                                   socket.htons(ETH_P_ALL))
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self._sock.bind((self.ifname, ETH_P_ALL))
        self._stop_r, self._stop_w = os.pipe()
        self._thread = threading.Thread(target=self._loop, daemon=True,
                                        name='lbsim-capture')
        self._thread.start()
        return self

    def __exit__(self, *exc):
        os.write(self._stop_w, b'x')
        self._thread.join()
        self._sock.close()
        os.close(self._stop_r)
        os.close(self._stop_w)

    def _loop(self):
        while True:
            ready, _, _ = select.select([self._sock, self._stop_r], [], [])
            if self._stop_r in ready:
                return
            data, addr = self._sock.recvfrom(65536)
            p = parse_packet(data)
            if p is None:
                continue
            p.dir = 'out' if addr[2] == PACKET_OUTGOING else 'in'
            with self._cond:
                self.packets.append(p)
                self._cond.notify_all()

    def wait_for(self, predicate, timeout=2.0):
        """The first captured Packet matching predicate(p), waiting for it."""
        found = []

        def match():
            found[:] = [p for p in self.packets if predicate(p)][:1]
            return found
        with self._cond:
            if not self._cond.wait_for(match, timeout):
                raise TimeoutError('capture on %s: no matching packet within '
                                   '%.1fs (%d captured)' % (self.ifname, timeout,
                                                            len(self.packets)))
        return found[0]

    def handshake_ack(self, conn, timeout=2.0):
        """The ACK that completed `conn`'s handshake, as the RS received it
        (matched on the 4-tuple and our ISN + 1, without data)."""
        return self.wait_for(
            lambda p: p.dir == 'in' and p.src == conn.src and
            p.sport == conn.sport and p.dst == conn.dst and
            p.dport == conn.dport and p.flags == ACK and
            p.seq == (conn.isn + 1) & 0xffffffff and not p.payload, timeout)


# ---------------------------------------------------------------------------
# CLI.


def _parse_hostport(text):
    if text.startswith('['):
        host, _, port = text[1:].partition(']:')
    else:
        host, _, port = text.rpartition(':')
    if not host or not port:
        raise ValueError('expected IP:PORT or [IPv6]:PORT, got %r' % text)
    return str(ipaddress.ip_address(host)), int(port)


def _clients(client):
    """(client4, client6) for option_cases: the given one in its family."""
    if client is None:
        return CLIENT4, CLIENT6
    if ':' in client[0]:
        return CLIENT4, client
    return client, CLIENT6


def _case_option(fmt, client, raw):
    if fmt.startswith('hex:'):
        return bytes.fromhex(fmt[4:]), raw
    case = option_cases(*_clients(client)).get(fmt)
    if case is None:
        raise ValueError('unknown --format %r (see `lbsim.py formats`)' % fmt)
    if client and case.client and case.client != client:
        raise ValueError('--format %s carries an IPv%s client, --client is %s'
                         % (fmt, '6' if ':' in case.client[0] else '4', client[0]))
    return case.option, case.raw or raw


def _cmd_request(args):
    dst = _parse_hostport(args.dst)
    option, raw = _case_option(args.format, args.client and
                               _parse_hostport(args.client), args.raw)
    payload = b''
    if args.send is not None:
        payload = codecs.escape_decode(args.send.encode())[0]
    elif args.send_hex is not None:
        payload = bytes.fromhex(args.send_hex)
    src = (args.src, args.sport) if args.sport else args.src
    with contextlib.ExitStack() as stack:
        lb = stack.enter_context(LB(seed=args.seed, timeout=args.timeout))
        cap = stack.enter_context(Capture(lb.ifname)) if args.capture else None
        c = lb.connect(dst, option=option, src=src, raw=raw)
        out = {'src': c.src, 'sport': c.sport, 'dst': c.dst, 'dport': c.dport,
               'option': pad_options(option, raw).hex()}
        if payload:
            c.send(payload)
        if args.expect_close:
            reply = c.recv_until(None)
        elif payload:
            reply = c.recv_quiet(args.idle)
        else:
            reply = b''
        try:
            text = reply.decode()
        except UnicodeDecodeError:
            text = None
        out.update(reply=text, reply_hex=reply.hex(),
                   closed_by_server=c.server_fin, reset_by_server=c.server_rst)
        if args.close == 'fin':
            c.close()
        elif args.close == 'rst':
            c.reset()
        if cap:
            out['wire_option'] = cap.handshake_ack(c).options.hex()
    print(json.dumps(out))


def _cmd_capture(args):
    end = time.monotonic() + args.duration
    seen = 0
    with Capture(args.iface) as cap:
        while seen < args.count and time.monotonic() < end:
            with cap._cond:
                cap._cond.wait_for(lambda: len(cap.packets) > seen,
                                   max(0, end - time.monotonic()))
                new = cap.packets[seen:args.count]
            for p in new:
                print(json.dumps(p.as_json()), flush=True)
            seen += len(new)


def _cmd_formats(args):
    cases = option_cases(*_clients(args.client and _parse_hostport(args.client)))
    for name, case in cases.items():
        print(json.dumps({'name': name, 'option': case.option.hex(),
                          'raw': case.raw, 'client': case.client}))


def main(argv=None):
    ap = argparse.ArgumentParser(prog='lbsim.py', description=__doc__.split(
        '\n')[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest='cmd', required=True)
    r = sub.add_parser('request', help='one connection: handshake with an '
                       'option, send, read the reply, close')
    r.add_argument('--dst', required=True, help='RS IP:PORT or [IPv6]:PORT')
    r.add_argument('--src', help='LB source IP (default: the lip)')
    r.add_argument('--sport', type=int)
    r.add_argument('--seed', type=int, default=0)
    r.add_argument('--format', default='none',
                   help='an option case name, or hex:<raw option bytes>')
    r.add_argument('--client', help='client IP:PORT the option carries')
    r.add_argument('--raw', action='store_true', help='no EOL padding')
    g = r.add_mutually_exclusive_group()
    g.add_argument('--send', help=r'text, with \r \n \xNN escapes')
    g.add_argument('--send-hex')
    r.add_argument('--expect-close', action='store_true',
                   help="read the reply until the RS's FIN")
    r.add_argument('--close', choices=('fin', 'rst', 'none'), default='fin')
    r.add_argument('--idle', type=float, default=0.3,
                   help='reply complete after this many seconds of silence')
    r.add_argument('--timeout', type=float, default=5.0)
    r.add_argument('--capture', action='store_true',
                   help='add wire_option: the ACK option bytes as captured')
    sub.add_parser('up', help='create a persistent, configured lbsim0')
    sub.add_parser('down', help='remove the persistent lbsim0')
    c = sub.add_parser('capture', help='print TCP packets on lbsim0 as JSON')
    c.add_argument('--iface', default=IFNAME)
    c.add_argument('--count', type=int, default=1 << 30)
    c.add_argument('--duration', type=float, default=10.0)
    f = sub.add_parser('formats', help='print every option case as JSON')
    f.add_argument('--client', help='IP:PORT (default 203.0.113.7:4242 and '
                   '[2001:db8:1::7]:4242)')
    args = ap.parse_args(argv)
    try:
        if args.cmd == 'request':
            _cmd_request(args)
        elif args.cmd == 'up':
            net_up()
        elif args.cmd == 'down':
            net_down()
        elif args.cmd == 'capture':
            _cmd_capture(args)
        else:
            _cmd_formats(args)
    except (OSError, ValueError, EOFError) as e:
        print(json.dumps({'error': '%s: %s' % (type(e).__name__, e)}))
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
