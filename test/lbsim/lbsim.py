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

The parts, one job each, import one way (a part only from those before it;
test/lbsim/lbsim_test.py checks it): packet.py (the codec), options.py (the
option encoders and cases), hostnet.py (lbsim0, the network plan, Sysctl,
listen, netstat), tcp.py (LB and Conn), capture.py (Capture), cli.py (the
command line). This file re-exports their public names, which is all the
suites and tools use, and runs the command line.
"""
import sys

from packet import (ACK, EOL, FIN, NOP, OPT_MSS, PSH, RST, SYN,  # noqa: F401
                    Packet, addr_bytes, checksum, ip_packet, pad_options,
                    parse_packet, tcp_segment, walk_options)
from options import (CLIENT4, CLIENT6, Case, after_eol,  # noqa: F401
                     behind_nops, opt, option_cases, resize, rs_kernel_drops,
                     set_len, toa_v4, toa_v6, truncated, ttm_peer)
from hostnet import (IFNAME, LIP4, LIP6, RS4, RS6, STATE_FILE,  # noqa: F401
                     UNTRUSTED4, UNTRUSTED6, UNTRUSTED_NET4, UNTRUSTED_NET6,
                     Sysctl, listen, net_down, net_up, netstat)
from tcp import LB, Conn  # noqa: F401
from capture import Capture  # noqa: F401
from cli import main

if __name__ == '__main__':
    sys.exit(main())
