# SPDX-License-Identifier: MIT
"""lbsim's TCP option cases: the encoders of README.md's wire-format table
(TOA v4 and v6, the gateway's ttm_peer), their malformed variants, and
option_cases(), every case the suites and the CLI name with the client a
parser should find in it; rs_kernel_drops() says which of them the RS's
kernel drops before TCP reads them."""
import collections
import os
import struct

from packet import EOL, NOP, OPT_MSS, packed, pad_options


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
    raw = packed(addr)
    return opt(254, int(af).to_bytes(2, af_byteorder) + struct.pack('!H', port)
               + raw + bytes(16 - len(raw)))


def _packed_family(ip, size):
    raw = packed(ip)
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
