# SPDX-License-Identifier: MIT
"""What the RS's kernel really received and sent on lbsim0: a capture by an
AF_PACKET socket, independent of the simulator's own view of its
connections."""
import os
import select
import socket
import threading

from hostnet import IFNAME
from packet import ACK, parse_packet

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
