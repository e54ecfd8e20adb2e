#!/bin/sh
# SPDX-License-Identifier: MIT
# test/lbsim/realstack/run-as-lb.sh --format toa4|toa6|ttm4|ttm6|none --client IP -- CMD ARGS...
#
# Sets what the LB writes (format + client address; the client port is always
# the connection's own local port), then runs CMD inside netns "lbsim" and the
# lbsim cgroup, so every TCP connection CMD opens completes its handshake with
# an ACK that carries the option.  Exit code is CMD's (2: usage/setup error).
# The work is done by lbsim-run (C, built by `make -C test/lbsim/realstack`);
# see README.md for the lock and the environment overrides.
HERE=$(cd "$(dirname "$0")" && pwd)
[ -x "$HERE/lbsim-run" ] || {
	echo "run-as-lb.sh: $HERE/lbsim-run missing: run 'make -C $HERE' on the host first" >&2
	exit 2
}
exec "$HERE/lbsim-run" "$@"
