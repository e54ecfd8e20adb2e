#!/bin/sh
# SPDX-License-Identifier: MIT
# The LB simulator's own unit tests (encoders, checksums, packet building and
# parsing, TCP state machine): no root, no kernel. TAP on stdout.
exec /usr/bin/python3 "$(dirname "$0")/../lbsim/lbsim_test.py"
