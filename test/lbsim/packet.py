# SPDX-License-Identifier: MIT
"""lbsim's packet codec: IPv4 and IPv6 TCP packets to and from bytes
(RFC 1071 checksums, the pseudo-header, the TCP and IP headers), and the TCP
option area as the kernel walks it and as lbsim pads it. Pure functions, no
I/O: the leaf every other part of lbsim builds on."""
import ipaddress
import socket
import struct

FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10
EOL, NOP = b'\x00', b'\x01'
OPT_MSS = 2


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
    src, dst = packed(src), packed(dst)
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
    src, dst = packed(src), packed(dst)
    if len(src) == 4:
        head = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(segment),
                           ident & 0xffff, 0x4000, ttl, socket.IPPROTO_TCP, 0,
                           src, dst)
        head = head[:10] + struct.pack('!H', checksum(head)) + head[12:]
        return head + segment
    return struct.pack('!IHBB16s16s', 6 << 28, len(segment),
                       socket.IPPROTO_TCP, ttl, src, dst) + segment


def packed(ip):
    """An address string as its bytes; bytes as they are."""
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
