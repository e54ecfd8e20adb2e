#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A TCP server behind a FULLNAT load balancer, as the gateway's documentation
shows it (there for Python 2): print the address accept() returns, then the
real client from getsockopt(SOL_IP, 1345), unpacked with
struct.Struct('!bbH4s12s') on a little-endian host.

    server.py [--count N] [ADDR] PORT      ADDR: 0.0.0.0 (default), :: or any IP
"""
import argparse
import socket
import struct
import sys

SOL_IP = 0               # socket.SOL_IP
TTM_SO_GET_PEER = 1345   # 64 + 1024 + 64 + 64 + 64 + 64 + 1
PEER = struct.Struct('!bbH4s12s')


def serve(s):
    ss, addr = s.accept()
    with ss:
        # 4to4: the client; 6to4: the load balancer's local IP
        print('get client info:', addr)
        print('getpeername:', ss.getpeername())
        try:
            raw = ss.getsockopt(SOL_IP, TTM_SO_GET_PEER, 20)
        except OSError as e:
            print('getsockopt failed:', e.strerror)
            return
        # af is a host-order u16: on little-endian hosts its first byte
        data = PEER.unpack(raw)
        print('port:', data[2])
        if data[0] == socket.AF_INET:
            print('ipv4:', socket.inet_ntop(socket.AF_INET, data[3]))
        else:
            print('ipv6:', socket.inet_ntop(socket.AF_INET6, data[3] + data[4]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--count', type=int, default=-1)
    ap.add_argument('addr', nargs='?', default='0.0.0.0')
    ap.add_argument('port', type=int)
    args = ap.parse_args()
    family = socket.AF_INET6 if ':' in args.addr else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((args.addr, args.port))
        s.listen(64)
        print('listening on %s port %d' % (args.addr, args.port), flush=True)
        while args.count != 0:
            serve(s)
            sys.stdout.flush()
            args.count -= 1


if __name__ == '__main__':
    main()
