# SPDX-License-Identifier: MIT
"""The kgwttm ABI of kmod/uapi/kgwttm.h, for the Python suites: the one
mirror of the header in Python, checked against it by
test/host/12-abi-mirrors.test.ts."""
import struct

TTM_SO_GET_PEER = 1345              # getsockopt(SOL_IP, ...)'s default optname
PEER = struct.Struct('=HH16s')      # struct ttm_peer: af (host order), port (raw), addr
AF_OFFSET, PORT_OFFSET, ADDR_OFFSET = 0, 2, 4
