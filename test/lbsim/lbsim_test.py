# SPDX-License-Identifier: MIT
"""Unit tests of lbsim that need no root and no kernel: checksums, packet
building and parsing against golden bytes (the SYN-ACKs were written by a
Linux 6.18 kernel on lbsim0, so their checksums are the kernel's own), option
encoders against README.md's wire-format table, the option-case table against a strict
reference parser, and the TCP state machine against a scripted peer.
Run by test/host/05-lbsim-unit.test.sh; prints TAP."""
import ast
import ipaddress
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.join(HERE, '..', 'lib')]
import cli  # noqa: E402  (the command line's parsing, not re-exported)
import lbsim  # noqa: E402
from tap import TAP  # noqa: E402

t = TAP()
H = bytes.fromhex

KERNEL_SYNACK4 = H('4500002c000040004006253a0ac800010ac800021f909c40ba0d4ef25c9c4863'
                   '6012faf01dc30000020405b4')
KERNEL_SYNACK6 = H('600fd94e00180640fd000200000000000000000000000001fd00020000000000'
                   '00000000000000021f909c412b46bbe6755fcf4a6012fd20b55c0000020405a0')
# our SYNs for seed 0, ports 40000 (v4) and 40001 (v6): the kernel answered
# them with the two SYN-ACKs above
SYN4 = H('4500002c3f6c40004006e5cd0ac800020ac800019c401f905c9c4862000000006002'
         'ffff21c50000020405b4')
SYN6 = H('6000000000180640fd000200000000000000000000000002fd000200000000000000'
         '0000000000019c411f90755fcf49000000006002ffff99bb0000020405a0')

t.equal(lbsim.checksum(H('0001f203f4f5f6f7')), 0x220d, 'checksum: RFC 1071 example')
t.equal(lbsim.checksum(H('0001f203f4f5f6f7ab')), lbsim.checksum(H('0001f203f4f5f6f7ab00')),
        'checksum: odd length is zero-padded')
t.equal(lbsim.checksum(KERNEL_SYNACK4[:20]), 0, 'checksum: a kernel IPv4 header sums to 0')


@t.test('parse: kernel IPv4 SYN-ACK')
def _():
    p = lbsim.parse_packet(KERNEL_SYNACK4)
    assert (p.family, p.src, p.sport, p.dst, p.dport) == \
        ('ip4', '10.200.0.1', 8080, '10.200.0.2', 40000), p
    assert (p.flag_str, p.seq, p.ack, p.window) == ('SA', 3121434354, 1553746019, 64240), p
    assert p.options == H('020405b4') and p.payload == b'' and p.csum_ok


@t.test('parse: kernel IPv6 SYN-ACK')
def _():
    p = lbsim.parse_packet(KERNEL_SYNACK6)
    assert (p.family, p.src, p.dst, p.flag_str) == ('ip6', 'fd00:200::1', 'fd00:200::2', 'SA')
    assert p.options == H('020405a0') and p.csum_ok


@t.test('build: the kernel SYN-ACKs rebuilt byte for byte')
def _():
    p = lbsim.parse_packet(KERNEL_SYNACK4)
    seg = lbsim.tcp_segment(p.src, p.dst, p.sport, p.dport, p.seq, p.ack, p.flags,
                            p.window, p.options)
    assert lbsim.ip_packet(p.src, p.dst, seg, ident=0) == KERNEL_SYNACK4
    p = lbsim.parse_packet(KERNEL_SYNACK6)
    seg = lbsim.tcp_segment(p.src, p.dst, p.sport, p.dport, p.seq, p.ack, p.flags,
                            p.window, p.options)
    # the kernel's flow label differs; the TCP segment and its checksum do not
    assert seg == KERNEL_SYNACK6[40:], seg.hex()
    assert lbsim.ip_packet(p.src, p.dst, seg)[4:] == KERNEL_SYNACK6[4:]


@t.test('parse: a corrupted byte fails the checksum; non-TCP is None')
def _():
    bad = bytearray(KERNEL_SYNACK4)
    bad[-1] ^= 1
    assert not lbsim.parse_packet(bytes(bad)).csum_ok
    icmp6 = KERNEL_SYNACK6[:6] + b'\x3a' + KERNEL_SYNACK6[7:]
    assert lbsim.parse_packet(icmp6) is None
    assert lbsim.parse_packet(b'\x45' + bytes(10)) is None

t.equal(lbsim.toa_v4('203.0.113.7', 4242), H('fe08' '1092' 'cb007107'),
        'toa_v4: 254/8, port, IPv4')
t.equal(lbsim.toa_v4('203.0.113.7', 4242, kind=200), H('c808' '1092' 'cb007107'),
        'toa_v4 kind 200')
t.equal(lbsim.toa_v6('2001:db8::1', 80), H('fe14' '0050' '20010db8000000000000000000000001'),
        'toa_v6: 254/20, port, IPv6')
t.equal(lbsim.toa_v6('2001:db8::1', 80, kind=253)[:2], H('fd14'), 'toa_v6 kind 253')
t.equal(lbsim.ttm_peer(2, '203.0.113.7', 4242),
        H('fe16' '0200' '1092' 'cb007107' + '00' * 12), 'ttm_peer: af 2 little-endian')
t.equal(lbsim.ttm_peer('inet', '203.0.113.7', 4242, 'big')[2:4], H('0002'),
        'ttm_peer: af 2 big-endian')
t.equal(lbsim.ttm_peer(10, '2001:db8::1', 80, 'big'),
        H('fe16' '000a' '0050' '20010db8000000000000000000000001'), 'ttm_peer: af 10 big-endian')
t.equal(lbsim.opt(30, b'xy'), H('1e04') + b'xy', 'opt: generic kind/len/payload')
t.equal(lbsim.set_len(lbsim.toa_v4('1.2.3.4', 1), 0), H('fe00' '0001' '01020304'),
        'set_len: only the length byte changes')
t.equal(lbsim.resize(lbsim.toa_v4('1.2.3.4', 1), 10), H('fe0a' '0001' '01020304' '0000'),
        'resize: length byte and body')
t.equal(lbsim.truncated(lbsim.toa_v4('1.2.3.4', 1), 6), H('0101' 'fe08' '0001' '0102'),
        'truncated: NOP-aligned, ends mid-option')


@t.test('toa_v4 refuses an IPv6 address and toa_v6 an IPv4 one')
def _():
    for fn, ip in ((lbsim.toa_v4, '::1'), (lbsim.toa_v6, '1.2.3.4')):
        try:
            fn(ip, 1)
        except ValueError:
            continue
        raise AssertionError('%s(%r) accepted' % (fn.__name__, ip))


@t.test('pad_options: EOL padding, raw kept exact, limits checked')
def _():
    assert lbsim.pad_options(H('fe16') + bytes(20)) == H('fe16') + bytes(22)
    assert lbsim.pad_options(H('010101fe')) == H('010101fe')
    for args in ((bytes(22), True), (bytes(41), False), (bytes(44), True)):
        try:
            lbsim.pad_options(*args)
        except ValueError:
            continue
        raise AssertionError('accepted %r' % (args,))


def reference_client(area):
    """Strict reader of README.md's wire-format table: (ip, port) of the first option whose
    (kind, length) is known, or None; stops at EOL, bad or overrunning length."""
    for kind, body in lbsim.walk_options(area):
        n = len(body) + 2
        if (kind, n) in ((254, 8), (200, 8)):
            return (ipaddress.ip_address(body[2:6]).compressed,
                    struct.unpack('!H', body[:2])[0])
        if (kind, n) in ((254, 20), (253, 20)):
            return (ipaddress.ip_address(body[2:18]).compressed,
                    struct.unpack('!H', body[:2])[0])
        if (kind, n) == (254, 22):
            for order in ('little', 'big'):
                af = int.from_bytes(body[:2], order)
                if af in (2, 10):
                    addr = body[4:8] if af == 2 else body[4:20]
                    return (ipaddress.ip_address(addr).compressed,
                            struct.unpack('!H', body[2:4])[0])
            return None
    return None


@t.test('option_cases: every case fits a header and says what it carries')
def _():
    cases = lbsim.option_cases()
    for name in ('toa4', 'toa6', 'ttm4', 'ttm4be', 'ttm6', 'k200', 'k253', 'len0',
                 'len1', 'overlong', 'truncated', 'after-eol', 'wrong-len', 'nops-toa4'):
        assert name in cases, name
    for name, case in cases.items():
        area = lbsim.pad_options(case.option, case.raw)
        got = reference_client(area)
        assert got == case.client, (name, area.hex(), got, case.client)
        if case.raw:  # raw cases end the header inside their last option
            assert area[-len(case.option):] == case.option


@t.test('walk_options stops like the kernel: EOL, len < 2, past the end')
def _():
    w = lbsim.walk_options
    assert w(H('0101020405b4')) == [(2, H('05b4'))]
    assert w(H('00fe0800010102030400')) == []
    assert w(H('fe01fe080001')) == []
    assert w(H('0101fe080001')) == []


@t.test('deterministic: ports count from the seed; same seed, same SYN bytes')
def _():
    out = []
    lb = lbsim.LB()
    lb._write = out.append
    assert [lb._alloc_port(lb.LIP4, lb.RS4) for _ in range(2)] == [40000, 40001]
    assert lbsim.LB(seed=1)._next_port == 47919
    c = lbsim.Conn(lb, lb.LIP4, 40000, lb.RS4, 8080)
    c._emit(lbsim.SYN, options=lbsim.opt(2, H('05b4')))
    c6 = lbsim.Conn(lb, lb.LIP6, 40001, lb.RS6, 8080)
    c6._emit(lbsim.SYN, options=lbsim.opt(2, H('05a0')))
    assert out == [SYN4, SYN6], [o.hex() for o in out]


class ScriptedRS:
    """Answers the LB's packets like a tiny RS: SYN-ACK (MSS 100, window
    1000), each data segment echoed in upper case, FIN-ACK to FIN. Records
    every packet it receives in `got`."""

    def __init__(self, lb):
        self.lb, self.got, self.nxt = lb, [], 1000

    def __call__(self, raw):
        p = lbsim.parse_packet(raw)
        assert p.csum_ok, p
        self.got.append(p)
        if p.flags & lbsim.SYN:
            self._answer(p, p.seq + 1, lbsim.SYN | lbsim.ACK, lbsim.opt(2, H('0064')))
        elif p.payload:
            self._answer(p, p.seq + len(p.payload), lbsim.ACK, data=p.payload.upper())
        elif p.flags & lbsim.FIN:
            self._answer(p, p.seq + 1, lbsim.FIN | lbsim.ACK)

    def _answer(self, p, ack, flags, opts=b'', data=b''):
        seg = lbsim.tcp_segment(p.dst, p.src, p.dport, p.sport, self.nxt, ack,
                                flags, 1000, opts, data)
        self.nxt += len(data) + (1 if flags & (lbsim.SYN | lbsim.FIN) else 0)
        conn = self.lb._conns[(p.src, p.sport, p.dst, p.dport)]
        conn._on_packet(lbsim.parse_packet(lbsim.ip_packet(p.dst, p.src, seg)))


@t.test('state machine: handshake with the option, segmented send, echo, close')
def _():
    lb = lbsim.LB(timeout=0.5)
    rs = lb._write = ScriptedRS(lb)
    option = lbsim.ttm_peer(2, '203.0.113.7', 4242)
    c = lb.connect((lb.RS4, 80), option=option)
    syn, ack = rs.got[0], rs.got[1]
    assert syn.flag_str == 'S' and syn.options == H('020405b4'), syn
    assert ack.flag_str == 'A' and ack.options == option + H('0000'), ack
    assert (ack.seq, ack.ack) == (c.isn + 1, 1001) and c.server_mss == 100
    c.send(b'a' * 250)
    assert [len(p.payload) for p in rs.got if p.payload] == [100, 100, 50]
    assert c.recv_until(b'AAA') == b'AAA' and len(c.recv_until(247)) == 247
    c.close()
    fin, last = rs.got[-2], rs.got[-1]
    assert fin.flag_str == 'FA' and last.flag_str == 'A' and last.ack == 1001 + 250 + 1
    assert c.state == 'CLOSED' and not lb._conns


@t.test('state machine: silence is a TimeoutError that says what was awaited')
def _():
    lb = lbsim.LB(timeout=0.1)
    lb._write = lambda raw: None
    try:
        lb.connect((lb.RS6, 80))
    except TimeoutError as e:
        assert 'no SYN-ACK' in str(e) and '[fd00:200::2]:40000' in str(e), e
    else:
        raise AssertionError('no TimeoutError')
    assert not lb._conns


@t.test('CLI: --format names and hex, --client family checked')
def _():
    opt, raw = cli._case_option('ttm6be', ('2001:db8::9', 80), False)
    assert opt == lbsim.ttm_peer(10, '2001:db8::9', 80, 'big') and not raw
    assert cli._case_option('hex:fe0a', None, True) == (H('fe0a'), True)
    assert cli._case_option('truncated', None, False)[1] is True
    assert cli._parse_hostport('[fd00:200::1]:8080') == ('fd00:200::1', 8080)
    try:
        cli._case_option('toa4', ('::1', 3), False)
    except ValueError:
        pass
    else:
        raise AssertionError('toa4 with an IPv6 client accepted')


# Each part of lbsim, and the parts it may import: those before it, never one
# after (STYLE.md: leaves parse or print, and the owners call them).
PARTS = {'packet': set(), 'options': {'packet'}, 'hostnet': set(),
         'tcp': {'packet', 'options', 'hostnet'}, 'capture': {'packet', 'hostnet'},
         'cli': {'packet', 'options', 'hostnet', 'tcp', 'capture'},
         'lbsim': {'packet', 'options', 'hostnet', 'tcp', 'capture', 'cli'}}


@t.test('the parts import one way: packet and hostnet are leaves, lbsim.py only re-exports')
def _():
    for part, allowed in PARTS.items():
        with open(os.path.join(HERE, part + '.py')) as f:
            tree = ast.parse(f.read())
        names = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                 for alias in node.names}
        names |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        used = names & (set(PARTS) | {'lbsim_test'})
        assert used <= allowed, '%s.py imports %s' % (part, sorted(used - allowed))
    on_disk = {name[:-3] for name in os.listdir(HERE)
               if name.endswith('.py') and name != 'lbsim_test.py'}
    assert on_disk == set(PARTS), 'parts not in the table: %s' % sorted(on_disk ^ set(PARTS))

sys.exit(t.end())
